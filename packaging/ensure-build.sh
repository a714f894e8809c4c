#!/usr/bin/env bash
# Shared by the README's two commands: install what is missing, configure once, build what changed.
# Run again with nothing changed, it costs a dpkg query and a no-op Ninja run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/packaging/install-deps.sh"
if [ ! -f "$root/build/build.ninja" ]; then
  cmake --preset default -S "$root" >/dev/null
fi
cmake --build "$root/build" -- -j"$(nproc)" | grep -vE '^\[[0-9]+/[0-9]+\]' || true
test -x "$root/build/app/continua-cli" || { echo "build failed" >&2; exit 1; }

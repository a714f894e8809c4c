#!/usr/bin/env bash
# README command 1: set up, build, then open the workbench with the quick-start experiment loaded. Where no
# display is available the same experiment runs headless through continua-cli, which prints a summary and
# where the run was stored. Extra arguments go to continua / continua-cli (e.g. --db PATH).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/packaging/ensure-build.sh"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$root/build/app/continua" ]; then
  exec "$root/build/app/continua" --preset quickstart "$@"
fi
echo "No display found: running the quick-start experiment headless with continua-cli."
exec "$root/build/app/continua-cli" run --preset quickstart "$@"

#!/usr/bin/env bash
# Builds the packages into dist/: continua_<v>-1_amd64.deb (the workbench), continua-cli_<v>-1_amd64.deb
# (engine and CLI, no Qt) and continua-cli-<v>-Linux-x86_64.tar.gz (the same, to unpack anywhere).
# Builds first if needed (packaging/ensure-build.sh). Install with: sudo apt install ./dist/continua*.deb
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/packaging/ensure-build.sh"
mkdir -p "$root/dist"
(cd "$root/build" && cpack -B "$root/dist" > "$root/dist/cpack.log") || { cat "$root/dist/cpack.log" >&2; exit 1; }
rm -rf "$root/dist/_CPack_Packages"
ls -1 "$root"/dist/*.deb "$root"/dist/*.tar.gz

#!/usr/bin/env bash
# README command 2: set up, build, then run the whole test suite through ctest (non-zero exit on failure).
# Extra arguments go to ctest (e.g. -L unit, -LE slow).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/packaging/ensure-build.sh"
cd "$root/build"
exec ctest --output-on-failure --timeout 1800 "$@"

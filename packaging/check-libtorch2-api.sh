#!/usr/bin/env bash
# Does the engine still compile against LibTorch 2.x? This machine builds with Debian 12's LibTorch 1.13, the
# GPU machine with its Python's LibTorch 2.11 (../shared/device/NOTES.md); APIs differ between the two (2.6
# removed torch/linalg.h, for one). This fetches Debian 13's libtorch-dev (2.6, headers only) into .cache/
# and runs every translation unit that includes LibTorch (per the build's Ninja dependency log) through
# `-fsyntax-only` against it, with the flags of that build's compile_commands.json. Nothing is linked.
# Usage: packaging/check-libtorch2-api.sh [built Ninja build dir, default build]. About 4 minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
[[ -f $build/compile_commands.json ]] || { echo "no compile_commands.json in $build: configure a build first" >&2; exit 2; }
cache=$root/.cache/libtorch2
version=2.6.0+dfsg-7
deb=libtorch-dev_${version}_amd64.deb
if [[ ! -d $cache/root/usr/include/torch ]]; then
  mkdir -p "$cache"
  if ! curl -fsSL -o "$cache/$deb" "http://deb.debian.org/debian/pool/main/p/pytorch/$deb"; then
    # CI sets CONTINUA_LIBTORCH2_OPTIONAL=1: an unreachable archive must not stop a landing.
    echo "check-libtorch2-api: could not download $deb" >&2
    [[ ${CONTINUA_LIBTORCH2_OPTIONAL:-0} == 1 ]] && { echo "check-libtorch2-api: skipped" >&2; exit 0; }
    exit 1
  fi
  dpkg -x "$cache/$deb" "$cache/root"
  # A CPU build's headers lack the generated CUDA macros file that c10/cuda headers include.
  mkdir -p "$cache/stub/c10/cuda/impl" && touch "$cache/stub/c10/cuda/impl/cuda_cmake_macros.h"
fi
include=$cache/root/usr/include
python3 - "$build" "$include" "$cache/stub" <<'PY'
import concurrent.futures, json, os, shlex, subprocess, sys
build, include, stub = sys.argv[1:]
# Objects whose recorded header dependencies include LibTorch's C++ API.
deps = subprocess.run(["ninja", "-C", build, "-t", "deps"], capture_output=True, text=True, check=True).stdout
uses_torch, current = set(), None
for line in deps.splitlines():
    if line and not line[0].isspace():
        current = line.split(":")[0]
    elif "torch/csrc/api/include" in line and current:
        uses_torch.add(current)
if not uses_torch:
    sys.exit(f"no object of {build} records LibTorch headers: build it first")
jobs = []
for entry in json.load(open(f"{build}/compile_commands.json")):
    source = entry["file"]
    args = shlex.split(entry["command"])
    i = args.index("-o")
    # cuda_launch_scope.cpp includes c10/cuda only when built against a CUDA LibTorch: check that path too.
    cuda_path = source.endswith("cuda_launch_scope.cpp")
    if args[i + 1] not in uses_torch and not cuda_path:
        continue
    del args[i:i + 2]
    args = [a.replace("/usr/include/torch/csrc/api/include", f"{include}/torch/csrc/api/include") for a in args]
    args = [args[0], "-isystem", include, "-isystem", stub] + args[1:] + ["-fsyntax-only", "-O0"]
    if cuda_path:
        args.append("-DCONTINUA_TORCH_HAS_CUDA=1")
    jobs.append((source, args, entry["directory"]))

def check(job):
    source, args, directory = job
    return source, subprocess.run(args, cwd=directory, capture_output=True, text=True)

failed = 0
# ~1 minute and ~1 GiB per file: one job per core.
with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
    for source, result in pool.map(check, jobs):
        print(("ok    " if result.returncode == 0 else "FAIL  ") + source, flush=True)
        if result.returncode:
            failed += 1
            print(result.stderr[-4000:], flush=True)
print(f"{failed} of {len(jobs)} failed")
sys.exit(1 if failed else 0)
PY

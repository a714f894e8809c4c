#!/usr/bin/env bash
# On the GPU machine (see ../shared/device/NOTES.md): the headless CUDA build against the machine's Python
# CUDA LibTorch, then every kernel against the float64 reference and the scan benchmark; tables printed last
# and copied to $OUT when set. Prepare here first: ../shared/device/fetch-debs.sh (carry .devdeps).
# Not yet run on a GPU: the first session with one should fix what this script trips on and record the numbers.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
out=${OUT:-$root/build-gpu}
mkdir -p "$out"
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
deps="$root/.devdeps/root/usr"
{ cmake --version | head -1; nvcc --version | tail -1; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; } | tee "$out/build.txt"
# The whole configure and build log goes to $OUT: when it fails there, the next session reads why.
{
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONTINUA_BUILD_GUI=OFF -DCONTINUA_BUILD_TESTS=OFF \
    -DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON -DCONTINUA_WITH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DCMAKE_PREFIX_PATH="$torch_prefix;$deps"
  cmake --build build-gpu -j"$(nproc)"
} 2>&1 | tee -a "$out/build.txt"
export LD_LIBRARY_PATH="$deps/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv | tee "$out/gpu.txt" || true
status=0
build-gpu/app/continua-cli check-kernels > "$out/check-kernels.txt" 2>&1 || status=1
# CUDA rows only: the CPU grid's LibTorch-ops reference alone takes minutes, and a call is limited to 10.
build-gpu/app/continua-cli bench scan --device cuda --repeats 5 --json "$out/bench-scan.json" > "$out/bench-scan.txt" 2>&1 || status=1
# The whole training path on the GPU (models, op, trainer, store): a short quick-start run.
build-gpu/app/continua-cli run --db "$root/build-gpu/gpu-runs.db" --preset quickstart --device cuda --set optim.steps=300 \
  > "$out/run-cuda.txt" 2>&1 || status=1
tail -n 30 "$out/check-kernels.txt"
tail -n 8 "$out/run-cuda.txt"
cat "$out/bench-scan.txt"
exit $status

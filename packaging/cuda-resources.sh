#!/usr/bin/env bash
# What ptxas gives each CUDA kernel (registers, local-memory stack, spills) and what that means on an H200
# (132 SMs, 64K registers and at most 2048 threads per SM): resident blocks per SM and how many waves the
# scan benchmark's target shape (B=64, D=1536: 768 blocks of 128 threads) takes. Needs only
# nvcc, no GPU: run it after changing a kernel. Usage: packaging/cuda-resources.sh [sm_arch, default 90]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
arch=${1:-90}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for src in selective_scan_fp32 selective_scan_bf16; do
  nvcc -std=c++17 -arch=sm_$arch --use_fast_math -I"$root" -Xptxas -v -c "$root/kernels/cuda/$src.cu" \
    -o "$tmp/$src.o" 2>>"$tmp/ptxas.txt"
done
# ptxas prints "Compiling entry function '<mangled>'", then the stack/spill line, then the register line.
awk -v sms=132 -v blocks=768 -v threads=128 '
  /Compiling entry function/ {
    name = $0; sub(/.*kernels4cuda[0-9]+/, "", name); sub(/I.*/, "", name)
    type = ($0 ~ /nv_bfloat16/) ? "bf16" : "fp32"
  }
  /bytes stack frame/ { stack = $1; spill = $5 }
  /Used [0-9]+ registers/ {
    for (i = 1; i <= NF; i++) if ($i == "Used") regs = $(i + 1)
    alloc = int((regs + 7) / 8) * 8                       # registers are allocated 8 per thread at a time
    perSM = int(65536 / (alloc * threads)); if (perSM > 2048 / threads) perSM = 2048 / threads
    waves = (perSM > 0) ? (blocks + perSM * sms - 1) / (perSM * sms) : 0
    if (!header++) printf "%-20s %-5s %5s %7s %7s %13s %16s\n", "kernel", "type", "regs", "stack B", "spill B", "blocks per SM", "waves (768 blk)"
    printf "%-20s %-5s %5d %7d %7d %13d %16d\n", name, type, regs, stack, spill, perSM, int(waves)
  }' "$tmp/ptxas.txt"

#pragma once
// A host-side SIMT emulator: runs a CUDA kernel's own source on the CPU, one fibre per GPU thread, so the
// CUDA kernels' arithmetic, indexing, tiling and warp reductions are checked on machines without a GPU
// (this project's CI). See kernels/emulation/cuda_host_shim.h for how a .cuh file is compiled for it.
//
// What it models: grid/block/thread coordinates, CUDA's launch-configuration limits, warps of 32 lanes
// that meet at every __shfl_down_sync / __shfl_xor_sync (lanes run until they reach one; the exchange
// happens when every live lane of the warp has), __syncthreads (a block's threads all run as fibres; the
// barrier opens when every thread that has not exited waits at it), and atomics (trivially atomic: fibres
// switch only at shuffles and barriers). __shared__ variables are function statics: one block runs at a
// time, so a block sees its own, but it also sees what the previous block left (a GPU leaves them undefined).
// What it does not: memory races between warps or blocks, barriers reached at different call sites (one
// barrier here, a hang or undefined behaviour on a GPU), timing, the device's fast-math intrinsics (host IEEE
// functions are used instead).
// Errors a GPU would report as undefined behaviour — a lane exiting, or waiting at the barrier, while others
// wait for it in a full-mask shuffle; lanes of one warp in different shuffles — throw std::logic_error from
// launch().
#include <functional>

namespace continua::kernels::emulation {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

struct ThreadCoordinates {
  Dim3 thread, block, blockDim, gridDim;
};

// The coordinates of the GPU thread being emulated; only valid inside a kernel body run by launch().
const ThreadCoordinates& currentThread();

// __shfl_down_sync(mask, value, delta) with width 32: value of lane (lane + delta), or the lane's own
// value when that lane is past the warp's end.
float shuffleDown(unsigned mask, float value, unsigned delta);

// __shfl_xor_sync(mask, value, laneMask) with width 32: value of lane (lane ^ laneMask).
float shuffleXor(unsigned mask, float value, unsigned laneMask);

// __syncthreads(): waits until every thread of the block that has not exited is here.
void syncThreads();

// Runs body once per thread of the grid, blocks in order, warps in order. Throws std::invalid_argument
// for a configuration CUDA would reject (cudaErrorInvalidConfiguration) and std::logic_error for
// undefined warp behaviour.
void launch(Dim3 grid, Dim3 block, const std::function<void()>& body);

}  // namespace continua::kernels::emulation

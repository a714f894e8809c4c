#pragma once
// The slice of CUDA that kernels/cuda/*.cuh use, defined for a host C++ compiler on top of the SIMT
// emulator, so the very same kernel source runs on the CPU in tests and `check-kernels --emulate-cuda`.
// Include this first, with CONTINUA_CUDA_EMULATION defined; the .cuh files then skip the CUDA headers,
// put everything in namespace `cuda_emulated` (no clash with the real kernels in one binary) and launch
// through emulation::launch instead of <<<...>>>.
//
// Differences from a GPU that matter for results: IEEE host expf/exp2f/log1pf instead of --use_fast_math
// intrinsics (a few ulp), and uninitialised device memory from cudaMallocAsync is filled with NaN here,
// so a kernel that reads a workspace before writing it produces NaN instead of passing by luck.
#ifndef CONTINUA_CUDA_EMULATION
#error "define CONTINUA_CUDA_EMULATION before including cuda_host_shim.h"
#endif

#include "kernels/emulation/simt_emulator.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#define CONTINUA_CUDA_NS cuda_emulated

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static  // one block runs at a time (see simt_emulator.h)

#define threadIdx (::continua::kernels::emulation::currentThread().thread)
#define blockIdx (::continua::kernels::emulation::currentThread().block)
#define blockDim (::continua::kernels::emulation::currentThread().blockDim)
#define gridDim (::continua::kernels::emulation::currentThread().gridDim)

#define CONTINUA_LAUNCH(kernel, grid, block, stream, ...)                                                     \
  ::continua::kernels::emulation::launch(dim3(grid).emulated(), dim3(block).emulated(), [&] { kernel(__VA_ARGS__); })

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
  ::continua::kernels::emulation::Dim3 emulated() const { return {x, y, z}; }
};

// ---- runtime API: host memory stands in for device memory; every call succeeds or throws.
using cudaStream_t = void*;
enum cudaError_t { cudaSuccess = 0 };
inline const char* cudaGetErrorString(cudaError_t) { return "no error"; }
inline cudaError_t cudaGetLastError() { return cudaSuccess; }  // launch() throws instead
template <typename T>
cudaError_t cudaMallocAsync(T** ptr, size_t bytes, cudaStream_t) {
  void* p = std::malloc(bytes);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0xff, bytes);  // NaN as float: reading before writing shows
  *ptr = static_cast<T*>(p);
  return cudaSuccess;
}
inline cudaError_t cudaFreeAsync(void* p, cudaStream_t) {
  std::free(p);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) {
  std::memset(p, value, bytes);
  return cudaSuccess;
}

// ---- device functions
inline int min(int a, int b) { return a < b ? a : b; }
inline float atomicAdd(float* address, float value) {  // fibres switch only at shuffles: trivially atomic
  const float old = *address;
  *address = old + value;
  return old;
}
inline float __shfl_down_sync(unsigned mask, float value, unsigned delta) {
  return ::continua::kernels::emulation::shuffleDown(mask, value, delta);
}
inline float __shfl_xor_sync(unsigned mask, float value, int laneMask) {
  return ::continua::kernels::emulation::shuffleXor(mask, value, unsigned(laneMask));
}
inline void __syncthreads() { ::continua::kernels::emulation::syncThreads(); }
inline float __uint_as_float(unsigned v) {
  float f;
  std::memcpy(&f, &v, sizeof f);
  return f;
}

// 16-byte vector types; may_alias because kernels read float/bfloat16 arrays through them.
struct __attribute__((aligned(16), may_alias)) float4 {
  float x, y, z, w;
};
struct __attribute__((aligned(16), may_alias)) uint4 {
  unsigned x, y, z, w;
};

// ---- bfloat16: the bits of the top half of a float; conversion rounds to nearest even, like CUDA's.
struct __nv_bfloat16 {
  uint16_t bits;
};
inline float __bfloat162float(__nv_bfloat16 v) {
  const uint32_t word = uint32_t(v.bits) << 16;
  float f;
  std::memcpy(&f, &word, sizeof f);
  return f;
}
inline __nv_bfloat16 __float2bfloat16(float f) {
  if (std::isnan(f)) return {0x7fc0};
  uint32_t word;
  std::memcpy(&word, &f, sizeof word);
  word += 0x7fffu + ((word >> 16) & 1u);
  return {uint16_t(word >> 16)};
}

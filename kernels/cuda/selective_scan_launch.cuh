#pragma once
// Host-side launchers, instantiated once per input type (selective_scan_fp32.cu, selective_scan_bf16.cu)
// so the two compile in parallel.
#include "kernels/cuda/selective_scan_kernel.cuh"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace continua::kernels::CONTINUA_CUDA_NS {

inline cudaStream_t asStream(void* s) { return static_cast<cudaStream_t>(s); }

inline dim3 gridFor(int channels, int batch) { return dim3((channels + kThreads - 1) / kThreads, batch); }

// Whether the kernels may read B and C a whole state tile at a time with 16-byte loads: every tile full
// (so tiles start at multiples of kTile within a row) and every (b, t) row 16-byte aligned.
template <typename T>
bool statesVectorisable(const ScanParams& p) {
  constexpr int64_t perVector = 16 / sizeof(T);
  auto aligned = [](const void* base, Strides2 s) {
    return reinterpret_cast<uintptr_t>(base) % 16 == 0 && s.batch % perVector == 0 && s.time % perVector == 0;
  };
  return p.states % kTile == 0 && aligned(p.B, p.bStride) && aligned(p.C, p.cStride);
}

// A float32 (batch, length, channels) workspace from the stream-ordered allocator, freed on scope exit.
struct Workspace {
  float* ptr = nullptr;
  cudaStream_t stream;
  Workspace(size_t count, cudaStream_t s) : stream(s) {
    if (count) CONTINUA_CUDA_CHECK(cudaMallocAsync(&ptr, count * sizeof(float), s));
  }
  ~Workspace() { if (ptr) cudaFreeAsync(ptr, stream); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
};

template <typename T>
void launchForward(const ScanParams& p, void* stream) {
  cudaStream_t s = asStream(stream);
  const size_t rows = size_t(p.batch) * p.length * p.channels;
  Workspace yAcc(p.states > kTile ? rows : 0, s);
  CONTINUA_LAUNCH(scanForwardKernel<T>, gridFor(p.channels, p.batch), kThreads, s, p, yAcc.ptr, statesVectorisable<T>(p));
  CONTINUA_CUDA_CHECK_LAUNCH();
}

template <typename T>
void launchBackward(const ScanGradParams& p, void* stream) {
  if (p.chunkLength > kMaxChunk)
    throw std::invalid_argument("scanBackwardCuda: chunkLength must be <= " + std::to_string(kMaxChunk) + ", got " +
                                std::to_string(p.chunkLength));
  cudaStream_t s = asStream(stream);
  const size_t rows = size_t(p.batch) * p.length * p.channels;
  const size_t bc = size_t(p.batch) * p.length * p.groups * p.states;
  const bool multiTile = p.states > kTile;
  Workspace yAcc(multiTile && p.z ? rows : 0, s), duAcc(multiTile ? rows : 0, s), ddtAcc(multiTile ? rows : 0, s);
  // Outputs accumulated with atomics start from zero.
  CONTINUA_CUDA_CHECK(cudaMemsetAsync(p.dB, 0, bc * sizeof(float), s));
  CONTINUA_CUDA_CHECK(cudaMemsetAsync(p.dC, 0, bc * sizeof(float), s));
  CONTINUA_CUDA_CHECK(cudaMemsetAsync(p.dA, 0, size_t(p.channels) * p.states * sizeof(float), s));
  if (p.dD) CONTINUA_CUDA_CHECK(cudaMemsetAsync(p.dD, 0, p.channels * sizeof(float), s));
  if (p.dDeltaBias) CONTINUA_CUDA_CHECK(cudaMemsetAsync(p.dDeltaBias, 0, p.channels * sizeof(float), s));
  const int perGroup = p.channels / p.groups;
  const bool warpGroups = perGroup % 32 == 0 && p.channels % 32 == 0;
  BackwardWorkspace ws{yAcc.ptr, duAcc.ptr, ddtAcc.ptr};
  CONTINUA_LAUNCH(scanBackwardKernel<T>, gridFor(p.channels, p.batch), kThreads, s, p, ws, warpGroups,
                  statesVectorisable<T>(p));
  CONTINUA_CUDA_CHECK_LAUNCH();
}

template <typename T>
void launchStep(const ScanStepParams& p, void* stream) {
  CONTINUA_LAUNCH(scanStepKernel<T>, gridFor(p.channels, p.batch), kThreads, asStream(stream), p);
  CONTINUA_CUDA_CHECK_LAUNCH();
}

#ifndef CONTINUA_CUDA_EMULATION
// Each element type is instantiated in its own file (selective_scan_fp32.cu, selective_scan_bf16.cu); without
// these declarations every file including this header would compile both types' kernels again. The host
// emulation instantiates both in its one translation unit.
extern template void launchForward<float>(const ScanParams&, void*);
extern template void launchForward<__nv_bfloat16>(const ScanParams&, void*);
extern template void launchBackward<float>(const ScanGradParams&, void*);
extern template void launchBackward<__nv_bfloat16>(const ScanGradParams&, void*);
extern template void launchStep<float>(const ScanStepParams&, void*);
extern template void launchStep<__nv_bfloat16>(const ScanStepParams&, void*);
#endif

// Entry points by element type, shared by selective_scan_dispatch.cu and the host emulation.
inline void forwardByType(const ScanParams& p, void* stream) {
  validateScanParams(p);
  switch (p.dtype) {
    case ScanDType::Float32: return launchForward<float>(p, stream);
    case ScanDType::BFloat16: return launchForward<__nv_bfloat16>(p, stream);
    default: throw std::invalid_argument("CUDA selective scan: dtype must be Float32 or BFloat16");
  }
}

inline void backwardByType(const ScanGradParams& p, void* stream) {
  validateScanParams(p);
  switch (p.dtype) {
    case ScanDType::Float32: return launchBackward<float>(p, stream);
    case ScanDType::BFloat16: return launchBackward<__nv_bfloat16>(p, stream);
    default: throw std::invalid_argument("CUDA selective scan: dtype must be Float32 or BFloat16");
  }
}

inline void stepByType(const ScanStepParams& p, void* stream) {
  switch (p.dtype) {
    case ScanDType::Float32: return launchStep<float>(p, stream);
    case ScanDType::BFloat16: return launchStep<__nv_bfloat16>(p, stream);
    default: throw std::invalid_argument("CUDA selective scan step: dtype must be Float32 or BFloat16");
  }
}

}  // namespace continua::kernels::CONTINUA_CUDA_NS

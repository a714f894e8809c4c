// Public CUDA entry points: validate, then dispatch on the input dtype (selective_scan_launch.cuh).
#include "kernels/cuda/selective_scan_launch.cuh"

namespace continua::kernels {

bool cudaKernelsAvailable() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

bool cudaDeviceSummary(CudaDeviceSummary& out) {
  int device = 0;
  cudaDeviceProp prop;
  if (!cudaKernelsAvailable() || cudaGetDevice(&device) != cudaSuccess ||
      cudaGetDeviceProperties(&prop, device) != cudaSuccess)
    return false;
  int clockKHz = 0;  // CUDA 13 dropped cudaDeviceProp::clockRate; the attribute remains
  if (cudaDeviceGetAttribute(&clockKHz, cudaDevAttrClockRate, device) != cudaSuccess) return false;
  out.name = prop.name;
  out.multiprocessors = prop.multiProcessorCount;
  out.clockKHz = clockKHz;
  out.major = prop.major;
  out.minor = prop.minor;
  return true;
}

void scanForwardCuda(const ScanParams& p, void* stream) { cuda::forwardByType(p, stream); }
void scanBackwardCuda(const ScanGradParams& p, void* stream) { cuda::backwardByType(p, stream); }
void scanStepCuda(const ScanStepParams& p, void* stream) { cuda::stepByType(p, stream); }

}  // namespace continua::kernels

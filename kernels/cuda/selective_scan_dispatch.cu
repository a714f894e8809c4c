// Public CUDA entry points: validate, then dispatch on the input dtype.
#include "kernels/cuda/selective_scan_launch.cuh"

namespace continua::kernels {
namespace cuda {
extern template void launchForward<float>(const ScanParams&, void*);
extern template void launchForward<__nv_bfloat16>(const ScanParams&, void*);
extern template void launchBackward<float>(const ScanGradParams&, void*);
extern template void launchBackward<__nv_bfloat16>(const ScanGradParams&, void*);
extern template void launchStep<float>(const ScanStepParams&, void*);
extern template void launchStep<__nv_bfloat16>(const ScanStepParams&, void*);
}  // namespace cuda

bool cudaKernelsAvailable() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

void scanForwardCuda(const ScanParams& p, void* stream) {
  validateScanParams(p);
  switch (p.dtype) {
    case ScanDType::Float32: return cuda::launchForward<float>(p, stream);
    case ScanDType::BFloat16: return cuda::launchForward<__nv_bfloat16>(p, stream);
    default: throw std::invalid_argument("scanForwardCuda: dtype must be Float32 or BFloat16");
  }
}

void scanBackwardCuda(const ScanGradParams& p, void* stream) {
  validateScanParams(p);
  switch (p.dtype) {
    case ScanDType::Float32: return cuda::launchBackward<float>(p, stream);
    case ScanDType::BFloat16: return cuda::launchBackward<__nv_bfloat16>(p, stream);
    default: throw std::invalid_argument("scanBackwardCuda: dtype must be Float32 or BFloat16");
  }
}

void scanStepCuda(const ScanStepParams& p, void* stream) {
  switch (p.dtype) {
    case ScanDType::Float32: return cuda::launchStep<float>(p, stream);
    case ScanDType::BFloat16: return cuda::launchStep<__nv_bfloat16>(p, stream);
    default: throw std::invalid_argument("scanStepCuda: dtype must be Float32 or BFloat16");
  }
}

}  // namespace continua::kernels

#include "core/ops/cuda_launch_scope.h"

#ifdef CONTINUA_TORCH_HAS_CUDA
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace continua::core {

#ifdef CONTINUA_TORCH_HAS_CUDA
CudaLaunchScope::CudaLaunchScope(int deviceIndex) {
  const auto device = static_cast<c10::DeviceIndex>(deviceIndex);
  previousDevice_ = c10::cuda::current_device();
  if (previousDevice_ != device) c10::cuda::set_device(device);
  stream_ = c10::cuda::getCurrentCUDAStream(device).stream();
}

CudaLaunchScope::~CudaLaunchScope() {
  if (previousDevice_ >= 0 && previousDevice_ != c10::cuda::current_device())
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(previousDevice_));
}
#else
CudaLaunchScope::CudaLaunchScope(int) {}
CudaLaunchScope::~CudaLaunchScope() = default;
#endif

}  // namespace continua::core

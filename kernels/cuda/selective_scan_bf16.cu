// Instantiation of the CUDA selective scan for __nv_bfloat16 inputs (one file per dtype: they compile in parallel).
#include "kernels/cuda/selective_scan_launch.cuh"

namespace continua::kernels::cuda {
template void launchForward<__nv_bfloat16>(const ScanParams&, void*);
template void launchBackward<__nv_bfloat16>(const ScanGradParams&, void*);
template void launchStep<__nv_bfloat16>(const ScanStepParams&, void*);
}  // namespace continua::kernels::cuda

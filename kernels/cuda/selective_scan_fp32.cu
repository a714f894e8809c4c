// Instantiation of the CUDA selective scan for float inputs (one file per dtype: they compile in parallel).
#include "kernels/cuda/selective_scan_launch.cuh"

namespace continua::kernels::cuda {
template void launchForward<float>(const ScanParams&, void*);
template void launchBackward<float>(const ScanGradParams&, void*);
template void launchStep<float>(const ScanStepParams&, void*);
}  // namespace continua::kernels::cuda

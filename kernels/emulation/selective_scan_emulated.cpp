// The CUDA selective-scan kernels (kernels/cuda/*.cuh), compiled for the host and run by the SIMT
// emulator: the same source, launch code and workspace handling as on a GPU, with host pointers.
#define CONTINUA_CUDA_EMULATION 1
#include "kernels/emulation/cuda_host_shim.h"
// The shim must come first: it defines the CUDA names the kernel source uses.
#include "kernels/cuda/selective_scan_launch.cuh"

namespace continua::kernels {

void scanForwardCudaEmulated(const ScanParams& p) { cuda_emulated::forwardByType(p, nullptr); }
void scanBackwardCudaEmulated(const ScanGradParams& p) { cuda_emulated::backwardByType(p, nullptr); }
void scanStepCudaEmulated(const ScanStepParams& p) { cuda_emulated::stepByType(p, nullptr); }

}  // namespace continua::kernels

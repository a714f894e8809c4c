// Built instead of kernels/cuda/ when CONTINUA_WITH_CUDA is OFF or no nvcc was found.
#include "kernels/selective_scan.h"

#include <stdexcept>

namespace continua::kernels {
namespace {
[[noreturn]] void noCuda() {
  throw std::runtime_error("this build of Continua has no CUDA kernels (configure with -DCONTINUA_WITH_CUDA=ON)");
}
}  // namespace
bool cudaKernelsAvailable() { return false; }
bool cudaDeviceSummary(CudaDeviceSummary&) { return false; }
void scanForwardCuda(const ScanParams&, void*) { noCuda(); }
void scanBackwardCuda(const ScanGradParams&, void*) { noCuda(); }
void scanStepCuda(const ScanStepParams&, void*) { noCuda(); }
}  // namespace continua::kernels

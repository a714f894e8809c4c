#include "core/util/environment.h"

#include "kernels/cpu_dispatch.h"

#include <malloc.h>

#include "continua_version.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <fstream>
#include <sstream>

namespace continua::core {
namespace {

// The BLAS LibTorch actually loaded: Debian's LibTorch takes whichever libblas.so.3 the alternatives
// system points at, so ask the process's own memory map.
std::string loadedBlas() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("openblas") != std::string::npos) {
      return line.find("openmp") != std::string::npos ? "OpenBLAS (OpenMP)" : "OpenBLAS";
    }
    if (line.find("libmkl") != std::string::npos) return "MKL";
    if (line.find("libblis") != std::string::npos) return "BLIS";
  }
  std::ifstream again("/proc/self/maps");
  while (std::getline(again, line))
    if (line.find("libblas.so") != std::string::npos) return "reference BLAS (slow: install libopenblas0-openmp)";
  return "unknown";
}

std::string cpuModel() {
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto pos = line.find(':');
      return pos == std::string::npos ? line : line.substr(pos + 2);
    }
  }
  return "unknown CPU";
}

}  // namespace

Environment currentEnvironment(const std::string& device) {
  Environment e;
  e.continuaVersion = CONTINUA_VERSION;
  e.gitCommit = CONTINUA_GIT_COMMIT;
  e.torchVersion = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                   std::to_string(TORCH_VERSION_PATCH);
  e.blas = loadedBlas();
  e.threads = at::get_num_threads();
  e.device = device;
  e.cpuModel = cpuModel();
  e.cpuKernels = kernels::cpuIsaName(kernels::activeCpuIsa());
  return e;
}

std::string describe(const Environment& e) {
  std::ostringstream s;
  s << "continua " << e.continuaVersion << " (" << e.gitCommit << "), LibTorch " << e.torchVersion << ", BLAS "
    << e.blas << ", " << e.threads << " thread(s), " << e.cpuModel << " (" << e.cpuKernels << " kernels), device " << e.device;
  return s.str();
}

void setThreadCount(int threads) {
  if (threads >= 1) at::set_num_threads(threads);
}

void keepFreedMemoryForReuse() {
  // Blocks up to 256 MiB come from the heap (not per-allocation mmap), and the heap is trimmed only past
  // 1 GiB of free memory at its top.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace continua::core

#pragma once
// What produced a result: version, commit, LibTorch, BLAS, threads, device. Recorded with every run and
// printed above every benchmark table.
#include <string>

namespace continua::core {

struct Environment {
  std::string continuaVersion, gitCommit, torchVersion, blas, device, cpuModel;
  std::string cpuKernels;  // the build of the CPU kernels that runs: baseline, avx2 or avx512
  int threads = 1;
};

Environment currentEnvironment(const std::string& device = "cpu");
std::string describe(const Environment& env);  // one line

// Applies the intra-op thread count (LibTorch's pool and the kernels' OpenMP teams).
void setThreadCount(int threads);

// Keeps freed memory in the process for reuse. A training step allocates and frees the same few hundred
// buffers every step; glibc's defaults hand every block over 128 KiB back to the kernel on free, so each step
// paid for fresh zeroed pages (measured: a quarter of a small Mamba step in page faults). Call once, early.
void keepFreedMemoryForReuse();

}  // namespace continua::core

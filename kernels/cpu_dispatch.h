#pragma once
// Which build of the CPU kernels runs: the widest the processor supports (AVX-512, else AVX2 + FMA, else the
// x86-64 baseline), chosen once at run time, so one binary runs well on any x86-64 machine and crashes on none.
// CONTINUA_CPU_ISA=baseline|avx2|avx512 in the environment narrows the choice (never past what the CPU has).
#include <string>
#include <vector>

namespace continua::kernels {

enum class CpuIsa { Baseline, Avx2, Avx512 };

CpuIsa activeCpuIsa();
std::string cpuIsaName(CpuIsa isa);  // "baseline", "avx2", "avx512"
std::vector<CpuIsa> supportedCpuIsas();  // every build this processor can run, narrowest first
// Billions of (exp + 2 multiply-adds) per second, vectorised, on every given thread: the ceiling of the scan's
// forward on this CPU with the active build (reference/perf.md §4), measured when called (~0.1 s).
double cpuExpRooflineGelems(int threads);

// For tests and check-kernels: run a given (supported) build until the scope ends.
class CpuIsaScope {
 public:
  explicit CpuIsaScope(CpuIsa isa);
  ~CpuIsaScope();
  CpuIsaScope(const CpuIsaScope&) = delete;
  CpuIsaScope& operator=(const CpuIsaScope&) = delete;

 private:
  CpuIsa m_previous;
};

}  // namespace continua::kernels

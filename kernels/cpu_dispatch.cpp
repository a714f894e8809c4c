// Run-time choice between the three builds of the CPU kernels (cpu_dispatch.h); compiled for the baseline.
#include "kernels/cpu_dispatch.h"

#include "kernels/adam.h"
#include "kernels/causal_conv.h"
#include "kernels/selective_scan.h"
#include "kernels/selective_scan_queries.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace continua::kernels {

// The builds' entry points, one namespace per instruction set.
#define CONTINUA_DECLARE_CPU_KERNELS(NS)                                 \
  namespace NS {                                                         \
  void scanForwardCpu(const ScanParams&);                                \
  void scanBackwardCpu(const ScanGradParams&);                           \
  void scanStepCpu(const ScanStepParams&);                               \
  void queryStepForwardCpu(const QueryStepParams&);                      \
  void queryStepBackwardCpu(const QueryStepGradParams&);                 \
  void causalConvSiluForwardCpu(const CausalConvParams&);                \
  void causalConvSiluBackwardCpu(const CausalConvGradParams&);           \
  double expRooflineGelems(int threads);                                 \
  void adamUpdateCpu(const AdamUpdateParams&);                           \
  void sumOfSquaresCpu(const SumOfSquaresParams&);                       \
  }
CONTINUA_DECLARE_CPU_KERNELS(isa_baseline)
CONTINUA_DECLARE_CPU_KERNELS(isa_avx2)
CONTINUA_DECLARE_CPU_KERNELS(isa_avx512)

namespace {

bool cpuSupports(CpuIsa isa) {
  __builtin_cpu_init();
  switch (isa) {
    case CpuIsa::Baseline: return true;
    case CpuIsa::Avx2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CpuIsa::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && cpuSupports(CpuIsa::Avx2);
  }
  return false;
}

CpuIsa widestSupported() {
  CpuIsa best = CpuIsa::Baseline;
  for (CpuIsa i : {CpuIsa::Avx2, CpuIsa::Avx512})
    if (cpuSupports(i)) best = i;
  const char* env = std::getenv("CONTINUA_CPU_ISA");
  if (env && *env) {
    for (CpuIsa i : {CpuIsa::Baseline, CpuIsa::Avx2, CpuIsa::Avx512})
      if (cpuIsaName(i) == env && int(i) <= int(best)) return i;
  }
  return best;
}

CpuIsa& current() {
  static CpuIsa isa = widestSupported();
  return isa;
}

}  // namespace

CpuIsa activeCpuIsa() { return current(); }

std::string cpuIsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::Baseline: return "baseline";
    case CpuIsa::Avx2: return "avx2";
    case CpuIsa::Avx512: return "avx512";
  }
  return "baseline";
}

std::vector<CpuIsa> supportedCpuIsas() {
  std::vector<CpuIsa> out;
  for (CpuIsa i : {CpuIsa::Baseline, CpuIsa::Avx2, CpuIsa::Avx512})
    if (cpuSupports(i)) out.push_back(i);
  return out;
}

CpuIsaScope::CpuIsaScope(CpuIsa isa) : m_previous(current()) {
  if (!cpuSupports(isa)) throw std::invalid_argument("this processor cannot run the " + cpuIsaName(isa) + " kernels");
  current() = isa;
}
CpuIsaScope::~CpuIsaScope() { current() = m_previous; }

#define CONTINUA_DISPATCH(FN, PARAMS)                                   \
  void FN(const PARAMS& p) {                                            \
    switch (current()) {                                                \
      case CpuIsa::Avx512: return isa_avx512::FN(p);                     \
      case CpuIsa::Avx2: return isa_avx2::FN(p);                         \
      case CpuIsa::Baseline: break;                                      \
    }                                                                   \
    return isa_baseline::FN(p);                                         \
  }
CONTINUA_DISPATCH(scanForwardCpu, ScanParams)
CONTINUA_DISPATCH(scanBackwardCpu, ScanGradParams)
CONTINUA_DISPATCH(scanStepCpu, ScanStepParams)
CONTINUA_DISPATCH(queryStepForwardCpu, QueryStepParams)
CONTINUA_DISPATCH(queryStepBackwardCpu, QueryStepGradParams)
CONTINUA_DISPATCH(causalConvSiluForwardCpu, CausalConvParams)
CONTINUA_DISPATCH(causalConvSiluBackwardCpu, CausalConvGradParams)
CONTINUA_DISPATCH(adamUpdateCpu, AdamUpdateParams)
CONTINUA_DISPATCH(sumOfSquaresCpu, SumOfSquaresParams)

double cpuExpRooflineGelems(int threads) {
  switch (current()) {
    case CpuIsa::Avx512: return isa_avx512::expRooflineGelems(threads);
    case CpuIsa::Avx2: return isa_avx2::expRooflineGelems(threads);
    case CpuIsa::Baseline: break;
  }
  return isa_baseline::expRooflineGelems(threads);
}

}  // namespace continua::kernels

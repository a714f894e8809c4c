#include "core/check/kernel_check.h"

#include "kernels/cpu_dispatch.h"

#include "core/ops/selective_scan_op.h"

#include <torch/torch.h>

#include <optional>
#include <stdexcept>

namespace continua::core {
using torch::Tensor;

namespace {

struct ScanTensors {  // leaf tensors of one case, float64 on CPU
  Tensor u, delta, A, B, C, D, z, bias, h0, dout, dfinal;
};

ScanTensors makeInputs(const ScanCase& c, uint64_t seed) {
  torch::manual_seed(seed);
  auto o = torch::TensorOptions().dtype(torch::kFloat64);
  ScanTensors t;
  t.u = torch::randn({c.batch, c.length, c.channels}, o);
  // Raw delta around softplus^-1 of Mamba's dt range, so decays span fast to slow.
  t.delta = torch::randn({c.batch, c.length, c.channels}, o) * 0.5 - (c.softplus ? 2.0 : -0.1);
  if (!c.softplus) t.delta = t.delta.abs() * 0.2;
  t.A = -torch::exp(torch::randn({c.channels, c.states}, o) * 0.5);
  t.B = torch::randn({c.batch, c.length, c.groups, c.states}, o);
  t.C = torch::randn({c.batch, c.length, c.groups, c.states}, o);
  if (c.withD) t.D = torch::randn({c.channels}, o);
  if (c.withZ) t.z = torch::randn({c.batch, c.length, c.channels}, o);
  if (c.withBias) t.bias = torch::randn({c.channels}, o) * 0.1;
  if (c.withInitialState) t.h0 = torch::randn({c.batch, c.channels, c.states}, o);
  t.dout = torch::randn({c.batch, c.length, c.channels}, o);
  t.dfinal = torch::randn({c.batch, c.channels, c.states}, o);
  return t;
}

// The inputs as the kernel under test sees them: u, delta, B, C, z and the output gradients in the input
// dtype, A, D, bias and the initial state in float32; back in float64, so the reference runs on exactly the
// same numbers and the check measures the kernel's arithmetic, not the rounding of its inputs (which, in
// bfloat16, a sum that cancels can amplify without bound).
ScanTensors quantised(const ScanTensors& t, torch::ScalarType inputType) {
  auto q = [](const Tensor& x, torch::ScalarType type) {
    return x.defined() ? x.to(type).to(torch::kFloat64) : x;
  };
  const auto w = torch::kFloat32;
  return {q(t.u, inputType), q(t.delta, inputType), q(t.A, w), q(t.B, inputType), q(t.C, inputType), q(t.D, w),
          q(t.z, inputType), q(t.bias, w), q(t.h0, w), q(t.dout, inputType), q(t.dfinal, w)};
}

double relError(const Tensor& x, const Tensor& ref) {
  Tensor r = ref.to(torch::kFloat64).cpu();
  double scale = r.abs().max().item<double>();
  double diff = (x.to(torch::kFloat64).cpu() - r).abs().max().item<double>();
  return diff / std::max(scale, 1e-12);
}

struct ScanRun {  // outputs and gradients of one run
  std::vector<std::pair<std::string, Tensor>> values;
};

ScanRun runScan(const ScanTensors& src, const ScanCase& c, torch::Device device, torch::ScalarType dtype,
                bool torchOps) {
  auto leaf = [&](const Tensor& t, torch::ScalarType type) {
    return t.defined() ? t.to(device, type).detach().requires_grad_(true) : Tensor();
  };
  const auto wt = dtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  ScanInputs in{leaf(src.u, dtype), leaf(src.delta, dtype), leaf(src.A, wt), leaf(src.B, dtype), leaf(src.C, dtype),
                leaf(src.D, wt), leaf(src.z, dtype), leaf(src.bias, wt), leaf(src.h0, wt), c.softplus};
  ScanOutputs out = torchOps ? selectiveScanTorchOps(in) : selectiveScan(in);
  ((out.out * src.dout.to(device, dtype)).sum() + (out.finalState * src.dfinal.to(device, wt)).sum()).backward();
  ScanRun r;
  r.values = {{"out", out.out.detach()}, {"final state", out.finalState.detach()}, {"du", in.u.grad()},
              {"ddelta", in.delta.grad()}, {"dA", in.A.grad()}, {"dB", in.B.grad()}, {"dC", in.C.grad()}};
  if (c.withD) r.values.push_back({"dD", in.D.grad()});
  if (c.withZ) r.values.push_back({"dz", in.z.grad()});
  if (c.withBias) r.values.push_back({"dbias", in.deltaBias.grad()});
  if (c.withInitialState) r.values.push_back({"dh0", in.initialState.grad()});
  return r;
}

std::vector<CheckRow> compare(const ScanCase& c, const ScanRun& got, const ScanRun& ref, const std::string& device,
                              const std::string& dtype, double bound) {
  std::vector<CheckRow> rows;
  for (size_t i = 0; i < got.values.size(); ++i) {
    rows.push_back({c.name, device, dtype, got.values[i].first, relError(got.values[i].second, ref.values[i].second),
                    bound});
  }
  return rows;
}

// "cpu" (the build the processor runs), "cpu/baseline", "cpu/avx2", "cpu/avx512" (that build of the CPU
// kernels), "cuda", or "cuda-emulated": the CUDA kernels' source on the CPU under the SIMT emulator.
struct KernelDevice {
  torch::Device torchDevice;
  bool emulateCuda;
  std::optional<kernels::CpuIsa> isa;
};

KernelDevice kernelDevice(const std::string& name) {
  if (name == "cuda") return {torch::Device(torch::kCUDA), false, std::nullopt};
  if (name == "cuda-emulated") return {torch::Device(torch::kCPU), true, std::nullopt};
  if (name == "cpu") return {torch::Device(torch::kCPU), false, std::nullopt};
  for (kernels::CpuIsa isa : kernels::supportedCpuIsas())
    if (name == "cpu/" + kernels::cpuIsaName(isa)) return {torch::Device(torch::kCPU), false, isa};
  throw std::invalid_argument("kernel check: device must be cpu, cpu/<isa this processor runs>, cuda or cuda-emulated, got '" +
                              name + "'");
}

// Holds whatever a device name asks for (the emulator, a build of the CPU kernels) while a check runs.
struct DeviceScope {
  std::optional<EmulatedCudaScope> emulation;
  std::optional<kernels::CpuIsaScope> isa;
  explicit DeviceScope(const KernelDevice& d) {
    if (d.emulateCuda) emulation.emplace();
    if (d.isa) isa.emplace(*d.isa);
  }
};

}  // namespace

bool cudaAvailable() { return torch::cuda::is_available(); }

std::vector<ScanCase> standardScanCases() {
  std::vector<ScanCase> cases;
  auto add = [&](std::string name, int b, int l, int d, int n, int g, bool init) {
    ScanCase c;
    c.name = std::move(name);
    c.batch = b; c.length = l; c.channels = d; c.states = n; c.groups = g; c.withInitialState = init;
    cases.push_back(c);
  };
  add("L=1", 2, 1, 8, 4, 1, false);
  add("N=1", 2, 33, 21, 1, 1, false);
  add("N=4", 2, 47, 16, 4, 1, false);
  add("N=16 L=100 (2 chunks)", 2, 100, 37, 16, 1, false);
  add("N=64 L=50 (chunk 16)", 1, 50, 19, 64, 1, false);
  add("initial state", 2, 70, 24, 16, 1, true);
  add("groups=2 split block", 2, 40, 24, 8, 2, true);
  // Whole warps of one group: the CUDA backward reduces dB/dC across the warp before its atomics.
  add("D=64 warp-reduced dB/dC", 2, 40, 64, 16, 1, false);
  // Several register tiles of states (16 + 16 + 8), two groups of 32 channels, a chunk boundary.
  add("N=40 tiles, groups=2", 1, 35, 64, 40, 2, true);
  add("N=256", 1, 9, 4, 256, 1, true);
  // 19 blocks of 16 channels, the last one partial: the CPU forward walks spans of several blocks, the backward
  // spans of up to 8 (8 + 8 + 3 here), and group boundaries (every 100 channels) fall inside blocks.
  add("D=300 spans of blocks, groups=3", 1, 70, 300, 16, 3, true);
  // Outputs of >= 4 MiB, which the CPU backward stores past the caches: rows 64-byte aligned (every 8th here) and
  // full blocks go through streaming stores, the rest and the last block (6 channels) through ordinary ones.
  add("streamed outputs B=4 L=256 D=1030", 4, 256, 1030, 4, 1, false);
  cases.back().checksReference = false;
  ScanCase plain;
  plain.name = "no z/D/bias, no softplus";
  plain.batch = 2; plain.length = 29; plain.channels = 17; plain.states = 16;
  plain.withZ = plain.withD = plain.withBias = plain.softplus = false;
  cases.push_back(plain);
  return cases;
}

double scanErrorBound(const std::string& dtype) {
  if (dtype == "float32") return 2e-5;
  if (dtype == "bfloat16") return 1e-2;  // one rounding of each output to bfloat16 is up to 2^-8 (3.9e-3)
  return 1e-10;
}

std::vector<CheckRow> checkScanCase(const ScanCase& c, const std::string& device, const std::string& dtype,
                                    uint64_t seed) {
  const auto type = dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
  ScanTensors t = quantised(makeInputs(c, seed), type);
  ScanRun ref = runScan(t, c, torch::kCPU, torch::kFloat64, false);
  const KernelDevice dev = kernelDevice(device);
  DeviceScope scope(dev);
  ScanRun got = runScan(t, c, dev.torchDevice, type, false);
  return compare(c, got, ref, device, dtype, scanErrorBound(dtype));
}

std::vector<CheckRow> checkReferenceAgreement(const ScanCase& c, uint64_t seed) {
  ScanTensors t = makeInputs(c, seed);
  ScanRun ref = runScan(t, c, torch::kCPU, torch::kFloat64, false);
  ScanRun ops = runScan(t, c, torch::kCPU, torch::kFloat64, true);
  return compare(c, ops, ref, "cpu", "float64 torch-ops", scanErrorBound("float64"));
}

std::vector<CheckRow> checkScanStreaming(const ScanCase& c, const std::string& device, uint64_t seed) {
  ScanTensors t = makeInputs(c, seed);
  const KernelDevice kd = kernelDevice(device);
  const torch::Device dev = kd.torchDevice;
  DeviceScope scope(kd);
  auto f = [&](const Tensor& x) { return x.defined() ? x.to(dev, torch::kFloat32) : x; };
  torch::NoGradGuard noGrad;
  ScanInputs full{f(t.u), f(t.delta), f(t.A), f(t.B), f(t.C), f(t.D), f(t.z), f(t.bias), f(t.h0), c.softplus};
  ScanOutputs whole = selectiveScan(full);
  Tensor state = t.h0.defined() ? f(t.h0).contiguous().clone()
                                : torch::zeros({c.batch, c.channels, c.states}, torch::TensorOptions().device(dev));
  std::vector<Tensor> outs;
  for (int s = 0; s < c.length; ++s) {
    auto at = [&](const Tensor& x) { return x.defined() ? x.select(1, s) : x; };
    ScanInputs tok{at(full.u), at(full.delta), full.A, at(full.B), at(full.C), full.D, at(full.z), full.deltaBias,
                   Tensor(), c.softplus};
    outs.push_back(selectiveScanStep(tok, state));
  }
  const double bound = scanErrorBound("float32");
  return {{c.name, device, "float32", "stream out", relError(torch::stack(outs, 1), whole.out), bound},
          {c.name, device, "float32", "stream state", relError(state, whole.finalState), bound}};
}

}  // namespace continua::core

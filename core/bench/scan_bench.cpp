// `continua-cli bench scan`: forward, backward and forward+backward medians of the selective-scan kernels
// against the LibTorch-ops reference measured in the same run, plus streaming step latency; on a GPU also
// the achieved bandwidth as a fraction of a device-to-device copy measured in the same run.
#include "core/bench/bench.h"
#include "core/bench/timing.h"
#include "core/ops/selective_scan_op.h"
#include "core/util/environment.h"
#include "core/util/table.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

namespace continua::core {
using torch::Tensor;

namespace {

struct ScanShape {
  int64_t batch, length, channels, states;
  std::string dtype, device;
};

ScanInputs benchInputs(const ScanShape& s, bool requiresGrad) {
  const torch::Device dev = s.device == "cuda" ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  const auto io = torch::TensorOptions().device(dev).dtype(s.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32);
  const auto w = torch::TensorOptions().device(dev).dtype(torch::kFloat32);
  auto leaf = [&](Tensor t) { return t.requires_grad_(requiresGrad); };
  ScanInputs in;
  in.u = leaf(torch::randn({s.batch, s.length, s.channels}, io));
  in.delta = leaf(torch::randn({s.batch, s.length, s.channels}, io) * 0.5 - 2.0);
  in.A = leaf(-torch::exp(torch::randn({s.channels, s.states}, w) * 0.5));
  in.B = leaf(torch::randn({s.batch, s.length, s.states}, io));
  in.C = leaf(torch::randn({s.batch, s.length, s.states}, io));
  in.D = leaf(torch::randn({s.channels}, w));
  in.z = leaf(torch::randn({s.batch, s.length, s.channels}, io));
  in.deltaBias = leaf(torch::randn({s.channels}, w) * 0.1);
  in.deltaSoftplus = true;
  return in;
}

struct PassTimes {
  double fwdMs = 0, fwdBwdMs = 0;
};

PassTimes timeScan(const ScanShape& s, bool torchOps, int repeats) {
  ScanInputs in = benchInputs(s, true);
  Tensor dout = torch::randn_like(in.u);
  auto fwd = [&] { return torchOps ? selectiveScanTorchOps(in) : selectiveScan(in); };
  const bool cuda = s.device == "cuda";
  PassTimes t;
  t.fwdMs = medianMs([&] { torch::NoGradGuard g; fwd(); }, repeats, cuda);
  t.fwdBwdMs = medianMs([&] {
    ScanOutputs o = fwd();
    torch::autograd::grad({o.out}, {in.u, in.delta, in.A, in.B, in.C, in.D, in.z, in.deltaBias}, {dout});
  }, repeats, cuda);
  return t;
}

double stepLatencyUs(int64_t channels, int64_t states, const std::string& device) {
  ScanShape s{1, 1, channels, states, "float32", device};
  ScanInputs in = benchInputs(s, false);
  ScanInputs tok{in.u.select(1, 0).contiguous(), in.delta.select(1, 0).contiguous(), in.A,
                 in.B.select(1, 0).contiguous(), in.C.select(1, 0).contiguous(), in.D, in.z.select(1, 0).contiguous(),
                 in.deltaBias, Tensor(), true};
  Tensor state = torch::zeros({1, channels, states}, in.A.options());
  const int inner = 200;
  return medianMs([&] { for (int i = 0; i < inner; ++i) selectiveScanStep(tok, state); }, 7, device == "cuda") * 1000.0 /
         inner;
}

// Bytes a fused scan must move at least (reference/perf.md §5.1): u, delta, z in; out; B, C.
double minimalBytes(const ScanShape& s, bool backward) {
  const double e = s.dtype == "bfloat16" ? 2 : 4;
  const double bld = double(s.batch) * s.length * s.channels, bln = double(s.batch) * s.length * s.states;
  return backward ? e * (8 * bld) + e * 2 * bln + 4 * 2 * bln : e * (5 * bld) + e * 2 * bln;
}

std::vector<ScanShape> grid(const ScanBenchOptions& o) {
  std::vector<ScanShape> g;
  if (o.shape.size() == 4) {
    g.push_back({o.shape[0], o.shape[1], o.shape[2], o.shape[3], "float32", "cpu"});
    if (torch::cuda::is_available()) g.push_back({o.shape[0], o.shape[1], o.shape[2], o.shape[3], "float32", "cuda"});
    return g;
  }
  if (o.quick) {
    g.push_back({2, 64, 64, 16, "float32", "cpu"});
  } else {
    g.push_back({16, 512, 256, 16, "float32", "cpu"});
    g.push_back({4, 1024, 512, 16, "float32", "cpu"});
    g.push_back({16, 128, 256, 64, "float32", "cpu"});
  }
  if (torch::cuda::is_available()) {
    for (const char* dt : {"float32", "bfloat16"}) {
      if (o.quick) g.push_back({2, 64, 64, 16, dt, "cuda"});
      else {
        g.push_back({64, 1024, 1536, 16, dt, "cuda"});
        g.push_back({16, 4096, 1536, 16, dt, "cuda"});
      }
    }
  }
  return g;
}

std::string fmt(double v, int prec = 2) { return formatFixed(v, prec); }

}  // namespace

int runScanBenchmark(const ScanBenchOptions& o, std::ostream& out) {
  setThreadCount(o.threads);
  torch::manual_seed(0);
  const bool cuda = torch::cuda::is_available();
  Environment env = currentEnvironment(cuda ? "cuda" : "cpu");
  out << "bench scan: " << describe(env) << "\n";
  double copyGBs = cuda ? copyBandwidthGBs() : 0.0;
  if (cuda) out << "device-to-device copy: " << fmt(copyGBs, 0) << " GB/s (measured in this run)\n";
  out << "\n";
  TextTable table({"B", "L", "D", "N", "dtype", "device", "fwd ms", "bwd ms", "fwd+bwd ms", "Gelem/s", "ref fwd ms",
                   "ref fwd+bwd ms", "fwd speed-up", "fwd+bwd speed-up", "fwd % copy BW"});
  nlohmann::json results = nlohmann::json::array();
  for (const ScanShape& s : grid(o)) {
    PassTimes k = timeScan(s, false, o.repeats);
    PassTimes ref;
    if (!o.skipReference) ref = timeScan(s, true, std::max(1, std::min(o.repeats, 3)));
    const double elems = double(s.batch) * s.length * s.channels * s.states;
    const double gelem = elems / (k.fwdBwdMs * 1e-3) / 1e9;
    const double bwFrac = s.device == "cuda" ? minimalBytes(s, false) / (k.fwdMs * 1e-3) / 1e9 / copyGBs : 0.0;
    table.addRow({std::to_string(s.batch), std::to_string(s.length), std::to_string(s.channels), std::to_string(s.states),
                  s.dtype, s.device, fmt(k.fwdMs, 3), fmt(k.fwdBwdMs - k.fwdMs, 3), fmt(k.fwdBwdMs, 3), fmt(gelem, 3),
                  o.skipReference ? "-" : fmt(ref.fwdMs, 1), o.skipReference ? "-" : fmt(ref.fwdBwdMs, 1),
                  o.skipReference ? "-" : fmt(ref.fwdMs / k.fwdMs, 1) + "x", o.skipReference ? "-" : fmt(ref.fwdBwdMs / k.fwdBwdMs, 1) + "x",
                  s.device == "cuda" ? fmt(100 * bwFrac, 1) : "-"});
    results.push_back({{"batch", s.batch}, {"length", s.length}, {"channels", s.channels}, {"states", s.states},
                       {"dtype", s.dtype}, {"device", s.device}, {"fwd_ms", k.fwdMs}, {"bwd_ms", k.fwdBwdMs - k.fwdMs},
                       {"fwd_bwd_ms", k.fwdBwdMs}, {"elements_per_s", elems / (k.fwdBwdMs * 1e-3)},
                       {"reference_fwd_ms", o.skipReference ? nlohmann::json() : nlohmann::json(ref.fwdMs)},
                       {"reference_fwd_bwd_ms", o.skipReference ? nlohmann::json() : nlohmann::json(ref.fwdBwdMs)},
                       {"fwd_fraction_of_copy_bandwidth", s.device == "cuda" ? nlohmann::json(bwFrac) : nlohmann::json()}});
  }
  table.print(out);
  out << "\nStreaming step (B=1, fp32, D=256, N=16): " << fmt(stepLatencyUs(256, 16, "cpu"), 2) << " us on CPU";
  if (cuda) out << ", " << fmt(stepLatencyUs(1536, 16, "cuda"), 2) << " us on CUDA (D=1536)";
  out << "\n";
  if (!o.jsonPath.empty()) {
    nlohmann::json doc = {{"environment", {{"version", env.continuaVersion}, {"commit", env.gitCommit},
                                           {"torch", env.torchVersion}, {"blas", env.blas}, {"threads", env.threads},
                                           {"cpu", env.cpuModel}, {"copy_GBps", copyGBs}}},
                          {"scan", results},
                          {"step_us_cpu_D256_N16", stepLatencyUs(256, 16, "cpu")}};
    std::ofstream(o.jsonPath) << doc.dump(2) << "\n";
    out << "JSON written to " << o.jsonPath << "\n";
  }
  return 0;
}

}  // namespace continua::core

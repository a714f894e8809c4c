// `continua-cli bench scan`: forward, backward and forward+backward medians of the selective-scan kernels
// against the LibTorch-ops reference measured in the same run, plus streaming step latency; on a GPU also
// the achieved bandwidth as a fraction of a device-to-device copy measured in the same run, and the times as
// multiples of the physical floor of reference/perf.md §5 (exponential unit, FP32 pipe, copy bandwidth).
#include "core/bench/bench.h"
#include "core/bench/timing.h"
#include "core/ops/selective_scan_op.h"
#include "core/util/environment.h"
#include "core/util/table.h"
#include "kernels/cpu_dispatch.h"
#include "kernels/selective_scan.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>

namespace continua::core {
using torch::Tensor;

namespace {

struct ScanShape {
  int64_t batch, length, channels, states;
  std::string dtype, device;
  bool withReference = true;  // the LibTorch-ops loop takes minutes at the largest GPU shapes
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

// What is timed: our kernels, or a LibTorch-ops loop (core/ops/selective_scan_op.h).
enum class Impl { Kernel, CarefulLoop, SliceLoop };

PassTimes timeScan(const ScanShape& s, Impl impl, int repeats) {
  ScanInputs in = benchInputs(s, true);
  Tensor dout = torch::randn_like(in.u);
  auto fwd = [&] {
    if (impl == Impl::Kernel) return selectiveScan(in);
    return selectiveScanTorchOps(in, impl == Impl::CarefulLoop ? TorchLoop::Unbind : TorchLoop::PerStepSlice);
  };
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

// Lower bounds on a GPU (reference/perf.md §5.1-5.2): one exp2 per (b, l, d, n) per pass on the MUFU unit
// (16 per clock per SM on sm_80/sm_90), about 20 FP32 instructions per element in the backward, and the
// minimal bytes at the copy bandwidth measured in this run; the larger of them bounds each pass.
struct GpuFloors {
  double fwdMs = 0, fwdBwdMs = 0;
};

GpuFloors gpuFloors(const ScanShape& s, const kernels::CudaDeviceSummary& gpu, double copyGBs) {
  const double elems = double(s.batch) * s.length * s.channels * s.states;
  const double clockHz = gpu.clockKHz * 1e3;
  const double expMs = elems / (gpu.multiprocessors * 16.0 * clockHz) * 1e3;
  const double fp32BwdMs = elems * 20.0 / (gpu.multiprocessors * 128.0 * clockHz) * 1e3;
  auto bytesMs = [&](bool backward) { return minimalBytes(s, backward) / (copyGBs * 1e9) * 1e3; };
  GpuFloors f;
  f.fwdMs = std::max(expMs, bytesMs(false));
  f.fwdBwdMs = f.fwdMs + std::max({expMs, fp32BwdMs, bytesMs(true)});
  return f;
}

std::vector<ScanShape> grid(const ScanBenchOptions& o) {
  const bool cpu = o.device != "cuda", gpu = o.device != "cpu" && torch::cuda::is_available();
  std::vector<ScanShape> g;
  if (o.shape.size() == 4) {
    if (cpu) g.push_back({o.shape[0], o.shape[1], o.shape[2], o.shape[3], "float32", "cpu"});
    if (gpu)
      for (const char* dt : {"float32", "bfloat16"}) g.push_back({o.shape[0], o.shape[1], o.shape[2], o.shape[3], dt, "cuda"});
    return g;
  }
  if (cpu && o.quick) {
    g.push_back({2, 64, 64, 16, "float32", "cpu"});
  } else if (cpu) {
    g.push_back({16, 512, 256, 16, "float32", "cpu"});
    g.push_back({4, 1024, 512, 16, "float32", "cpu"});
    g.push_back({16, 128, 256, 64, "float32", "cpu"});
  }
  if (gpu) {
    for (const char* dt : {"float32", "bfloat16"}) {
      if (o.quick) g.push_back({2, 64, 64, 16, dt, "cuda"});
      else {
        g.push_back({64, 1024, 1536, 16, dt, "cuda"});
        g.push_back({16, 4096, 1536, 16, dt, "cuda", false});
      }
    }
  }
  return g;
}

std::string fmt(double v, int prec = 2) { return formatFixed(v, prec); }

// One shape's times in one round: the kernels and the references they are held against, measured together.
struct ShapeRound {
  PassTimes kernel, loop, sliced;
};

// A shape's medians over its rounds; the speed-ups are medians of each round's own ratio.
struct ShapeTimes {
  PassTimes kernel, loop, sliced;
  double vsLoop = 0, vsSlice = 0;
};

ShapeTimes mediansOf(const std::vector<ShapeRound>& rounds) {
  auto pick = [&](auto field) {
    std::vector<double> v;
    for (const auto& r : rounds) v.push_back(field(r));
    return medianOf(v);
  };
  ShapeTimes t;
  t.kernel = {pick([](const ShapeRound& r) { return r.kernel.fwdMs; }), pick([](const ShapeRound& r) { return r.kernel.fwdBwdMs; })};
  t.loop = {pick([](const ShapeRound& r) { return r.loop.fwdMs; }), pick([](const ShapeRound& r) { return r.loop.fwdBwdMs; })};
  t.sliced = {pick([](const ShapeRound& r) { return r.sliced.fwdMs; }), pick([](const ShapeRound& r) { return r.sliced.fwdBwdMs; })};
  t.vsLoop = pick([](const ShapeRound& r) { return r.loop.fwdBwdMs / r.kernel.fwdBwdMs; });
  t.vsSlice = pick([](const ShapeRound& r) { return r.sliced.fwdBwdMs / r.kernel.fwdBwdMs; });
  return t;
}

}  // namespace

int runScanBenchmark(const ScanBenchOptions& o, std::ostream& out) {
  if (o.device != "cpu" && o.device != "cuda" && o.device != "all")
    throw std::invalid_argument("bench scan: --device must be cpu, cuda or all, got '" + o.device + "'");
  if (o.device == "cuda" && !torch::cuda::is_available())
    throw std::runtime_error("bench scan: --device cuda, but LibTorch sees no CUDA device");
  setThreadCount(o.threads);
  torch::manual_seed(0);
  const bool cuda = torch::cuda::is_available();
  Environment env = currentEnvironment(cuda ? "cuda" : "cpu");
  out << "bench scan: " << describe(env) << "\n";
  double copyGBs = cuda ? copyBandwidthGBs() : 0.0;
  kernels::CudaDeviceSummary gpu;
  const bool haveFloors = cuda && kernels::cudaDeviceSummary(gpu) && gpu.multiprocessors > 0 && gpu.clockKHz > 0;
  if (cuda) out << "device-to-device copy: " << fmt(copyGBs, 0) << " GB/s (measured in this run)\n";
  if (haveFloors)
    out << "GPU: " << gpu.name << ", sm_" << gpu.major << gpu.minor << ", " << gpu.multiprocessors << " SMs at "
        << fmt(gpu.clockKHz / 1e6, 2) << " GHz; floors per reference/perf.md section 5 (16 exp2/clock/SM)\n";
  // Every round times the CPU's ceiling for the forward (one vectorised exp + two multiply-adds per element on
  // every thread) and then every shape with its references, so a slow spell of a shared machine falls on one
  // round of each rather than on all rounds of one.
  const std::vector<ScanShape> shapes = grid(o);
  std::vector<std::vector<ShapeRound>> measured(shapes.size());
  std::vector<double> rooflines;
  const int rounds = std::max(1, o.rounds);
  for (int round = 0; round < rounds; ++round) {
    if (o.device != "cuda") rooflines.push_back(kernels::cpuExpRooflineGelems(std::max(1, o.threads)));
    for (size_t i = 0; i < shapes.size(); ++i) {
      const ScanShape& s = shapes[i];
      const bool reference = !o.skipReference && s.withReference;
      const int refRepeats = std::max(1, std::min(o.repeats, 3));
      ShapeRound r;
      r.kernel = timeScan(s, Impl::Kernel, o.repeats);
      if (reference) r.loop = timeScan(s, Impl::CarefulLoop, refRepeats);
      if (reference && o.sliceReference) r.sliced = timeScan(s, Impl::SliceLoop, 1);
      measured[i].push_back(r);
    }
  }
  const double roofline = medianOf(rooflines);
  if (roofline > 0)
    out << "CPU exp roofline (exp + 2 FMA per element, " << kernels::cpuIsaName(kernels::activeCpuIsa()) << ", "
        << o.threads << " thread(s)): " << fmt(roofline, 2) << " Gelem/s, measured in this run\n";
  if (rounds > 1)
    out << rounds << " rounds: every time is a median over the rounds, every speed-up the median of each round's own\n";
  out << "references: loop = LibTorch ops one step at a time from one unbind (backward O(L), the fair one); "
         "slice-loop = x[:, t] at every step as selective_scan_ref does (backward O(L^2); --slice-reference)\n\n";
  TextTable table({"B", "L", "D", "N", "dtype", "device", "fwd ms", "bwd ms", "fwd+bwd ms", "bwd / fwd", "fwd % roofline",
                   "loop fwd+bwd ms", "vs loop", "slice-loop fwd+bwd ms", "vs slice-loop", "fwd % copy BW", "fwd / floor",
                   "fwd+bwd / floor"});
  nlohmann::json results = nlohmann::json::array();
  for (size_t i = 0; i < shapes.size(); ++i) {
    const ScanShape& s = shapes[i];
    const ShapeTimes times = mediansOf(measured[i]);
    const PassTimes& k = times.kernel;
    const PassTimes& loop = times.loop;
    const PassTimes& sliced = times.sliced;
    const bool reference = !o.skipReference && s.withReference;
    const bool slice = reference && o.sliceReference;
    const double elems = double(s.batch) * s.length * s.channels * s.states;
    const double rooflineFrac = s.device == "cpu" && roofline > 0 ? elems / (k.fwdMs * 1e-3) / (roofline * 1e9) : 0.0;
    const double bwFrac = s.device == "cuda" ? minimalBytes(s, false) / (k.fwdMs * 1e-3) / 1e9 / copyGBs : 0.0;
    const bool onGpu = s.device == "cuda" && haveFloors;
    const GpuFloors floors = onGpu ? gpuFloors(s, gpu, copyGBs) : GpuFloors{};
    auto orDash = [](bool have, const std::string& v) { return have ? v : std::string("-"); };
    const double bwd = k.fwdBwdMs - k.fwdMs;
    table.addRow({std::to_string(s.batch), std::to_string(s.length), std::to_string(s.channels), std::to_string(s.states),
                  s.dtype, s.device, fmt(k.fwdMs, 3), fmt(bwd, 3), fmt(k.fwdBwdMs, 3), fmt(bwd / k.fwdMs, 2),
                  orDash(rooflineFrac > 0, fmt(100 * rooflineFrac, 1)), orDash(reference, fmt(loop.fwdBwdMs, 1)),
                  orDash(reference, fmt(times.vsLoop, 1) + "x"), orDash(slice, fmt(sliced.fwdBwdMs, 1)),
                  orDash(slice, fmt(times.vsSlice, 1) + "x"), orDash(s.device == "cuda", fmt(100 * bwFrac, 1)),
                  orDash(onGpu, fmt(k.fwdMs / floors.fwdMs, 2) + "x"), orDash(onGpu, fmt(k.fwdBwdMs / floors.fwdBwdMs, 2) + "x")});
    auto jsonOr = [](bool have, double v) { return have ? nlohmann::json(v) : nlohmann::json(); };
    results.push_back({{"batch", s.batch}, {"length", s.length}, {"channels", s.channels}, {"states", s.states},
                       {"dtype", s.dtype}, {"device", s.device}, {"fwd_ms", k.fwdMs}, {"bwd_ms", bwd},
                       {"fwd_bwd_ms", k.fwdBwdMs}, {"elements_per_s", elems / (k.fwdBwdMs * 1e-3)},
                       {"fwd_fraction_of_roofline", jsonOr(rooflineFrac > 0, rooflineFrac)},
                       {"loop_fwd_ms", jsonOr(reference, loop.fwdMs)}, {"loop_fwd_bwd_ms", jsonOr(reference, loop.fwdBwdMs)},
                       {"slice_loop_fwd_bwd_ms", jsonOr(slice, sliced.fwdBwdMs)},
                       {"fwd_fraction_of_copy_bandwidth", jsonOr(s.device == "cuda", bwFrac)},
                       {"floor_fwd_ms", jsonOr(onGpu, floors.fwdMs)},
                       {"floor_fwd_bwd_ms", jsonOr(onGpu, floors.fwdBwdMs)}});
  }
  table.print(out);
  if (haveFloors) out << "\nTargets (issue #3, B=64 L=1024 D=1536 N=16): fwd / floor <= 2, fwd+bwd / floor <= 3.\n";
  out << "\nStreaming step (B=1, fp32, N=16):";
  if (o.device != "cuda") out << " " << fmt(stepLatencyUs(256, 16, "cpu"), 2) << " us on CPU (D=256)";
  if (cuda && o.device != "cpu") out << " " << fmt(stepLatencyUs(1536, 16, "cuda"), 2) << " us on CUDA (D=1536)";
  out << "\n";
  if (!o.jsonPath.empty()) {
    nlohmann::json doc = {{"environment", {{"version", env.continuaVersion}, {"commit", env.gitCommit},
                                           {"torch", env.torchVersion}, {"blas", env.blas}, {"threads", env.threads},
                                           {"cpu", env.cpuModel}, {"cpu_kernels", env.cpuKernels},
                                           {"cpu_exp_roofline_gelems", roofline}, {"copy_GBps", copyGBs},
                                           {"gpu", haveFloors ? nlohmann::json({{"name", gpu.name},
                                                                                {"multiprocessors", gpu.multiprocessors},
                                                                                {"clock_kHz", gpu.clockKHz}})
                                                              : nlohmann::json()}}},
                          {"scan", results},
                          {"step_us_cpu_D256_N16", o.device != "cuda" ? nlohmann::json(stepLatencyUs(256, 16, "cpu")) : nlohmann::json()},
                          {"step_us_cuda_D1536_N16", cuda && o.device != "cpu" ? nlohmann::json(stepLatencyUs(1536, 16, "cuda")) : nlohmann::json()}};
    std::ofstream(o.jsonPath) << doc.dump(2) << "\n";
    out << "JSON written to " << o.jsonPath << "\n";
  }
  return 0;
}

}  // namespace continua::core

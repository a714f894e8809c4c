#include "core/ops/selective_scan_op.h"

#include "core/ops/cuda_launch_scope.h"

#include "kernels/selective_scan.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace continua::core {
namespace k = continua::kernels;
using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

bool gEmulateCuda = false;  // see EmulatedCudaScope

// The CUDA kernels run on the tensor's GPU, or on the CPU under the emulator.
bool usesCudaKernels(const Tensor& u) { return u.is_cuda() || (gEmulateCuda && u.scalar_type() != torch::kFloat64); }

void check(bool ok, const std::string& msg) {
  if (!ok) throw std::invalid_argument("selectiveScan: " + msg);
}

std::string shapeOf(const Tensor& t) {
  std::string s = "(";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + ")";
}

k::ScanDType scanDType(const Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat32: return k::ScanDType::Float32;
    case torch::kFloat64: return k::ScanDType::Float64;
    case torch::kBFloat16: return k::ScanDType::BFloat16;
    default: throw std::invalid_argument("selectiveScan: u must be float32, float64 or bfloat16");
  }
}

// dtype of A, D, bias and the states: float64 for the float64 path, float32 otherwise.
torch::ScalarType weightType(const Tensor& u) {
  return u.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

int chunkLengthFor(const Tensor& u, int64_t states) {
  if (usesCudaKernels(u)) return 32;  // the CUDA backward keeps one chunk of states per thread
  return static_cast<int>(std::clamp<int64_t>(1024 / states, 4, 256));  // ~64 KiB of recompute per block
}

k::Strides2 strides2(const Tensor& t) { return {t.stride(0), t.stride(1)}; }
void* ptrOrNull(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }

void validate(const ScanInputs& in) {
  check(in.u.defined() && in.u.dim() == 3, "u must be (batch, length, channels), got " + shapeOf(in.u));
  const int64_t Bn = in.u.size(0), L = in.u.size(1), D = in.u.size(2);
  check(in.delta.defined() && in.delta.sizes() == in.u.sizes(), "delta must have u's shape " + shapeOf(in.u));
  check(in.A.defined() && in.A.dim() == 2 && in.A.size(0) == D, "A must be (channels, states), got " + shapeOf(in.A));
  const int64_t N = in.A.size(1);
  check(N >= 1 && N <= 256, "states must be 1..256, got " + std::to_string(N));
  for (const Tensor* t : {&in.B, &in.C}) {
    check(t->defined() && t->dim() == 4 && t->size(0) == Bn && t->size(1) == L && t->size(3) == N &&
              D % t->size(2) == 0,
          "B and C must be (batch, length, groups, states) with groups dividing channels, got " + shapeOf(*t));
  }
  check(in.B.size(2) == in.C.size(2), "B and C must have the same number of groups");
  if (in.D.defined()) check(in.D.dim() == 1 && in.D.size(0) == D, "D must be (channels), got " + shapeOf(in.D));
  if (in.deltaBias.defined())
    check(in.deltaBias.dim() == 1 && in.deltaBias.size(0) == D, "deltaBias must be (channels), got " + shapeOf(in.deltaBias));
  if (in.z.defined()) check(in.z.sizes() == in.u.sizes(), "z must have u's shape " + shapeOf(in.u));
  if (in.initialState.defined())
    check(in.initialState.dim() == 3 && in.initialState.size(0) == Bn && in.initialState.size(1) == D &&
              in.initialState.size(2) == N,
          "initialState must be (batch, channels, states), got " + shapeOf(in.initialState));
  check(usesCudaKernels(in.u) || in.u.scalar_type() != torch::kBFloat16, "bfloat16 is supported on CUDA only");
}

Tensor asGroups(const Tensor& t) { return t.dim() == 3 ? t.unsqueeze(2) : t; }

ScanInputs normalised(const ScanInputs& in) {
  ScanInputs n = in;
  n.B = asGroups(in.B);
  n.C = asGroups(in.C);
  return n;
}

// Tensors in the layout and dtypes the kernels expect, with the params that point into them.
struct PreparedScan {
  Tensor u, delta, A, B, C, D, z, bias, h0;
  k::ScanParams params;
};

// The kernels take any batch and time strides but need each (batch, time) row contiguous: the channels of u,
// delta and z, the groups x states of B and C. A split of a projection's output (Mamba's z, B and C) is such a
// view, and is used in place instead of copied.
Tensor rowsContiguous(const Tensor& t) {
  int64_t expected = 1;
  for (int64_t d = t.dim() - 1; d >= 2; --d) {
    if (t.size(d) != 1 && t.stride(d) != expected) return t.contiguous();
    expected *= t.size(d);
  }
  return t;
}

PreparedScan prepare(const ScanInputs& in) {
  PreparedScan s;
  const auto wt = weightType(in.u);
  auto io = [&](const Tensor& t) { return t.defined() ? rowsContiguous(t.to(in.u.scalar_type())) : t; };
  auto w = [&](const Tensor& t) { return t.defined() ? t.contiguous().to(wt) : t; };
  s.u = rowsContiguous(in.u); s.delta = io(in.delta); s.z = io(in.z); s.B = io(in.B); s.C = io(in.C);
  s.A = w(in.A); s.D = w(in.D); s.bias = w(in.deltaBias); s.h0 = w(in.initialState);
  k::ScanParams& p = s.params;
  p.batch = static_cast<int>(s.u.size(0));
  p.length = static_cast<int>(s.u.size(1));
  p.channels = static_cast<int>(s.u.size(2));
  p.states = static_cast<int>(s.A.size(1));
  p.groups = static_cast<int>(s.B.size(2));
  p.dtype = scanDType(s.u);
  p.deltaSoftplus = in.deltaSoftplus;
  p.chunkLength = chunkLengthFor(s.u, p.states);
  p.numThreads = std::max(1, at::get_num_threads());
  p.u = s.u.data_ptr(); p.uStride = strides2(s.u);
  p.delta = s.delta.data_ptr(); p.deltaStride = strides2(s.delta);
  p.A = s.A.data_ptr();
  p.B = s.B.data_ptr(); p.bStride = strides2(s.B);
  p.C = s.C.data_ptr(); p.cStride = strides2(s.C);
  p.D = ptrOrNull(s.D);
  p.z = ptrOrNull(s.z); if (s.z.defined()) p.zStride = strides2(s.z);
  p.deltaBias = ptrOrNull(s.bias);
  p.initialState = ptrOrNull(s.h0);
  return s;
}

void runForward(const k::ScanParams& p, const Tensor& like) {
  if (like.is_cuda()) {
    CudaLaunchScope scope(like.get_device());
    return k::scanForwardCuda(p, scope.stream());
  }
  if (usesCudaKernels(like)) return k::scanForwardCudaEmulated(p);
  if (p.dtype == k::ScanDType::Float64) return k::scanForwardReference(p);
  k::scanForwardCpu(p);
}

void runBackward(const k::ScanGradParams& p, const Tensor& like) {
  if (like.is_cuda()) {
    CudaLaunchScope scope(like.get_device());
    return k::scanBackwardCuda(p, scope.stream());
  }
  if (usesCudaKernels(like)) return k::scanBackwardCudaEmulated(p);
  if (p.dtype == k::ScanDType::Float64) return k::scanBackwardReference(p);
  k::scanBackwardCpu(p);
}

// LibTorch 1.13's custom functions cannot take undefined tensors, so absent optional inputs travel as
// empty tensors (no valid optional input is empty) and are turned back into undefined ones inside.
Tensor absentAsEmpty(const Tensor& t, const Tensor& like) { return t.defined() ? t : torch::empty({0}, like.options()); }
Tensor emptyAsAbsent(const Tensor& t) { return t.numel() == 0 ? Tensor() : t; }

class SelectiveScanFunction : public torch::autograd::Function<SelectiveScanFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor D,
                               Tensor z, Tensor bias, Tensor h0, bool softplus) {
    ScanInputs in{u, delta, A, B, C, emptyAsAbsent(D), emptyAsAbsent(z), emptyAsAbsent(bias), emptyAsAbsent(h0), softplus};
    PreparedScan s = prepare(in);
    auto wopts = s.A.options();
    Tensor out = torch::empty(s.u.sizes(), s.u.options());  // contiguous, whatever u's strides
    Tensor chunks = torch::empty({s.params.batch, s.params.numChunks(), s.params.channels, s.params.states}, wopts);
    s.params.out = out.data_ptr(); s.params.outStride = strides2(out);
    s.params.chunkStates = chunks.data_ptr();
    runForward(s.params, s.u);
    Tensor finalState = chunks.select(1, s.params.numChunks() - 1).clone();
    ctx->save_for_backward({s.u, s.delta, s.A, s.B, s.C, absentAsEmpty(s.D, s.A), absentAsEmpty(s.z, s.u),
                            absentAsEmpty(s.bias, s.A), absentAsEmpty(s.h0, s.A), chunks});
    ctx->saved_data["softplus"] = softplus;
    ctx->saved_data["B_dtype"] = static_cast<int64_t>(B.scalar_type());
    return {out, finalState};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    ScanInputs in{saved[0], saved[1], saved[2], saved[3], saved[4], emptyAsAbsent(saved[5]), emptyAsAbsent(saved[6]),
                  emptyAsAbsent(saved[7]), emptyAsAbsent(saved[8]), ctx->saved_data["softplus"].toBool()};
    Tensor chunks = saved[9];
    PreparedScan s = prepare(in);
    k::ScanGradParams g;
    static_cast<k::ScanParams&>(g) = s.params;
    g.chunkStates = chunks.data_ptr();
    Tensor dout = grads[0].defined() ? grads[0].contiguous().to(s.u.scalar_type()) : torch::zeros_like(s.u);
    auto wopts = s.A.options();
    // du, ddelta and dz are written contiguous (kernels/selective_scan.h), whatever the inputs' strides.
    auto rowsLikeU = [&] { return torch::empty(s.u.sizes(), s.u.options()); };
    Tensor du = rowsLikeU(), ddelta = rowsLikeU();
    Tensor dz = s.z.defined() ? rowsLikeU() : Tensor();
    Tensor dA = torch::empty_like(s.A);
    Tensor dB = torch::empty(s.B.sizes(), wopts), dC = torch::empty(s.C.sizes(), wopts);
    Tensor dD = s.D.defined() ? torch::empty_like(s.D) : Tensor();
    Tensor dBias = s.bias.defined() ? torch::empty_like(s.bias) : Tensor();
    Tensor dH0 = s.h0.defined() ? torch::empty_like(s.h0) : Tensor();
    g.dout = dout.data_ptr(); g.doutStride = strides2(dout);
    Tensor dFinal = grads[1].defined() ? grads[1].contiguous().to(s.A.scalar_type()) : Tensor();
    g.dFinalState = ptrOrNull(dFinal);
    g.du = du.data_ptr(); g.ddelta = ddelta.data_ptr(); g.dz = ptrOrNull(dz);
    g.dA = dA.data_ptr(); g.dB = dB.data_ptr(); g.dC = dC.data_ptr();
    g.dD = ptrOrNull(dD); g.dDeltaBias = ptrOrNull(dBias); g.dInitialState = ptrOrNull(dH0);
    runBackward(g, s.u);
    auto bType = static_cast<torch::ScalarType>(ctx->saved_data["B_dtype"].toInt());
    return {du, ddelta, dA, dB.to(bType), dC.to(bType), dD, dz, dBias, dH0, Tensor()};
  }
};

}  // namespace

ScanOutputs selectiveScan(const ScanInputs& raw) {
  ScanInputs in = normalised(raw);
  validate(in);
  auto outs = SelectiveScanFunction::apply(in.u, in.delta, in.A, in.B, in.C, absentAsEmpty(in.D, in.A),
                                           absentAsEmpty(in.z, in.u), absentAsEmpty(in.deltaBias, in.A),
                                           absentAsEmpty(in.initialState, in.A), in.deltaSoftplus);
  Tensor out = outs[0];
  return {out, outs[1]};
}

ScanOutputs selectiveScanTorchOps(const ScanInputs& raw, TorchLoop loop) {
  ScanInputs in = normalised(raw);
  validate(in);
  const int64_t D = in.u.size(2), G = in.B.size(2), L = in.u.size(1);
  Tensor dt = in.deltaBias.defined() ? in.delta + in.deltaBias : in.delta;
  if (in.deltaSoftplus) dt = torch::nn::functional::softplus(dt);
  // (batch, length, channels, states) views of B and C: each channel reads its group.
  auto perChannel = [&](const Tensor& t) { return t.repeat_interleave(D / G, 2); };
  Tensor Bc = perChannel(in.B), Cc = perChannel(in.C);
  Tensor decay = torch::exp(dt.unsqueeze(-1) * in.A);
  Tensor drive = (dt * in.u).unsqueeze(-1) * Bc;
  Tensor h = in.initialState.defined() ? in.initialState.to(in.u.scalar_type())
                                       : torch::zeros({in.u.size(0), D, in.A.size(1)}, in.u.options());
  std::vector<Tensor> ys;
  ys.reserve(L);
  if (loop == TorchLoop::Unbind) {
    const auto decays = decay.unbind(1), drives = drive.unbind(1), readouts = Cc.unbind(1);
    for (int64_t t = 0; t < L; ++t) {
      h = decays[size_t(t)] * h + drives[size_t(t)];
      ys.push_back((h * readouts[size_t(t)]).sum(-1));
    }
  } else {
    for (int64_t t = 0; t < L; ++t) {
      h = decay.select(1, t) * h + drive.select(1, t);
      ys.push_back((h * Cc.select(1, t)).sum(-1));
    }
  }
  Tensor y = torch::stack(ys, 1);
  if (in.D.defined()) y = y + in.u * in.D;
  if (in.z.defined()) y = y * torch::silu(in.z);
  return {y, h};
}

Tensor selectiveScanStep(const ScanInputs& token, Tensor& state) {
  check(token.u.dim() == 2, "step: u must be (batch, channels), got " + shapeOf(token.u));
  check(state.defined() && state.dim() == 3 && state.is_contiguous() && state.scalar_type() == weightType(token.u),
        "step: state must be a contiguous (batch, channels, states) tensor of the weight dtype");
  Tensor B = token.B.dim() == 2 ? token.B.unsqueeze(1) : token.B;
  Tensor C = token.C.dim() == 2 ? token.C.unsqueeze(1) : token.C;
  auto wt = weightType(token.u);
  auto io = [&](const Tensor& t) { return t.defined() ? t.contiguous().to(token.u.scalar_type()) : t; };
  auto w = [&](const Tensor& t) { return t.defined() ? t.contiguous().to(wt) : t; };
  Tensor u = token.u.contiguous(), delta = io(token.delta), z = io(token.z);
  B = io(B); C = io(C);
  Tensor A = w(token.A), D = w(token.D), bias = w(token.deltaBias);
  Tensor out = torch::empty_like(u);
  k::ScanStepParams p;
  p.batch = static_cast<int>(u.size(0));
  p.channels = static_cast<int>(u.size(1));
  p.states = static_cast<int>(A.size(1));
  p.groups = static_cast<int>(B.size(1));
  p.dtype = scanDType(u);
  p.deltaSoftplus = token.deltaSoftplus;
  p.u = u.data_ptr(); p.delta = delta.data_ptr(); p.A = A.data_ptr(); p.B = B.data_ptr(); p.C = C.data_ptr();
  p.D = ptrOrNull(D); p.z = ptrOrNull(z); p.deltaBias = ptrOrNull(bias);
  p.state = state.data_ptr(); p.out = out.data_ptr();
  torch::NoGradGuard noGrad;
  if (u.is_cuda()) {
    CudaLaunchScope scope(u.get_device());
    k::scanStepCuda(p, scope.stream());
  }
  else if (usesCudaKernels(u)) k::scanStepCudaEmulated(p);
  else if (p.dtype == k::ScanDType::Float64) k::scanStepReference(p);
  else k::scanStepCpu(p);
  return out;
}

EmulatedCudaScope::EmulatedCudaScope() : previous_(gEmulateCuda) { gEmulateCuda = true; }
EmulatedCudaScope::~EmulatedCudaScope() { gEmulateCuda = previous_; }

}  // namespace continua::core

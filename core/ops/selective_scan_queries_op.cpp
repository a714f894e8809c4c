#include "core/ops/selective_scan_queries_op.h"

#include "kernels/selective_scan_queries.h"

#include <stdexcept>

namespace continua::core {
namespace k = continua::kernels;
using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

Tensor orEmpty(const Tensor& t, const Tensor& like) { return t.defined() ? t : torch::empty({0}, like.options()); }
Tensor orUndefined(const Tensor& t) { return t.numel() == 0 ? Tensor() : t; }

k::QueryStepParams paramsFor(const Tensor& u, const Tensor& delta, const Tensor& A, const Tensor& B, const Tensor& C,
                             const Tensor& D, const Tensor& z, const Tensor& bias, const Tensor& state, bool softplus) {
  k::QueryStepParams p;
  p.batch = int(u.size(0)); p.queries = int(u.size(1)); p.channels = int(u.size(2)); p.states = int(A.size(1));
  p.deltaSoftplus = softplus;
  p.numThreads = std::max(1, at::get_num_threads());
  p.u = u.data_ptr<float>(); p.delta = delta.data_ptr<float>(); p.A = A.data_ptr<float>();
  p.B = B.data_ptr<float>(); p.C = C.data_ptr<float>(); p.state = state.data_ptr<float>();
  p.D = D.numel() ? D.data_ptr<float>() : nullptr;
  p.z = z.numel() ? z.data_ptr<float>() : nullptr;
  p.deltaBias = bias.numel() ? bias.data_ptr<float>() : nullptr;
  return p;
}

struct QueryStepFunction : torch::autograd::Function<QueryStepFunction> {
  static Tensor forward(AutogradContext* ctx, Tensor u, Tensor delta, Tensor A, Tensor B, Tensor C, Tensor D, Tensor z,
                        Tensor bias, Tensor state, bool softplus) {
    auto c = [](const Tensor& t) { return t.contiguous(); };
    u = c(u); delta = c(delta); A = c(A); B = c(B); C = c(C); D = c(D); z = c(z); bias = c(bias); state = c(state);
    Tensor out = torch::empty_like(u);
    k::QueryStepParams p = paramsFor(u, delta, A, B, C, D, z, bias, state, softplus);
    p.out = out.data_ptr<float>();
    k::queryStepForwardCpu(p);
    ctx->save_for_backward({u, delta, A, B, C, D, z, bias, state});
    ctx->saved_data["softplus"] = softplus;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto s = ctx->get_saved_variables();
    const Tensor &u = s[0], &delta = s[1], &A = s[2], &B = s[3], &C = s[4], &D = s[5], &z = s[6], &bias = s[7], &state = s[8];
    k::QueryStepGradParams g;
    static_cast<k::QueryStepParams&>(g) = paramsFor(u, delta, A, B, C, D, z, bias, state, ctx->saved_data["softplus"].toBool());
    Tensor dout = grads[0].contiguous();
    Tensor du = torch::empty_like(u), ddelta = torch::empty_like(delta), dA = torch::empty_like(A), dB = torch::empty_like(B),
           dC = torch::empty_like(C), dD = torch::empty_like(D), dz = torch::empty_like(z), dbias = torch::empty_like(bias),
           dstate = torch::empty_like(state);
    g.dout = dout.data_ptr<float>();
    g.du = du.data_ptr<float>(); g.ddelta = ddelta.data_ptr<float>(); g.dA = dA.data_ptr<float>();
    g.dB = dB.data_ptr<float>(); g.dC = dC.data_ptr<float>(); g.dState = dstate.data_ptr<float>();
    g.dD = D.numel() ? dD.data_ptr<float>() : nullptr;
    g.dz = z.numel() ? dz.data_ptr<float>() : nullptr;
    g.dDeltaBias = bias.numel() ? dbias.data_ptr<float>() : nullptr;
    k::queryStepBackwardCpu(g);
    return {du, ddelta, dA, dB, dC, orUndefined(dD), orUndefined(dz), orUndefined(dbias), dstate, Tensor()};
  }
};

bool fusedKernelApplies(const ScanInputs& q, const Tensor& state) {
  auto cpuFloat = [](const Tensor& t) { return !t.defined() || (t.device().is_cpu() && t.scalar_type() == torch::kFloat32); };
  return cpuFloat(q.u) && cpuFloat(q.delta) && cpuFloat(q.A) && cpuFloat(q.B) && cpuFloat(q.C) && cpuFloat(q.D) &&
         cpuFloat(q.z) && cpuFloat(q.deltaBias) && cpuFloat(state) && q.B.dim() == 3 && !q.initialState.defined();
}

}  // namespace

Tensor selectiveScanQueries(const ScanInputs& q, const Tensor& state) {
  const int64_t Bn = q.u.size(0), Q = q.u.size(1), E = q.u.size(2), N = q.A.size(1);
  if (state.dim() != 3 || state.size(0) != Bn || state.size(1) != E || state.size(2) != N)
    throw std::invalid_argument("selectiveScanQueries: state must be (batch, channels, states)");
  if (fusedKernelApplies(q, state))
    return QueryStepFunction::apply(q.u, q.delta, q.A, q.B, q.C, orEmpty(q.D, q.u), orEmpty(q.z, q.u), orEmpty(q.deltaBias, q.u),
                                    state, q.deltaSoftplus);
  // Elsewhere: (batch x queries) sequences of length 1, each starting from its batch element's state.
  auto oneStep = [&](const Tensor& t, int64_t width) { return t.defined() ? t.reshape({Bn * Q, 1, width}) : t; };
  ScanInputs in = q;
  in.u = oneStep(q.u, E); in.delta = oneStep(q.delta, E); in.z = oneStep(q.z, E);
  in.B = oneStep(q.B, N); in.C = oneStep(q.C, N);
  in.initialState = state.repeat_interleave(Q, 0);
  return selectiveScan(in).out.view({Bn, Q, E});
}

}  // namespace continua::core

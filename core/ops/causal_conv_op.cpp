#include "core/ops/causal_conv_op.h"

#include "kernels/causal_conv.h"

namespace continua::core {
namespace F = torch::nn::functional;
namespace k = continua::kernels;
using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

k::CausalConvParams paramsFor(const Tensor& x, const Tensor& w, const Tensor& bias) {
  k::CausalConvParams p;
  p.batch = int(x.size(0)); p.length = int(x.size(1)); p.channels = int(x.size(2)); p.kernel = int(w.size(1));
  p.numThreads = std::max(1, at::get_num_threads());
  p.x = x.data_ptr<float>(); p.xBatchStride = x.stride(0); p.xTimeStride = x.stride(1);
  p.weight = w.data_ptr<float>();
  p.bias = bias.defined() ? bias.data_ptr<float>() : nullptr;
  return p;
}

struct CausalConvSiluFunction : torch::autograd::Function<CausalConvSiluFunction> {
  // weight arrives as (channels, kernel), contiguous; x keeps its strides (the x half of in_proj's output).
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& weight, const Tensor& bias) {
    Tensor y = torch::empty({x.size(0), x.size(1), x.size(2)}, x.options().memory_format(torch::MemoryFormat::Contiguous));
    k::CausalConvParams p = paramsFor(x, weight, bias);
    p.y = y.data_ptr<float>();
    k::causalConvSiluForwardCpu(p);
    ctx->save_for_backward({x, weight, bias});
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto s = ctx->get_saved_variables();
    const Tensor &x = s[0], &weight = s[1], &bias = s[2];
    k::CausalConvGradParams g;
    static_cast<k::CausalConvParams&>(g) = paramsFor(x, weight, bias);
    Tensor dy = grads[0].contiguous();
    Tensor dx = torch::empty({x.size(0), x.size(1), x.size(2)}, x.options());
    Tensor dw = torch::empty_like(weight), db = bias.defined() ? torch::empty_like(bias) : Tensor();
    g.dy = dy.data_ptr<float>(); g.dx = dx.data_ptr<float>(); g.dWeight = dw.data_ptr<float>();
    g.dBias = db.defined() ? db.data_ptr<float>() : nullptr;
    k::causalConvSiluBackwardCpu(g);
    return {dx, dw, db};
  }
};

}  // namespace

Tensor causalConvSilu(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  const bool fused = x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && x.stride(2) == 1 &&
                     weight.scalar_type() == torch::kFloat32 && (!bias.defined() || bias.scalar_type() == torch::kFloat32);
  if (fused) {
    // (channels, 1, kernel) -> (channels, kernel): a view; the autograd graph reshapes the gradient back.
    return CausalConvSiluFunction::apply(x, weight.reshape({weight.size(0), weight.size(2)}).contiguous(),
                                         bias.defined() ? bias.contiguous() : bias);
  }
  const int64_t L = x.size(1), K = weight.size(2);
  Tensor y = F::conv1d(x.transpose(1, 2), weight, F::Conv1dFuncOptions().bias(bias).padding(K - 1).groups(weight.size(0)));
  return F::silu(y.index({torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(0, L)}).transpose(1, 2));
}

}  // namespace continua::core

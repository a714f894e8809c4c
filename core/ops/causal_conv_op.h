#pragma once
// silu(causal depthwise conv1d(x) + bias), Mamba's short convolution, as one LibTorch autograd operation:
// the fused CPU kernel (kernels/causal_conv.h) for float32 on the CPU, LibTorch's conv1d elsewhere.
#include <torch/torch.h>

namespace continua::core {

// x (batch, length, channels), weight (channels, 1, kernel), bias (channels) -> (batch, length, channels).
torch::Tensor causalConvSilu(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace continua::core

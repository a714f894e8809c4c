#pragma once
// The decision-tree task's tree evaluation, exposed for its test.
#include <torch/torch.h>

namespace continua::core {

constexpr int kTreeDepth = 4;                                // `depth` of the reference config
constexpr int64_t kTreeNodes = (int64_t(1) << (kTreeDepth + 1)) - 1;  // 31: a full binary tree as an array

// Node j has children 2j+1 (x[split] <= 0) and 2j+2 (x[split] > 0); leaves are nodes 15..30.
// xs (B, N, d), split (B, 31) long, leaf (B, 31) -> (B, N).
torch::Tensor evaluateDecisionTree(const torch::Tensor& xs, const torch::Tensor& split, const torch::Tensor& leaf);

}  // namespace continua::core

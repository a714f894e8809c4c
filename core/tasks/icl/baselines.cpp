#include "core/tasks/icl/baselines.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace continua::core::icl {
using torch::Tensor;
using torch::indexing::Slice;

namespace {

// The clean examples before position i: X (B, i, d) and Y (B, i) with outlier rows zeroed, their mask (B, i).
struct Prefix {
  Tensor X, Y, clean;
};
Prefix cleanPrefix(const IclPrompts& p, int64_t i) {
  Tensor clean = p.scored.index({Slice(), Slice(0, i)});
  Tensor m = clean.to(p.xs.scalar_type());
  return {p.xs.index({Slice(), Slice(0, i)}) * m.unsqueeze(-1), p.ys.index({Slice(), Slice(0, i)}) * m, clean};
}

// Runs fit(prefix, x_i) -> (B) for i = 1..N-1; position 0 stays 0.
template <typename Fit>
Tensor perPosition(const IclPrompts& p, Fit fit) {
  const int64_t B = p.xs.size(0), N = p.xs.size(1);
  Tensor out = torch::zeros({B, N});
  for (int64_t i = 1; i < N; ++i) out.index_put_({Slice(), i}, fit(cleanPrefix(p, i), p.xs.index({Slice(), i})));
  return out;
}

}  // namespace

Tensor leastSquaresBaseline(const IclPrompts& p) {
  // Zero rows add nothing to X^T X or X^T y, so the pseudo-inverse of the zero-padded prefix gives the
  // minimum-norm solution on the clean rows alone.
  return perPosition(p, [](const Prefix& f, const Tensor& xi) {
    Tensor w = torch::matmul(torch::linalg_pinv(f.X), f.Y.unsqueeze(-1)).squeeze(-1);
    return (w * xi).sum(-1);
  });
}

Tensor averagingBaseline(const IclPrompts& p) {
  return perPosition(p, [](const Prefix& f, const Tensor& xi) {
    Tensor n = f.clean.sum(-1, true).clamp_min(1).to(f.X.scalar_type());
    Tensor w = (f.X * f.Y.unsqueeze(-1)).sum(1) / n;
    return (w * xi).sum(-1);
  });
}

Tensor nearestNeighbourBaseline(const IclPrompts& p, int64_t k) {
  return perPosition(p, [k](const Prefix& f, const Tensor& xi) {
    const int64_t take = std::min<int64_t>(k, f.X.size(1));
    Tensor dist = (f.X - xi.unsqueeze(1)).norm(2, -1).masked_fill(~f.clean, std::numeric_limits<float>::infinity());
    auto [d, idx] = dist.topk(take, -1, false);
    Tensor use = torch::isfinite(d).to(f.Y.scalar_type());  // fewer than k clean examples: average those there are
    return (f.Y.gather(1, idx) * use).sum(-1) / use.sum(-1).clamp_min(1);
  });
}

LassoFit lassoFit(const Tensor& X, const Tensor& y, double alpha, int maxIterations, double tolerance, const Tensor& samples) {
  const int64_t B = X.size(0), d = X.size(2);
  Tensor n = samples.defined() ? samples.to(X.scalar_type()).clamp_min(1).view({B, 1, 1})
                               : torch::full({B, 1, 1}, double(X.size(1)), X.options());
  Tensor gram = torch::bmm(X.transpose(1, 2), X) / n;                  // (B, d, d)
  Tensor xty = torch::bmm(X.transpose(1, 2), y.unsqueeze(-1)).squeeze(-1) / n.view({B, 1});
  // The gradient's Lipschitz constant is the largest eigenvalue of X^T X / n.
  Tensor lipschitz = std::get<0>(torch::linalg_eigvalsh(gram).max(-1)).clamp_min(1e-12).view({B, 1});
  Tensor step = 1.0 / lipschitz;
  LassoFit r;
  Tensor w = torch::zeros({B, d}, X.options()), z = w.clone();
  double t = 1.0;
  for (r.iterations = 1; r.iterations <= maxIterations; ++r.iterations) {
    Tensor grad = torch::bmm(gram, z.unsqueeze(-1)).squeeze(-1) - xty;
    Tensor v = z - step * grad;
    Tensor next = torch::sign(v) * torch::relu(v.abs() - step * alpha);
    const double moved = (next - w).abs().max().item<double>(), scale = std::max(1.0, next.abs().max().item<double>());
    const double t2 = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t * t));
    z = next + ((t - 1.0) / t2) * (next - w);
    w = next;
    t = t2;
    if (moved <= tolerance * scale) {
      r.converged = true;
      break;
    }
  }
  r.w = w;
  return r;
}

Tensor lassoBaseline(const IclPrompts& p, double alpha) {
  return perPosition(p, [alpha](const Prefix& f, const Tensor& xi) {
    Tensor w = lassoFit(f.X, f.Y, alpha, 20000, 1e-7, f.clean.sum(-1)).w;
    return (w * xi).sum(-1);
  });
}

namespace {
double treeFit(const float* X, const float* y, std::vector<int>& rows, int d, const float* x, int depth) {
  double mean = 0;
  for (int r : rows) mean += y[r];
  mean /= std::max<size_t>(1, rows.size());
  if (depth == 0 || rows.size() < 2) return mean;
  double bestSse = 1e300;
  int bestF = -1;
  float bestT = 0;
  std::vector<std::pair<float, float>> col(rows.size());
  for (int f = 0; f < d; ++f) {
    for (size_t i = 0; i < rows.size(); ++i) col[i] = {X[rows[i] * d + f], y[rows[i]]};
    std::sort(col.begin(), col.end());
    double sumL = 0, sqL = 0, sumAll = 0, sqAll = 0;
    for (auto& c : col) { sumAll += c.second; sqAll += double(c.second) * c.second; }
    for (size_t i = 0; i + 1 < col.size(); ++i) {
      sumL += col[i].second;
      sqL += double(col[i].second) * col[i].second;
      if (col[i].first == col[i + 1].first) continue;
      const double nl = double(i + 1), nr = double(col.size() - i - 1);
      const double sse = (sqL - sumL * sumL / nl) + ((sqAll - sqL) - (sumAll - sumL) * (sumAll - sumL) / nr);
      if (sse < bestSse) { bestSse = sse; bestF = f; bestT = 0.5f * (col[i].first + col[i + 1].first); }
    }
  }
  if (bestF < 0) return mean;
  std::vector<int> side;
  const bool right = x[bestF] > bestT;
  for (int r : rows)
    if ((X[r * d + bestF] > bestT) == right) side.push_back(r);
  return treeFit(X, y, side, d, x, depth - 1);
}
}  // namespace

double greedyTreePredict(const Tensor& X, const Tensor& y, const Tensor& x, int maxDepth) {
  Tensor Xc = X.to(torch::kFloat32).contiguous(), yc = y.to(torch::kFloat32).contiguous(), xc = x.to(torch::kFloat32).contiguous();
  std::vector<int> rows(size_t(Xc.size(0)));
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = int(i);
  return treeFit(Xc.data_ptr<float>(), yc.data_ptr<float>(), rows, int(Xc.size(1)), xc.data_ptr<float>(), maxDepth);
}

Tensor greedyTreeBaseline(const IclPrompts& p, int depth) {
  const int64_t B = p.xs.size(0), N = p.xs.size(1);
  Tensor tree = torch::zeros({B, N});
  auto acc = tree.accessor<float, 2>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 1; i < N; ++i) {
      Tensor rows = p.scored[b].slice(0, 0, i).nonzero().squeeze(-1);
      if (rows.numel() == 0) continue;
      acc[b][i] = float(greedyTreePredict(p.xs[b].index_select(0, rows), p.ys[b].index_select(0, rows), p.xs[b][i], depth));
    }
  return tree;
}

std::vector<BaselinePrediction> standardBaselines(const IclPrompts& p) {
  return {{"least squares", leastSquaresBaseline(p)},
          {"averaging", averagingBaseline(p)},
          {"3-nearest neighbours", nearestNeighbourBaseline(p, 3)}};
}

}  // namespace continua::core::icl

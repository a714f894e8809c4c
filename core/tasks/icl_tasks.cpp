#include "core/tasks/icl_tasks.h"

#include "core/util/errors.h"

#include <cmath>

namespace continua::core {
namespace F = torch::nn::functional;
using torch::Tensor;
using torch::indexing::Slice;

const std::vector<std::string>& IclTask::names() {
  static const std::vector<std::string> n{"linear_regression", "sparse_linear_regression", "relu_2nn_regression",
                                          "decision_tree", "ortho_outlier_regression", "many_outlier_regression",
                                          "sparse_parity", "mqar", "chain_of_thought"};
  return n;
}

double IclTask::normaliser() const {
  const std::string& n = m_spec.name;
  if (n == "sparse_linear_regression") return double(m_spec.sparsity);
  if (n == "decision_tree" || n == "sparse_parity" || n == "mqar") return 1.0;
  return double(m_spec.dims);
}

std::pair<int64_t, int64_t> IclTask::curriculum(int64_t step, bool enabled) const {
  const int64_t d = m_spec.dims, N = m_spec.points;
  if (!enabled || m_spec.name == "sparse_parity" || m_spec.name == "mqar") return {d, N};
  // (dims start, points start, points increment, points interval) per reference §1.3; dims +1 every 2000.
  int64_t d0 = 5, p0 = 11, inc = 2, every = 2000;
  const std::string& n = m_spec.name;
  if (n == "relu_2nn_regression" || n == "decision_tree" || n == "ortho_outlier_regression") { p0 = 26; inc = 5; }
  if (n == "chain_of_thought") return {d, std::min(N, std::min<int64_t>(26, N) + 5 * (step / 2000))};  // dims fixed
  if (n == "many_outlier_regression") { d0 = 4; p0 = 12; inc = 2; every = 200; }
  const int64_t k = step / 2000;
  return {std::min(d, std::min(d0, d) + k), std::min(N, std::min(p0, N) + inc * (step / every))};
}

namespace {

Tensor interleave(const Tensor& xs, const Tensor& yTokens) { return torch::stack({xs, yTokens}, 2).flatten(1, 2); }

Tensor padY(const Tensor& ys, int64_t d) {
  Tensor y = torch::zeros({ys.size(0), ys.size(1), d});
  y.index_put_({Slice(), Slice(), 0}, ys);
  return y;
}

// A vector orthogonal to w (per prompt) with the reference's random scaling: the paper's intent
// (outliers from the orthogonal complement of the task), rather than the code's fresh random w (docs/DECISIONS.md).
Tensor orthogonalDummy(const Tensor& w, torch::Generator& gen) {
  const int64_t B = w.size(0), d = w.size(1);
  auto perp = [&](const Tensor& r, const Tensor& to) { return r - (r * to).sum(-1, true) / (to * to).sum(-1, true).clamp_min(1e-12) * to; };
  Tensor u = perp(torch::randn({B, d}, gen), w);
  Tensor v = perp(perp(torch::randn({B, d}, gen), w), u);
  Tensor a = torch::randn({B, 1}, gen), b = torch::randn({B, 1}, gen);
  a = a / (a * a + b * b);
  b = b / (a * a + b * b);  // uses the updated a, as the reference
  return a * u + b * v;
}

}  // namespace

Tensor evaluateDecisionTree(const Tensor& xs, const Tensor& split, const Tensor& leaf) {
  const int64_t B = xs.size(0), N = xs.size(1);
  Tensor node = torch::zeros({B, N}, torch::kLong);
  for (int depth = 0; depth < 4; ++depth) {
    Tensor coord = split.gather(1, node);                                  // (B, N)
    Tensor value = xs.gather(2, coord.unsqueeze(-1)).squeeze(-1);
    node = 2 * node + 1 + value.gt(0).to(torch::kLong);
  }
  return leaf.gather(1, node);
}

Tensor lassoFit(const Tensor& X, const Tensor& y, double alpha, int iterations) {
  // X (B, n, d), y (B, n) -> w (B, d). Step 1/L with L bounded by the trace of X^T X / n.
  const double n = double(X.size(1));
  Tensor Xt = X.transpose(1, 2);
  Tensor lip = (X * X).sum({1, 2}).clamp_min(1e-12) / n;  // (B)
  Tensor step = (1.0 / lip).view({-1, 1});
  Tensor w = torch::zeros({X.size(0), X.size(2)}), z = w.clone();
  double t = 1.0;
  for (int k = 0; k < iterations; ++k) {
    Tensor grad = torch::bmm(Xt, (torch::bmm(X, z.unsqueeze(-1)).squeeze(-1) - y).unsqueeze(-1)).squeeze(-1) / n;
    Tensor v = z - step * grad;
    Tensor next = torch::sign(v) * torch::relu(v.abs() - step * alpha);
    const double t2 = 0.5 * (1.0 + std::sqrt(1.0 + 4.0 * t * t));
    z = next + ((t - 1.0) / t2) * (next - w);
    w = next;
    t = t2;
  }
  return w;
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

IclPrompts IclTask::sample(int64_t B, int64_t N, int64_t dTrunc, torch::Generator& gen) const {
  const int64_t d = m_spec.dims;
  const std::string& name = m_spec.name;
  IclPrompts p;
  if (name == "mqar") {
    const int64_t n = N;
    Tensor tok = torch::randn({B, 2 * n + 1, d}, gen);
    tok = tok / tok.norm(2, -1, true) * std::sqrt(double(d));
    Tensor which = torch::randint(0, n + 1, {B}, gen);  // n: the query copies itself and matches no key
    Tensor idx = (2 * which).clamp_max(2 * n);
    Tensor q = tok.index({torch::arange(B), idx});
    tok.index_put_({Slice(), 2 * n}, q);
    Tensor keys = tok.index({Slice(), Slice(0, 2 * n, 2)}), vals = tok.index({Slice(), Slice(1, 2 * n, 2)});
    Tensor best = torch::bmm(keys, q.unsqueeze(-1)).squeeze(-1).argmax(-1);
    p.xs = keys;
    p.ys = vals.index({torch::arange(B), best});
    p.tokens = tok;
    p.scored = torch::ones({B, 1}, torch::kBool);
    p.truth = torch::zeros({B, 2 * n + 1});
    p.truth.index_put_({torch::arange(B), 2 * best}, 0.5);
    p.truth.index_put_({torch::arange(B), 2 * best + 1}, 0.5);
    return p;
  }
  if (name == "chain_of_thought") {
    // s = sqrt(2/k) ReLU(W^T x), y = v^T s (Li et al. 2023), prompt [x_1, s_1, y_1, x_2, ...].
    const int64_t k = m_spec.hidden, T = d + k + 1 + 3;
    Tensor xs = torch::randn({B, N, d}, gen);
    Tensor W = torch::randn({B, d, k}, gen), v = torch::randn({B, k, 1}, gen);
    Tensor s = std::sqrt(2.0 / double(k)) * torch::relu(torch::bmm(xs, W));
    Tensor ys = torch::bmm(s, v).squeeze(-1);
    Tensor tok = torch::zeros({B, N, 3, T});
    tok.index_put_({Slice(), Slice(), 0, Slice(0, d)}, xs);
    tok.index_put_({Slice(), Slice(), 1, Slice(d, d + k)}, s);
    tok.index_put_({Slice(), Slice(), 2, d + k}, ys);
    for (int64_t type = 0; type < 3; ++type) tok.index_put_({Slice(), Slice(), type, d + k + 1 + type}, 1.0);
    p.xs = xs;
    p.ys = ys;
    p.hidden = s;
    p.tokens = tok.flatten(1, 2);
    p.scored = torch::ones({B, N}, torch::kBool);
    return p;
  }
  if (name == "sparse_parity") {
    Tensor xs = torch::randint(0, 2, {B, N, d}, gen).to(torch::kFloat32) * 2 - 1;
    Tensor support = torch::randperm(d, gen).slice(0, 0, m_spec.sparsity);  // one support per batch
    p.xs = xs;
    p.ys = xs.index_select(2, support).prod(-1);
    p.tokens = interleave(xs, padY(p.ys, d));
    p.scored = torch::ones({B, N}, torch::kBool);
    return p;
  }
  Tensor xs = torch::randn({B, N, d}, gen);
  if (dTrunc < d) xs.index_put_({Slice(), Slice(), Slice(dTrunc)}, 0.0);
  Tensor w = torch::randn({B, d, 1}, gen);
  if (name == "sparse_linear_regression") {
    Tensor mask = torch::zeros({B, d, 1});
    for (int64_t b = 0; b < B; ++b) mask.index_put_({b, torch::randperm(dTrunc, gen).slice(0, 0, std::min(m_spec.sparsity, dTrunc)), 0}, 1.0);
    w = w * mask;
  }
  Tensor ys;
  if (name == "relu_2nn_regression") {
    Tensor w1 = torch::randn({B, d, 100}, gen), w2 = torch::randn({B, 100, 1}, gen);
    ys = std::sqrt(2.0 / 100.0) * torch::bmm(torch::relu(torch::bmm(xs, w1)), w2).squeeze(-1);
  } else if (name == "decision_tree") {
    Tensor split = torch::randint(0, d, {B, 31}, gen), leaf = torch::randn({B, 31}, gen);
    ys = evaluateDecisionTree(xs, split, leaf);
  } else {
    ys = torch::bmm(xs, w).squeeze(-1);
  }
  Tensor yTok = padY(ys, d);
  p.scored = torch::ones({B, N}, torch::kBool);
  if (name == "many_outlier_regression" || name == "ortho_outlier_regression") {
    const double prob = name == "many_outlier_regression" ? 0.9 : 0.5;
    Tensor out = torch::rand({B, N}, gen).lt(prob);
    Tensor dummyX, dummyY;
    if (name == "many_outlier_regression") {
      dummyX = torch::ones({B, N, d});
      dummyY = padY(torch::ones({B, N}), d);
    } else {
      Tensor wv = w.squeeze(-1);
      dummyX = orthogonalDummy(wv, gen).unsqueeze(1).expand({B, N, d});
      dummyY = orthogonalDummy(wv, gen).unsqueeze(1).expand({B, N, d});
    }
    Tensor m = out.unsqueeze(-1);
    xs = torch::where(m, dummyX, xs);
    yTok = torch::where(m, dummyY, yTok);
    p.scored = ~out;
  }
  p.xs = xs;
  p.ys = ys;
  p.tokens = interleave(xs, yTok);
  return p;
}

Tensor IclTask::readPredictions(const Tensor& out) const {
  if (isRetrieval()) return out.index({Slice(), -1});
  if (isChainOfThought()) return out;  // s is read at x tokens, y at s tokens (see loss)
  return out.index({Slice(), Slice(0, torch::indexing::None, 2), 0});
}

Tensor IclTask::loss(const Tensor& pred, const IclPrompts& p) const {
  if (isRetrieval()) return (pred - p.ys).pow(2).mean();
  if (isChainOfThought()) {  // s at the x tokens (summed over k), y at the s tokens
    const int64_t k = m_spec.hidden;
    Tensor sPred = pred.index({Slice(), Slice(0, torch::indexing::None, 3), Slice(0, k)});
    Tensor yPred = pred.index({Slice(), Slice(1, torch::indexing::None, 3), k});
    return (sPred - p.hidden).pow(2).sum(-1).mean() + (yPred - p.ys).pow(2).mean();
  }
  if (isClassification()) return F::binary_cross_entropy_with_logits(pred, (p.ys + 1) / 2);
  Tensor se = (pred - p.ys).pow(2) * p.scored;
  return se.sum() / p.scored.sum().clamp_min(1);
}

Tensor IclTask::metric(const Tensor& pred, const IclPrompts& p) const {
  if (isRetrieval()) return (pred - p.ys).pow(2).sum(-1, true);
  if (isChainOfThought())  // y error at the s tokens, with the true s in the prompt (teacher forcing)
    return (pred.index({Slice(), Slice(1, torch::indexing::None, 3), m_spec.hidden}) - p.ys).pow(2);
  if (isClassification()) return pred.sign().eq(p.ys).to(torch::kFloat32);
  Tensor se = (pred - p.ys).pow(2) / normaliser();
  return torch::where(p.scored, se, torch::full_like(se, std::nan("")));
}

std::vector<std::pair<std::string, Tensor>> IclTask::baselines(const IclPrompts& p) const {
  std::vector<std::pair<std::string, Tensor>> out;
  if (isRetrieval()) {  // exact lookup: the value of the best-matching key
    const int64_t B = p.xs.size(0);
    Tensor q = p.tokens.index({Slice(), -1});
    Tensor best = torch::bmm(p.xs, q.unsqueeze(-1)).squeeze(-1).argmax(-1);
    out.push_back({"exact lookup", p.tokens.index({torch::arange(B), 2 * best + 1})});
    return out;
  }
  if (isClassification() || isChainOfThought()) return out;
  const int64_t B = p.xs.size(0), N = p.xs.size(1);
  Tensor ls = torch::zeros({B, N}), avg = torch::zeros({B, N}), knn = torch::zeros({B, N});
  Tensor xs = p.xs, ys = p.ys * p.scored;  // outliers do not teach the baselines
  for (int64_t i = 1; i < N; ++i) {
    Tensor X = xs.index({Slice(), Slice(0, i)}), Y = ys.index({Slice(), Slice(0, i)}).unsqueeze(-1);
    Tensor xi = xs.index({Slice(), i});
    Tensor w = torch::matmul(torch::linalg_pinv(X), Y).squeeze(-1);  // minimum-norm least squares
    ls.index_put_({Slice(), i}, (w * xi).sum(-1));
    Tensor wa = (X * Y).mean(1);
    avg.index_put_({Slice(), i}, (wa * xi).sum(-1));
    const int64_t k = std::min<int64_t>(i, 3);
    Tensor dist = (X - xi.unsqueeze(1)).norm(2, -1);
    Tensor nearest = std::get<1>(dist.topk(k, -1, false));
    knn.index_put_({Slice(), i}, Y.squeeze(-1).gather(1, nearest).mean(-1));
  }
  out.push_back({"least squares", ls});
  out.push_back({"averaging", avg});
  out.push_back({"3-nearest neighbours", knn});
  const std::string& name = m_spec.name;
  if (name == "sparse_linear_regression") {  // Lasso, alpha 0.01 (the curve the paper plots)
    Tensor lasso = torch::zeros({B, N});
    for (int64_t i = 1; i < N; ++i) {
      Tensor w = lassoFit(xs.index({Slice(), Slice(0, i)}), ys.index({Slice(), Slice(0, i)}), 0.01);
      lasso.index_put_({Slice(), i}, (w * xs.index({Slice(), i})).sum(-1));
    }
    out.push_back({"lasso (alpha 0.01)", lasso});
  }
  if (name == "decision_tree") {  // greedy regression tree of depth 4, refit for every prompt and position
    Tensor tree = torch::zeros({B, N});
    auto acc = tree.accessor<float, 2>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 1; i < N; ++i)
        acc[b][i] = float(greedyTreePredict(xs[b].slice(0, 0, i), ys[b].slice(0, 0, i), xs[b][i], 4));
    out.push_back({"greedy tree (depth 4)", tree});
  }
  return out;
}

Tensor IclTask::groundTruth(const IclPrompts& p) const {
  if (!isRetrieval() || !p.truth.defined())
    throw ConfigError("ground-truth association is defined for MCL episodes and for mqar (the query's matching key and "
                      "value); task '" + m_spec.name + "' has none");
  return p.truth;
}

}  // namespace continua::core

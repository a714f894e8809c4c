// The two outlier regressions (reference/mamba_icl.md §2.5-2.6): clean pairs as linear regression, each position
// independently replaced by a dummy pair with the task's outlier rate. Loss, metric and baselines see only the
// clean positions.
//   orthogonal outliers (rate 0.5): one dummy x per prompt orthogonal to the prompt's own w, and a second such
//     vector as the whole y-token (the paper's intent; the code draws w fresh: docs/DECISIONS.md)
//   many outliers (rate 0.9): x = (1, ..., 1), y = 1 (y-token (1, 0, ..., 0))
#include "core/tasks/icl/baselines.h"

namespace continua::core {
namespace {
using torch::Tensor;

constexpr double kOrthogonalOutlierRate = 0.5;  // `prob` of filter_ortho_linear_regression
constexpr double kManyOutlierRate = 0.9;        // `prob` of filter_linear_regression

// A vector orthogonal to w (per prompt) with the reference's random scaling of two orthogonal directions.
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

class OutlierRegression : public IclTask {
 public:
  OutlierRegression(IclTaskSpec s, bool orthogonal) : IclTask(std::move(s)), m_orthogonal(orthogonal) {}

  IclPrompts sample(int64_t B, int64_t N, int64_t dTrunc, torch::Generator& gen) const override {
    const int64_t d = m_spec.dims;
    Tensor xs = icl::gaussianInputs(B, N, d, dTrunc, gen);
    Tensor w = torch::randn({B, d, 1}, gen);
    Tensor ys = torch::bmm(xs, w).squeeze(-1);
    Tensor yTok = icl::padY(ys, d);
    Tensor outlier = torch::rand({B, N}, gen).lt(m_orthogonal ? kOrthogonalOutlierRate : kManyOutlierRate);
    Tensor dummyX, dummyY;
    if (m_orthogonal) {
      dummyX = orthogonalDummy(w.squeeze(-1), gen).unsqueeze(1).expand({B, N, d});
      dummyY = orthogonalDummy(w.squeeze(-1), gen).unsqueeze(1).expand({B, N, d});
    } else {
      dummyX = torch::ones({B, N, d});  // every coordinate, even those the curriculum truncates
      dummyY = icl::padY(torch::ones({B, N}), d);
    }
    Tensor m = outlier.unsqueeze(-1);
    IclPrompts p;
    p.xs = torch::where(m, dummyX, xs);
    p.ys = ys;
    p.tokens = icl::interleave(p.xs, torch::where(m, dummyY, yTok));
    p.scored = ~outlier;
    return p;
  }
  std::vector<BaselinePrediction> baselines(const IclPrompts& p) const override { return icl::standardBaselines(p); }

 protected:
  CurriculumSchedule schedule() const override {
    if (m_orthogonal) return {5, 26, 5, 2000, true, true};
    return {4, 12, 2, 200, true, true};  // many outliers: 512 points, +2 every 200 steps
  }

 private:
  bool m_orthogonal;
};

}  // namespace

std::unique_ptr<IclTask> makeOrthogonalOutlierRegression(const IclTaskSpec& s) { return std::make_unique<OutlierRegression>(s, true); }
std::unique_ptr<IclTask> makeManyOutlierRegression(const IclTaskSpec& s) { return std::make_unique<OutlierRegression>(s, false); }

}  // namespace continua::core

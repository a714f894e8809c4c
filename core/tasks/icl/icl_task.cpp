#include "core/tasks/icl/icl_task.h"

#include "core/util/errors.h"

#include <cmath>

namespace continua::core {
using torch::Tensor;
using torch::indexing::Slice;

std::pair<int64_t, int64_t> IclTask::curriculum(int64_t step, bool enabled) const {
  const int64_t d = m_spec.dims, N = m_spec.points;
  const CurriculumSchedule c = schedule();
  if (!enabled || !c.enabled) return {d, N};
  // The reference updates after every step: at step i the variable is start + increment * floor(i / interval).
  const int64_t dims = c.growDims ? std::min(d, std::min(c.dimsStart, d) + step / 2000) : d;
  return {dims, std::min(N, std::min(c.pointsStart, N) + c.pointsIncrement * (step / c.pointsEvery))};
}

Tensor IclTask::readPredictions(const Tensor& out) const {
  return out.index({Slice(), Slice(0, torch::indexing::None, 2), 0});  // prediction[:, ::2, 0]
}

Tensor IclTask::loss(const Tensor& pred, const IclPrompts& p) const {
  Tensor se = (pred - p.ys).pow(2) * p.scored;
  return se.sum() / p.scored.sum().clamp_min(1);
}

Tensor IclTask::metric(const Tensor& pred, const IclPrompts& p) const {
  Tensor se = (pred - p.ys).pow(2) / normaliser();
  return torch::where(p.scored, se, torch::full_like(se, std::nan("")));
}

Tensor IclTask::groundTruth(const IclPrompts&) const {
  throw ConfigError("ground-truth association is defined for MCL episodes and for mqar (the query's matching key and "
                    "value); task '" + m_spec.name + "' has none");
}

namespace icl {

Tensor interleave(const Tensor& xs, const Tensor& yTokens) { return torch::stack({xs, yTokens}, 2).flatten(1, 2); }

Tensor padY(const Tensor& ys, int64_t d) {
  Tensor y = torch::zeros({ys.size(0), ys.size(1), d});
  y.index_put_({Slice(), Slice(), 0}, ys);
  return y;
}

Tensor gaussianInputs(int64_t batch, int64_t points, int64_t dims, int64_t dimsTruncated, torch::Generator& gen) {
  Tensor xs = torch::randn({batch, points, dims}, gen);
  if (dimsTruncated < dims) xs.index_put_({Slice(), Slice(), Slice(dimsTruncated)}, 0.0);
  return xs;
}

IclPrompts regressionPrompts(const Tensor& xs, const Tensor& ys) {
  IclPrompts p;
  p.xs = xs;
  p.ys = ys;
  p.tokens = interleave(xs, padY(ys, xs.size(2)));
  p.scored = torch::ones({xs.size(0), xs.size(1)}, torch::kBool);
  return p;
}

}  // namespace icl
}  // namespace continua::core

#include "core/tasks/mcl_episode.h"

#include "core/util/errors.h"

#include <cmath>

namespace continua::core {
using torch::Tensor;

EpisodeBatch sampleClassEpisodes(ClassDataSource& source, Split split, const EpisodeShape& shape, int64_t batch,
                                 int64_t labelVocab, double noise, torch::Generator& gen) {
  const int64_t C = shape.classes();
  if (labelVocab < C)
    throw ConfigError("task.label_vocab (" + std::to_string(labelVocab) + ") must be at least the episode's " +
                      std::to_string(C) + " classes");
  std::vector<Tensor> sx, sy, qx, qy, st, qt;
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<int64_t> classes = drawClasses(source, split, C, gen);
    Tensor code = torch::randperm(labelVocab, gen).slice(0, 0, C);  // episode class j -> label token code[j]
    std::vector<Tensor> ex, eq;
    for (int64_t j = 0; j < C; ++j) {
      Tensor all = source.sample(split, classes[size_t(j)], shape.shots + shape.testShots, gen);
      ex.push_back(all.slice(0, 0, shape.shots));
      eq.push_back(all.slice(0, shape.shots));
    }
    // Stream: all shots of class 0, then class 1, ... (task by task, never revisited); queries likewise.
    Tensor classOfStream = torch::arange(C).repeat_interleave(shape.shots);
    Tensor classOfQuery = torch::arange(C).repeat_interleave(shape.testShots);
    sx.push_back(torch::cat(ex));
    qx.push_back(torch::cat(eq));
    sy.push_back(code.index_select(0, classOfStream));
    qy.push_back(code.index_select(0, classOfQuery));
    st.push_back(classOfStream.div(shape.classesPerTask, "floor"));
    qt.push_back(classOfQuery.div(shape.classesPerTask, "floor"));
  }
  EpisodeBatch e;
  e.streamX = torch::stack(sx);
  e.queryX = torch::stack(qx);
  if (noise > 0) {
    e.streamX = e.streamX + noise * torch::randn(e.streamX.sizes(), gen);
    e.queryX = e.queryX + noise * torch::randn(e.queryX.sizes(), gen);
  }
  e.streamY = torch::stack(sy);
  e.queryY = torch::stack(qy);
  e.streamTask = torch::stack(st);
  e.queryTask = torch::stack(qt);
  e.tasks = shape.tasks;
  return e;
}

EpisodeBatch sampleSineEpisodes(const EpisodeShape& shape, int64_t batch, double extraNoise, torch::Generator& gen) {
  const int64_t T = shape.tasks, S = shape.shots, Q = shape.testShots;
  Tensor grid = torch::linspace(0, 10, kSineDim);
  Tensor f = torch::rand({batch, T, 1, 1}, gen) + 0.1;
  Tensor phx = torch::rand({batch, T, 1, 1}, gen) * (2 * M_PI), phy = torch::rand({batch, T, 1, 1}, gen) * (2 * M_PI);
  auto make = [&](int64_t n, Tensor* x, Tensor* y) {
    Tensor a = torch::rand({batch, T, n, 1}, gen) + 0.5;
    *x = a * torch::sin(2 * M_PI * f * grid + phx) + 0.1 * torch::randn({batch, T, n, kSineDim}, gen);
    *y = a * torch::sin(2 * M_PI * f * grid + phy);
    if (extraNoise > 0) *x = *x + extraNoise * torch::randn(x->sizes(), gen);
    *x = x->reshape({batch, T * n, kSineDim});
    *y = y->reshape({batch, T * n, kSineDim});
  };
  EpisodeBatch e;
  e.regression = true;
  e.tasks = T;
  make(S, &e.streamX, &e.streamY);
  make(Q, &e.queryX, &e.queryY);
  e.streamTask = torch::arange(T).repeat_interleave(S).unsqueeze(0).expand({batch, -1}).contiguous();
  e.queryTask = torch::arange(T).repeat_interleave(Q).unsqueeze(0).expand({batch, -1}).contiguous();
  return e;
}

Tensor groundTruthAssociation(const EpisodeBatch& e, bool includeLabelTokens, bool jointTokens) {
  // A query relates to the stream examples of its own class (label codes are unique within an episode);
  // for regression, of its own task. Stream token 2i is x_i, 2i+1 is y_i.
  Tensor same = e.regression ? e.queryTask.unsqueeze(-1).eq(e.streamTask.unsqueeze(1))
                             : e.queryY.unsqueeze(-1).eq(e.streamY.unsqueeze(1));
  same = same.to(torch::kFloat32);  // (B, Q, n)
  if (jointTokens) return same / same.sum(-1, true).clamp_min(1e-12);
  Tensor yWeight = includeLabelTokens ? same : torch::zeros_like(same);
  Tensor p = torch::stack({same, yWeight}, -1).flatten(2);  // (B, Q, 2n)
  return p / p.sum(-1, true).clamp_min(1e-12);
}

}  // namespace continua::core

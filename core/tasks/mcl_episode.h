#pragma once
// Meta-continual-learning episodes (reference/mambacl.md §1.2, §7.3): a stream of T tasks x S shots, each
// task introducing new classes (classesPerTask, 1 by default), followed by test queries from every task
// seen. Labels are a random code per episode (a permutation of the label vocabulary). Regression (sine)
// uses the same layout with 50-dim vector targets.
#include "core/tasks/data_source.h"

namespace continua::core {

struct EpisodeShape {
  int64_t tasks = 20, shots = 5, testShots = 5, classesPerTask = 1;
  int64_t classes() const { return tasks * classesPerTask; }
  int64_t streamExamples() const { return classes() * shots; }
  int64_t queries() const { return classes() * testShots; }
};

struct EpisodeBatch {
  torch::Tensor streamX, streamY;   // (B, n, input...), (B, n) long codes | (B, n, ydim) float
  torch::Tensor queryX, queryY;     // (B, Q, input...), (B, Q) | (B, Q, ydim)
  torch::Tensor streamTask, queryTask;  // (B, n), (B, Q): task position 0..T-1
  bool regression = false;
  int64_t tasks = 0;
};

// Classification episodes from a class source. noise > 0 adds Gaussian noise of that sigma to every input.
EpisodeBatch sampleClassEpisodes(ClassDataSource& source, Split split, const EpisodeShape& shape, int64_t batch,
                                 int64_t labelVocab, double noise, torch::Generator& gen);

// Sine regression exactly as cl-as-seq (mambacl.md §7.3): x, y in R^50 on linspace(0, 10, 50); per task a
// frequency f ~ U(0,1)+0.1 and phases; per example an amplitude a ~ U(0,1)+0.5; noise N(0, 0.1^2) on x only.
EpisodeBatch sampleSineEpisodes(const EpisodeShape& shape, int64_t batch, double extraNoise, torch::Generator& gen);
constexpr int64_t kSineDim = 50;

// Ground-truth association p of every query with the interleaved stream tokens [x_1, y_1, x_2, y_2, ...]:
// uniform over the x tokens of the query's class (and their y tokens when includeLabelTokens). (B, Q, 2n).
// With joint tokens (one per example): uniform over the query's class examples, (B, Q, n).
torch::Tensor groundTruthAssociation(const EpisodeBatch& episodes, bool includeLabelTokens, bool jointTokens = false);

}  // namespace continua::core

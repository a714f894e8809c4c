#pragma once
// The data of a meta-continual-learning run: its class source (or sine regression), the domain-shift source,
// the label vocabulary and the episode shapes, checked against each other when the runner is built — before
// any run record exists — so that a shape the data cannot serve (too few held-out classes for a length-sweep
// point, too few examples per class for the shots) is a ConfigError naming the field, not a failed run.
#include "core/tasks/data_source.h"
#include "core/tasks/mcl_episode.h"

#include <nlohmann/json.hpp>

namespace continua::core {

struct MclData {
  bool sine = false;
  EpisodeShape train, test;  // meta-training and meta-test episode shapes
  int64_t vocab = 0;         // label tokens (classification)
  std::shared_ptr<ClassDataSource> source, shifted;  // shifted: eval.domain_shift's source, when set
  double inputScale = 1.0;   // the unit of eval.noise_levels: the inputs' per-coordinate standard deviation

  static MclData fromExperiment(const nlohmann::json& experiment);
  std::vector<int64_t> inputShape() const;
};

DataSourceConfig dataConfigFrom(const nlohmann::json& data);

}  // namespace continua::core

#include "core/train/mcl_data.h"

#include "core/util/errors.h"

#include <cmath>

namespace continua::core {
using nlohmann::json;

namespace {

// x = a sin(2 pi f t + phi) + N(0, 0.1^2) with a ~ U(0.5, 1.5): Var = E[a^2] / 2 + 0.01 = (13/12) / 2 + 0.01.
const double kSineInputScale = std::sqrt(13.0 / 24.0 + 0.01);

std::string splitName(Split s) { return s == Split::MetaTrain ? "meta-train" : "meta-test"; }

// Every episode a field asks for must fit the split: enough classes, and enough examples per class for the
// shots and queries drawn without replacement.
void requireFits(const ClassDataSource& src, Split split, const EpisodeShape& shape, const std::string& field,
                 const std::string& point, const std::string& where) {
  const int64_t classes = src.numClasses(split), examples = src.examplesPerClass(split);
  if (shape.classes() > classes)
    throw ConfigError(field + ": " + point + " needs " + std::to_string(shape.classes()) + " " + splitName(split) +
                      " classes, but " + where + " has " + std::to_string(classes));
  if (shape.shots + shape.testShots > examples)
    throw ConfigError(field + ": " + point + " draws " + std::to_string(shape.shots) + " shots + " +
                      std::to_string(shape.testShots) + " queries per class, but the smallest " + splitName(split) +
                      " class of " + where + " holds " + std::to_string(examples) + " examples");
}

void checkShapes(const MclData& d, const json& c, const ClassDataSource& src, const std::string& where) {
  requireFits(src, Split::MetaTrain, d.train, "episode.tasks", std::to_string(d.train.tasks) + " tasks", where);
  requireFits(src, Split::MetaTest, d.test, "eval_episode.tasks", std::to_string(d.test.tasks) + " tasks", where);
  for (const auto& t : c["eval"]["length_tasks"]) {
    EpisodeShape s = d.test;
    s.tasks = t;
    requireFits(src, Split::MetaTest, s, "eval.length_tasks", "the point " + t.dump(), where);
  }
  for (const auto& k : c["eval"]["length_shots"]) {
    EpisodeShape s = d.test;
    s.shots = k;
    requireFits(src, Split::MetaTest, s, "eval.length_shots", "the point " + k.dump(), where);
  }
}

int64_t mostClasses(const MclData& d, const json& c) {
  int64_t most = std::max(d.train.tasks, d.test.tasks);
  for (const auto& t : c["eval"]["length_tasks"]) most = std::max<int64_t>(most, t.get<int64_t>());
  return most * d.train.classesPerTask;
}

std::shared_ptr<ClassDataSource> shiftedSource(const json& c, const ClassDataSource& main) {
  const std::string shift = c["eval"]["domain_shift"];
  if (shift == "none") return nullptr;
  DataSourceConfig dc = dataConfigFrom(c["data"]);
  if (shift == "synthetic-shifted") {  // new prototypes and a wider spread: a different "domain"
    dc.datasetSeed += 99991;
    dc.noise *= 1.5;
  } else {
    dc.kind = "features";
    dc.path = c["eval"]["domain_shift_path"];
    dc.labelsPath = c["eval"]["domain_shift_labels_path"];
  }
  auto other = makeDataSource(dc);
  if (other->inputShape() != main.inputShape()) {
    auto text = [](const std::vector<int64_t>& s) {
      std::string t;
      for (int64_t v : s) t += (t.empty() ? "" : "x") + std::to_string(v);
      return t;
    };
    throw ConfigError("eval.domain_shift_path: its examples are " + text(other->inputShape()) + ", the training data's are " +
                      text(main.inputShape()) + "; the model can only meta-test on inputs of the shape it learned");
  }
  return other;
}

}  // namespace

DataSourceConfig dataConfigFrom(const json& d) {
  DataSourceConfig c;
  c.kind = d["kind"]; c.classes = d["classes"]; c.dim = d["dim"]; c.noise = d["noise"];
  c.datasetSeed = d["dataset_seed"]; c.path = d["path"]; c.labelsPath = d["labels_path"];
  c.metaTestFraction = d["meta_test_fraction"]; c.metaTestClasses = d["meta_test_classes"];
  return c;
}

MclData MclData::fromExperiment(const json& c) {
  MclData d;
  d.sine = c["task"]["target"] == "sine";
  d.train.tasks = c["episode"]["tasks"]; d.train.shots = c["episode"]["shots"];
  d.train.testShots = c["episode"]["test_shots"]; d.train.classesPerTask = c["episode"]["classes_per_task"];
  d.test = d.train;
  d.test.tasks = c["eval_episode"]["tasks"]; d.test.shots = c["eval_episode"]["shots"];
  if (d.sine) {
    d.inputScale = kSineInputScale;
    return d;
  }
  d.source = makeDataSource(dataConfigFrom(c["data"]));
  const std::string where = "data '" + c["data"]["kind"].get<std::string>() + "'";
  checkShapes(d, c, *d.source, where);
  d.shifted = shiftedSource(c, *d.source);
  if (d.shifted) requireFits(*d.shifted, Split::MetaTest, d.test, "eval.domain_shift", "meta-test on it", "the domain-shift data");
  const int64_t vocab = c["task"]["label_vocab"];
  d.vocab = vocab > 0 ? vocab : mostClasses(d, c);
  d.inputScale = d.source->inputScale();
  return d;
}

std::vector<int64_t> MclData::inputShape() const { return sine ? std::vector<int64_t>{kSineDim} : source->inputShape(); }

}  // namespace continua::core

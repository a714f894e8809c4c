#pragma once
// Where MCL examples come from. A source holds classes split into meta-train and meta-test (disjoint) and
// draws examples of a class on request. Sources: synthetic class prototypes (default, no files), feature
// files (.npy or CSV), CIFAR-100 (binary version), image folders. Sine regression is a task of its own.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace continua::core {

enum class Split { MetaTrain, MetaTest };

class ClassDataSource {
 public:
  virtual ~ClassDataSource() = default;
  virtual std::vector<int64_t> inputShape() const = 0;  // {features} or {channels, height, width}
  virtual int64_t numClasses(Split split) const = 0;
  // `count` examples of class `cls` (0-based within the split), float32, shape (count, inputShape...).
  virtual torch::Tensor sample(Split split, int64_t cls, int64_t count, torch::Generator& gen) = 0;
  virtual std::string describe() const = 0;
  // The per-coordinate standard deviation of the inputs (averaged over coordinates): the unit in which
  // evaluation noise is given (eval.noise_levels are multiples of it).
  virtual double inputScale() const = 0;
  // The fewest examples any class of the split holds (an episode draws shots + test_shots without replacement).
  virtual int64_t examplesPerClass(Split split) const = 0;
  bool isImage() const { return inputShape().size() == 3; }
};

struct DataSourceConfig {
  std::string kind = "synthetic";  // synthetic | features | cifar100 | image-folder
  // synthetic
  int64_t classes = 1000, dim = 64;
  double noise = 0.6;            // example spread around the prototype, relative to prototype scale
  int64_t datasetSeed = 1234;    // fixes the prototypes; independent of the run's seed
  // features / cifar100 / image-folder
  std::string path, labelsPath;
  // split
  double metaTestFraction = 0.2;  // synthetic and features: fraction of classes held out
  int64_t metaTestClasses = 0;    // >0: exactly this many held out (cifar100 default 40, as cl-as-seq)
  int64_t imageSize = 32;
};

// Throws DataError (core/util/errors.h) naming the file and what was wrong.
std::shared_ptr<ClassDataSource> makeDataSource(const DataSourceConfig& config);

// Classes of a split, drawn without replacement from `gen`.
std::vector<int64_t> drawClasses(const ClassDataSource& source, Split split, int64_t count, torch::Generator& gen);

}  // namespace continua::core

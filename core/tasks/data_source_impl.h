#pragma once
// Concrete data sources (internal to core/tasks). File-backed sources load everything into memory, grouped
// by class, then split the classes into meta-train and meta-test exactly as cl-as-seq does: Python's
// random.seed(0); random.shuffle(classes); the first metaTestClasses are held out (core/util/python_random.h).
#include "core/tasks/data_source.h"

#include <limits>

namespace continua::core {

class SyntheticPrototypes : public ClassDataSource {
 public:
  explicit SyntheticPrototypes(const DataSourceConfig& c);
  std::vector<int64_t> inputShape() const override { return {m_config.dim}; }
  int64_t numClasses(Split s) const override;
  torch::Tensor sample(Split s, int64_t cls, int64_t count, torch::Generator& gen) override;
  std::string describe() const override;
  // Prototypes ~ N(0, I/dim) plus spread noise * N(0, I/dim): per-coordinate std sqrt((1 + noise^2) / dim).
  double inputScale() const override;
  int64_t examplesPerClass(Split) const override { return std::numeric_limits<int64_t>::max(); }

 private:
  DataSourceConfig m_config;
  torch::Tensor m_prototypes;
  int64_t m_trainClasses = 0, m_testClasses = 0;
};

// The whole of a data file, or a DataError naming it: missing, unreadable, or not a regular file (a directory or
// a device such as /dev/zero would otherwise be read forever or fail obscurely).
std::string readDataFile(const std::string& path);

// A file's examples grouped by class, in the order the split shuffles them (see each loader).
struct LabelledClasses {
  std::vector<std::string> labels;       // the class label as the file names it
  std::vector<torch::Tensor> examples;   // per class: (n_c, shape...)
};

// Examples held in memory: one tensor (n_c, shape...) per class.
class InMemoryClasses : public ClassDataSource {
 public:
  InMemoryClasses(LabelledClasses classes, int64_t metaTestClasses, std::string description);
  std::vector<int64_t> inputShape() const override;
  int64_t numClasses(Split s) const override;
  torch::Tensor sample(Split s, int64_t cls, int64_t count, torch::Generator& gen) override;
  std::string describe() const override { return m_description; }
  double inputScale() const override { return m_scale; }
  int64_t examplesPerClass(Split s) const override;
  const std::vector<std::string>& heldOutLabels() const { return m_testLabels; }

 private:
  std::vector<torch::Tensor> m_train, m_test;
  std::vector<std::string> m_testLabels;
  std::string m_description;
  double m_scale = 1.0;
};

// Loaders; each throws DataError naming the file and what was wrong (for a bad value: its line/row and column).
// Features: classes in ascending label order. CIFAR-100: classes in order of their first record in train.bin,
// the order cl-as-seq's pickle dict has. Image folders: sub-folders in name order.
LabelledClasses loadFeatureFiles(const std::string& features, const std::string& labels);  // .npy or .csv
LabelledClasses loadCifar100(const std::string& directory);  // train.bin + test.bin, merged
LabelledClasses loadImageFolder(const std::string& root, int64_t size);

// .npy reader for float32/float64/int32/int64 little-endian C-order arrays.
torch::Tensor readNpy(const std::string& path);
// CSV of "label,f1,f2,..." lines (an optional header, RFC 4180 quoting), numbers parsed locale-free.
LabelledClasses readFeatureCsv(const std::string& path);
// Examples (n, f) and their integer labels (n) grouped into classes by ascending label.
LabelledClasses groupByLabel(const torch::Tensor& x, const torch::Tensor& labels, const std::string& file);

}  // namespace continua::core

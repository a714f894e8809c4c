#pragma once
// Concrete data sources (internal to core/tasks). File-backed sources load everything into memory, grouped
// by class, then split the classes into meta-train and meta-test with a fixed shuffle (seed 0, as cl-as-seq).
#include "core/tasks/data_source.h"

namespace continua::core {

class SyntheticPrototypes : public ClassDataSource {
 public:
  explicit SyntheticPrototypes(const DataSourceConfig& c);
  std::vector<int64_t> inputShape() const override { return {m_config.dim}; }
  int64_t numClasses(Split s) const override;
  torch::Tensor sample(Split s, int64_t cls, int64_t count, torch::Generator& gen) override;
  std::string describe() const override;

 private:
  DataSourceConfig m_config;
  torch::Tensor m_prototypes;
  int64_t m_trainClasses = 0, m_testClasses = 0;
};

// Examples held in memory: one tensor (n_c, shape...) per class.
class InMemoryClasses : public ClassDataSource {
 public:
  InMemoryClasses(std::vector<torch::Tensor> perClass, int64_t metaTestClasses, std::string description);
  std::vector<int64_t> inputShape() const override;
  int64_t numClasses(Split s) const override;
  torch::Tensor sample(Split s, int64_t cls, int64_t count, torch::Generator& gen) override;
  std::string describe() const override { return m_description; }

 private:
  std::vector<torch::Tensor> m_train, m_test;
  std::string m_description;
};

// Loaders; each throws DataError naming the file and what was wrong.
std::vector<torch::Tensor> loadFeatureFiles(const std::string& features, const std::string& labels);  // .npy or .csv
std::vector<torch::Tensor> loadCifar100(const std::string& directory);  // train.bin + test.bin, merged
std::vector<torch::Tensor> loadImageFolder(const std::string& root, int64_t size);

// .npy reader for float32/float64/int32/int64 little-endian C-order arrays.
torch::Tensor readNpy(const std::string& path);

}  // namespace continua::core

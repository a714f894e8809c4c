// Synthetic class prototypes: class c is a random point p_c ~ N(0, I/dim) in a `dim`-dimensional space (so
// |p_c| ~ 1 and prototypes are ~sqrt(2) apart); an example is p_c + noise * N(0, I/dim). `noise` sets the
// difficulty: at 0.6 a 5-shot nearest-mean classifier is far above chance but not perfect. The prototypes
// come from datasetSeed, so every run (and meta-train vs meta-test) sees the same classes.
#include "core/tasks/data_source.h"
#include "core/tasks/data_source_impl.h"

#include <cmath>
#include <sstream>

namespace continua::core {

SyntheticPrototypes::SyntheticPrototypes(const DataSourceConfig& c) : m_config(c) {
  auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(c.datasetSeed));
  m_prototypes = torch::randn({c.classes, c.dim}, gen) / std::sqrt(double(c.dim));
  m_testClasses = c.metaTestClasses > 0 ? c.metaTestClasses : static_cast<int64_t>(std::llround(c.classes * c.metaTestFraction));
  m_trainClasses = c.classes - m_testClasses;
}

int64_t SyntheticPrototypes::numClasses(Split s) const { return s == Split::MetaTrain ? m_trainClasses : m_testClasses; }

torch::Tensor SyntheticPrototypes::sample(Split s, int64_t cls, int64_t count, torch::Generator& gen) {
  const int64_t global = s == Split::MetaTrain ? cls : m_trainClasses + cls;  // meta-test classes come last
  torch::Tensor proto = m_prototypes[global];
  return proto.unsqueeze(0) + torch::randn({count, m_config.dim}, gen) * (m_config.noise / std::sqrt(double(m_config.dim)));
}

double SyntheticPrototypes::inputScale() const {
  return std::sqrt((1.0 + m_config.noise * m_config.noise) / double(m_config.dim));
}

std::string SyntheticPrototypes::describe() const {
  std::ostringstream s;
  s << "synthetic prototypes: " << m_config.classes << " classes (" << m_trainClasses << " meta-train, " << m_testClasses
    << " meta-test), dim " << m_config.dim << ", noise " << m_config.noise;
  return s.str();
}

}  // namespace continua::core

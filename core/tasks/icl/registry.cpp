// The ICL tasks by name. A new task: its own file in core/tasks/icl/ defining a factory, one line here, and its
// name in the schema's task.icl_task choices (tests/core/test_tasks.cpp checks the two lists agree).
#include "core/tasks/icl/icl_task.h"

#include "core/util/errors.h"

namespace continua::core {

using IclTaskFactory = std::unique_ptr<IclTask> (*)(const IclTaskSpec&);
std::unique_ptr<IclTask> makeLinearRegression(const IclTaskSpec&);
std::unique_ptr<IclTask> makeSparseLinearRegression(const IclTaskSpec&);
std::unique_ptr<IclTask> makeRelu2nnRegression(const IclTaskSpec&);
std::unique_ptr<IclTask> makeDecisionTree(const IclTaskSpec&);
std::unique_ptr<IclTask> makeOrthogonalOutlierRegression(const IclTaskSpec&);
std::unique_ptr<IclTask> makeManyOutlierRegression(const IclTaskSpec&);
std::unique_ptr<IclTask> makeSparseParity(const IclTaskSpec&);
std::unique_ptr<IclTask> makeMqar(const IclTaskSpec&);
std::unique_ptr<IclTask> makeChainOfThought(const IclTaskSpec&);

namespace {
const std::vector<std::pair<std::string, IclTaskFactory>>& registry() {
  static const std::vector<std::pair<std::string, IclTaskFactory>> r{
      {"linear_regression", makeLinearRegression},
      {"sparse_linear_regression", makeSparseLinearRegression},
      {"relu_2nn_regression", makeRelu2nnRegression},
      {"decision_tree", makeDecisionTree},
      {"ortho_outlier_regression", makeOrthogonalOutlierRegression},
      {"many_outlier_regression", makeManyOutlierRegression},
      {"sparse_parity", makeSparseParity},
      {"mqar", makeMqar},
      {"chain_of_thought", makeChainOfThought},
  };
  return r;
}
}  // namespace

const std::vector<std::string>& iclTaskNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& e : registry()) n.push_back(e.first);
    return n;
  }();
  return names;
}

std::unique_ptr<IclTask> makeIclTask(const IclTaskSpec& spec) {
  for (const auto& [name, make] : registry())
    if (name == spec.name) return make(spec);
  std::string known;
  for (const auto& n : iclTaskNames()) known += (known.empty() ? "" : ", ") + n;
  throw ConfigError("task.icl_task: unknown task '" + spec.name + "' (known: " + known + ")");
}

}  // namespace continua::core

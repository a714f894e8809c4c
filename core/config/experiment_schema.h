#pragma once
// The experiment schema: every configuration field with its type, default, range and help. One table drives
// defaults, validation, `--set key=value` overrides, the CLI's `presets` listing and the workbench's
// generated form, so a new field needs no UI code. No LibTorch here.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace continua::core {

enum class FieldType { Int, Double, Bool, String, Choice, IntList, DoubleList };

struct FieldSpec {
  std::string path;            // dotted: "model.d_state"
  FieldType type;
  nlohmann::json defaultValue;
  double min = 0, max = 0;     // numeric range (inclusive) when min < max
  std::vector<std::string> choices;
  std::string help;
  std::string zeroMeans;       // numeric fields where 0 is a setting of its own ("auto", "off"): what editors show for it
  std::string group() const { return path.substr(0, path.find('.')); }
};

struct ValidationIssue {
  std::string path, message;  // message names what was expected and what was given
};

const std::vector<FieldSpec>& experimentSchema();
const FieldSpec* findField(const std::string& path);

nlohmann::json defaultExperiment();
// Defaults filled in under the user's values (user keys win). Unknown keys are kept for validation to reject.
nlohmann::json withDefaults(const nlohmann::json& user);
// Every problem at once: unknown keys (with a did-you-mean), wrong types, out-of-range values, bad choices,
// and cross-field rules (e.g. label vocabulary vs episode classes).
std::vector<ValidationIssue> validateExperiment(const nlohmann::json& config);
std::string formatIssues(const std::vector<ValidationIssue>& issues);

// "model.d_state=32": parses the value by the field's type. Throws ConfigError for unknown keys or bad values.
void applyOverride(nlohmann::json& config, const std::string& assignment);
nlohmann::json getPath(const nlohmann::json& config, const std::string& path);
void setPath(nlohmann::json& config, const std::string& path, const nlohmann::json& value);

// Flattened "a.b.c" -> value pairs of a config (for the runs table's params and config diffs).
std::vector<std::pair<std::string, std::string>> flattenConfig(const nlohmann::json& config);

// Named presets for the papers' experiments (complete configs: defaults + the preset's values).
std::vector<std::string> presetNames();
std::string presetDescription(const std::string& name);
nlohmann::json presetExperiment(const std::string& name);  // throws ConfigError for an unknown name

}  // namespace continua::core

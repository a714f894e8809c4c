// Validation of an experiment document: every problem at once, each naming its field, what was expected
// and what was given. Unknown keys are errors with a did-you-mean.
#include "core/config/experiment_schema.h"
#include "core/util/errors.h"

#include <algorithm>
#include <sstream>

namespace continua::core {
using nlohmann::json;

namespace {

// A value as the user wrote it, cut short: a hostile document may hold a megabyte in one field.
std::string brief(const json& v) {
  std::string d = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return d.size() > 60 ? d.substr(0, 57) + "..." : d;
}

size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string didYouMean(const std::string& path) {
  std::string best;
  size_t bestD = 1000;
  for (const auto& s : experimentSchema()) {
    size_t d = editDistance(path, s.path);
    // Also compare the last component alone, so "model.dstate" finds "model.d_state" and "d_state" finds it too.
    const std::string leaf = s.path.substr(s.path.rfind('.') + 1);
    d = std::min(d, editDistance(path.substr(path.rfind('.') + 1), leaf) + (path.find('.') == std::string::npos ? 0 : 2));
    if (d < bestD) { bestD = d; best = s.path; }
  }
  return bestD <= std::max<size_t>(3, path.size() / 3) ? " (did you mean '" + best + "'?)" : "";
}

bool hasPath(const json& config, const std::string& path) {
  const json* node = &config;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return false;
    node = &(*node)[key];
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

bool isGroup(const std::string& prefix) {
  for (const auto& s : experimentSchema())
    if (s.path.rfind(prefix + ".", 0) == 0) return true;
  return false;
}

void findUnknown(const json& node, const std::string& prefix, std::vector<ValidationIssue>& out) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (findField(path)) continue;
    if (isGroup(path)) {
      if (it.value().is_object()) findUnknown(it.value(), path, out);
      else out.push_back({path, "must be an object of settings (e.g. {\"" + path + "\": {...}}), got " + brief(it.value())});
      continue;
    }
    out.push_back({path, "unknown key" + didYouMean(path)});
  }
}

std::string typeName(FieldType t) {
  switch (t) {
    case FieldType::Int: return "an integer";
    case FieldType::Double: return "a number";
    case FieldType::Bool: return "true or false";
    case FieldType::String: return "a string";
    case FieldType::Choice: return "one of the listed values";
    case FieldType::IntList: return "a list of integers";
    case FieldType::DoubleList: return "a list of numbers";
  }
  return "";
}

// Integer fields print their bounds as integers (0..2147483647, not 0..2.14748e+09); numbers as written.
std::string rangeText(const FieldSpec& s) {
  std::ostringstream o;
  if (s.type == FieldType::Int || s.type == FieldType::IntList)
    o << static_cast<long long>(s.min) << ".." << static_cast<long long>(s.max);
  else
    o << s.min << ".." << s.max;
  return o.str();
}

void checkValue(const FieldSpec& s, const json& v, std::vector<ValidationIssue>& out) {
  auto bad = [&](const std::string& what) { out.push_back({s.path, what + ", got " + brief(v)}); };
  switch (s.type) {
    case FieldType::Int:
      if (!v.is_number_integer()) return bad("must be an integer");
      if (s.min < s.max && (v.get<double>() < s.min || v.get<double>() > s.max)) bad("must be " + rangeText(s));
      return;
    case FieldType::Double:
      if (!v.is_number()) return bad("must be a number");
      if (s.min < s.max && (v.get<double>() < s.min || v.get<double>() > s.max)) bad("must be " + rangeText(s));
      return;
    case FieldType::Bool:
      if (!v.is_boolean()) bad("must be true or false");
      return;
    case FieldType::String:
      if (!v.is_string()) bad("must be a string");
      return;
    case FieldType::Choice: {
      if (!v.is_string() || std::find(s.choices.begin(), s.choices.end(), v.get<std::string>()) == s.choices.end()) {
        std::string list;
        for (const auto& c : s.choices) list += (list.empty() ? "" : ", ") + c;
        bad("must be one of " + list);
      }
      return;
    }
    case FieldType::IntList:
    case FieldType::DoubleList:
      if (!v.is_array()) return bad("must be " + typeName(s.type));
      for (const auto& e : v)
        if (s.type == FieldType::IntList ? !e.is_number_integer() || e.get<int64_t>() < 1 : !e.is_number() || e.get<double>() < 0)
          return bad("must be " + typeName(s.type) + (s.type == FieldType::IntList ? " >= 1" : " >= 0"));
      return;
  }
}

void crossChecks(const json& c, std::vector<ValidationIssue>& out) {
  // Cross-field rules read only values that passed their own checks' types (a 1e36 is no int64_t).
  auto i = [&](const char* p) { auto v = getPath(c, p); return v.is_number_integer() ? v.get<int64_t>() : int64_t(0); };
  auto s = [&](const char* p) { auto v = getPath(c, p); return v.is_string() ? v.get<std::string>() : std::string(); };
  if (i("model.d_model") > 0 && i("model.heads") > 0 && i("model.d_model") % i("model.heads") != 0 &&
      (s("model.family").find("transformer") != std::string::npos || s("model.family") == "performer" ||
       s("model.family") == "hybrid" || s("model.family") == "mambaformer"))
    out.push_back({"model.heads", "must divide model.d_model (" + std::to_string(i("model.d_model")) + "), got " +
                                      std::to_string(i("model.heads"))});
  const json dtMin = getPath(c, "model.dt_min"), dtMax = getPath(c, "model.dt_max");
  if (dtMin.is_number() && dtMax.is_number() && dtMin.get<double>() > dtMax.get<double>())
    out.push_back({"model.dt_min", "must be <= model.dt_max (" + dtMax.dump() + "), got " + dtMin.dump()});
  const std::string icl = s("task.icl_task");
  if (s("task.family") == "icl" && (icl == "sparse_parity" || icl == "sparse_linear_regression") && i("icl.sparsity") > i("icl.n_dims"))
    out.push_back({"icl.sparsity", "must be at most icl.n_dims (" + std::to_string(i("icl.n_dims")) + ") for " + icl +
                                       ": it picks that many of the dimensions, got " + std::to_string(i("icl.sparsity"))});
  if (s("model.family") == "performer" && i("model.favor_features") % 2 != 0)
    out.push_back({"model.favor_features", "must be even (FAVOR+ pairs each random direction with its opposite), got " +
                                               std::to_string(i("model.favor_features"))});
  if (s("model.family") == "mamba-moe" && i("model.top_k") > i("model.experts"))
    out.push_back({"model.top_k", "must be <= model.experts (" + std::to_string(i("model.experts")) + "), got " +
                                      std::to_string(i("model.top_k"))});
  if (s("task.family") == "mcl" && s("data.kind") != "synthetic" && s("data.path").empty())
    out.push_back({"data.path", "is required for data.kind = " + s("data.kind")});
  const int64_t vocab = i("task.label_vocab");
  const int64_t needed = std::max(i("episode.tasks"), i("eval_episode.tasks")) * i("episode.classes_per_task");
  if (vocab > 0 && vocab < needed)
    out.push_back({"task.label_vocab", "must be at least the largest episode's classes (" + std::to_string(needed) +
                                           "), got " + std::to_string(vocab)});
  const json lambda = getPath(c, "selectivity.lambda");
  if (s("task.family") == "icl" && lambda.is_number() && lambda.get<double>() > 0 && s("task.icl_task") != "mqar")
    out.push_back({"selectivity.lambda", "must be 0 for ICL task '" + s("task.icl_task") +
                                             "': it has no ground-truth association (of the ICL tasks only mqar has one: "
                                             "the query's matching key and value), got " + lambda.dump()});
  if (s("eval.domain_shift") == "features" && s("eval.domain_shift_path").empty())
    out.push_back({"eval.domain_shift_path", "is required when eval.domain_shift = features"});
  const std::string shiftFile = s("eval.domain_shift_path");
  if (s("eval.domain_shift") == "features" && shiftFile.size() > 4 && shiftFile.substr(shiftFile.size() - 4) == ".npy" &&
      s("eval.domain_shift_labels_path").empty())
    out.push_back({"eval.domain_shift_labels_path", "is required for a .npy domain-shift file (" + shiftFile + ")"});
  if (s("eval.domain_shift") == "synthetic-shifted" && s("task.target") != "sine" && s("data.kind") != "synthetic")
    out.push_back({"eval.domain_shift", "synthetic-shifted draws new synthetic prototypes, so it needs data.kind = synthetic "
                                        "(got " + s("data.kind") + "); use eval.domain_shift = features with a feature file"});
  if (s("eval.domain_shift") != "none" && s("task.target") == "sine")
    out.push_back({"eval.domain_shift", "must be none for task.target = sine (there is no other sine domain), got " +
                                            s("eval.domain_shift")});
}

}  // namespace

std::vector<ValidationIssue> validateExperiment(const json& config) {
  std::vector<ValidationIssue> out;
  if (!config.is_object()) return {{"(document)", "must be a JSON object, got " + std::string(config.type_name())}};
  findUnknown(config, "", out);
  for (const auto& s : experimentSchema()) {
    json v = getPath(config, s.path);
    if (!v.is_null()) checkValue(s, v, out);
    else if (hasPath(config, s.path))
      out.push_back({s.path, "is null; remove the key to use the default (" + s.defaultValue.dump() + ") or give " + typeName(s.type)});
  }
  crossChecks(config, out);
  return out;
}

std::string formatIssues(const std::vector<ValidationIssue>& issues) {
  constexpr size_t kShown = 40;  // a hostile document can hold thousands of unknown keys
  std::string s;
  for (size_t i = 0; i < issues.size() && i < kShown; ++i) s += "  " + issues[i].path + ": " + issues[i].message + "\n";
  if (issues.size() > kShown) s += "  ... and " + std::to_string(issues.size() - kShown) + " more problems\n";
  return s;
}

void applyOverride(json& config, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos) throw ConfigError("--set expects key=value, got '" + assignment + "'");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  const FieldSpec* spec = findField(key);
  if (!spec) throw ConfigError("--set " + key + ": unknown key" + didYouMean(key));
  json value;
  try {
    switch (spec->type) {
      case FieldType::Int: value = std::stoll(text); break;
      case FieldType::Double: value = std::stod(text); break;
      case FieldType::Bool:
        if (text != "true" && text != "false") throw std::invalid_argument("bool");
        value = text == "true";
        break;
      case FieldType::String:
      case FieldType::Choice: value = text; break;
      case FieldType::IntList:
      case FieldType::DoubleList: {
        value = json::parse(text.front() == '[' ? text : "[" + text + "]");
        break;
      }
    }
  } catch (const std::exception&) {
    throw ConfigError("--set " + key + ": expected " + typeName(spec->type) + ", got '" + text + "'");
  }
  setPath(config, key, value);
}

}  // namespace continua::core

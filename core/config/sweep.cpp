#include "core/config/sweep.h"

#include "core/config/experiment_schema.h"
#include "core/config/experiment_text.h"
#include "core/util/errors.h"
#include "core/util/number_text.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace continua::core {
using nlohmann::json;

namespace {

using Assignment = std::pair<std::string, json>;  // key, value

// A value as it appears in a run name: numbers short (3 significant digits), strings bare.
std::string shortText(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return significantText(v.get<double>());
  return v.dump();
}

const FieldSpec& fieldOf(const std::string& key, const std::string& where) {
  const FieldSpec* f = findField(key);
  if (!f) throw ConfigError(where + ": unknown experiment key \"" + key + "\" (see `continua-cli run --help` and docs/PRESETS.md)");
  if (key == "name" || key == "seed" || key == "sweep")
    throw ConfigError(where + ": \"" + key + "\" is set by the sweep itself (use \"seeds\" for seeds)");
  return *f;
}

json baseExperiment(const json& spec, const std::string& baseDirectory, const std::string& where) {
  if (spec.contains("preset") && spec.contains("experiment"))
    throw ConfigError(where + ": give \"preset\" or \"experiment\", not both");
  if (spec.contains("preset")) {
    if (!spec["preset"].is_string()) throw ConfigError(where + ": \"preset\" must be a preset name");
    return withDefaults(presetExperiment(spec["preset"]));
  }
  if (spec.contains("experiment")) {
    if (!spec["experiment"].is_string()) throw ConfigError(where + ": \"experiment\" must be a file path");
    std::filesystem::path p = spec["experiment"].get<std::string>();
    if (p.is_relative()) p = std::filesystem::path(baseDirectory) / p;
    return withDefaults(readExperimentFile(p.string()));
  }
  return defaultExperiment();
}

// The grid's points: every combination of the listed values, keys in the file's (sorted) order.
std::vector<std::vector<Assignment>> gridPoints(const json& spec, const std::string& where) {
  std::vector<std::vector<Assignment>> points{{}};
  if (!spec.contains("grid")) return points;
  if (!spec["grid"].is_object()) throw ConfigError(where + ": \"grid\" must be an object of key: [values]");
  for (const auto& [key, values] : spec["grid"].items()) {
    fieldOf(key, where + ": grid");
    if (!values.is_array() || values.empty())
      throw ConfigError(where + ": grid \"" + key + "\" must be a non-empty list of values");
    std::vector<std::vector<Assignment>> next;
    for (const auto& p : points)
      for (const auto& v : values) {
        auto q = p;
        q.emplace_back(key, v);
        next.push_back(std::move(q));
      }
    points = std::move(next);
  }
  return points;
}

// A draw in [0, 1) from 53 bits of the generator: the same numbers on every platform (std's distributions
// are not specified bit for bit).
double unit(std::mt19937_64& gen) { return double(gen() >> 11) * 0x1.0p-53; }

json drawValue(const std::string& key, const json& how, const FieldSpec& field, std::mt19937_64& gen, const std::string& where) {
  const std::string at = where + ": random \"" + key + "\"";
  if (!how.is_object() || how.size() != 1) throw ConfigError(at + " must be one of {\"uniform\": [a, b]}, {\"log_uniform\": [a, b]}, {\"int_uniform\": [a, b]}, {\"choice\": [...]}");
  // Copied out of the object's iterator: a structured binding to `*how.items().begin()` outlives its proxy.
  const std::string kind = how.begin().key();
  const json& arg = how.begin().value();
  if (kind == "choice") {
    if (!arg.is_array() || arg.empty()) throw ConfigError(at + ": \"choice\" needs a non-empty list");
    return arg[size_t(unit(gen) * double(arg.size()))];
  }
  if (!arg.is_array() || arg.size() != 2 || !arg[0].is_number() || !arg[1].is_number() || arg[0].get<double>() > arg[1].get<double>())
    throw ConfigError(at + ": \"" + kind + "\" needs [low, high] with low <= high");
  const double lo = arg[0], hi = arg[1];
  double v;
  if (kind == "uniform") v = lo + (hi - lo) * unit(gen);
  else if (kind == "log_uniform") {
    if (lo <= 0) throw ConfigError(at + ": \"log_uniform\" needs low > 0");
    v = std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * unit(gen));
  } else if (kind == "int_uniform") {
    return int64_t(std::floor(lo + (hi - lo + 1) * unit(gen)));
  } else {
    throw ConfigError(at + ": unknown distribution \"" + kind + "\" (uniform, log_uniform, int_uniform, choice)");
  }
  if (field.type == FieldType::Int) return int64_t(std::llround(v));
  return v;
}

std::vector<std::vector<Assignment>> randomDraws(const json& spec, const std::string& where) {
  std::vector<std::vector<Assignment>> draws{{}};
  if (!spec.contains("random")) return draws;
  const json& r = spec["random"];
  if (!r.is_object() || !r.contains("count") || !r["count"].is_number_integer() || r["count"].get<int64_t>() < 1 ||
      !r.contains("params") || !r["params"].is_object())
    throw ConfigError(where + ": \"random\" needs \"count\" (>= 1) and \"params\" (key: distribution)");
  std::mt19937_64 gen(r.value("seed", 0));
  draws.clear();
  for (int64_t i = 0; i < r["count"].get<int64_t>(); ++i) {
    std::vector<Assignment> d;
    for (const auto& [key, how] : r["params"].items()) d.emplace_back(key, drawValue(key, how, fieldOf(key, where + ": random"), gen, where));
    draws.push_back(std::move(d));
  }
  return draws;
}

std::vector<int64_t> seedsOf(const json& spec, const std::string& where) {
  if (!spec.contains("seeds")) return {0};
  std::vector<int64_t> seeds;
  if (spec["seeds"].is_array())
    for (const auto& s : spec["seeds"])
      if (s.is_number_integer() && s.get<int64_t>() >= 0) seeds.push_back(s);
  if (seeds.empty() || seeds.size() != spec["seeds"].size())
    throw ConfigError(where + ": \"seeds\" must be a non-empty list of integers >= 0");
  return seeds;
}

}  // namespace

Sweep expandSweep(const json& spec, const std::string& baseDirectory, const std::string& where) {
  if (!spec.is_object()) throw ConfigError(where + ": a sweep file is a JSON object");
  if (!spec.contains("name") || !spec["name"].is_string() || spec["name"].get<std::string>().empty())
    throw ConfigError(where + ": \"name\" (the sweep's name) is required");
  for (const auto& [key, v] : spec.items())
    if (key != "name" && key != "preset" && key != "experiment" && key != "set" && key != "grid" && key != "random" && key != "seeds")
      throw ConfigError(where + ": unknown field \"" + key + "\" (name, preset, experiment, set, grid, random, seeds)");
  Sweep sweep;
  sweep.name = spec["name"];
  json base = baseExperiment(spec, baseDirectory, where);
  if (spec.contains("set")) {
    if (!spec["set"].is_object()) throw ConfigError(where + ": \"set\" must be an object of key: value");
    for (const auto& [key, v] : spec["set"].items()) {
      fieldOf(key, where + ": set");
      setPath(base, key, v);
    }
  }
  const auto grid = gridPoints(spec, where);
  const auto draws = randomDraws(spec, where);
  const auto seeds = seedsOf(spec, where);
  for (const auto& g : grid)
    for (const auto& d : draws) {
      std::string name = sweep.name;
      json experiment = base;
      for (const auto* part : {&g, &d})
        for (const auto& [key, value] : *part) {
          setPath(experiment, key, value);
          name += " " + key + "=" + shortText(value);
        }
      for (int64_t seed : seeds) {
        json e = experiment;
        e["name"] = name;
        e["seed"] = seed;
        e["sweep"] = sweep.name;
        const auto issues = validateExperiment(e);
        if (!issues.empty()) throw ConfigError(where + ": the run \"" + name + "\" is not a valid experiment:\n" + formatIssues(issues));
        sweep.points.push_back({name, seed, std::move(e)});
      }
    }
  return sweep;
}

Sweep loadSweepFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("sweep file " + path + " cannot be read");
  json spec;
  try {
    spec = json::parse(in);
  } catch (const json::parse_error& e) {
    throw ConfigError("sweep file " + path + " is not valid JSON: " + e.what());
  }
  return expandSweep(spec, std::filesystem::path(path).parent_path().string(), "sweep file " + path);
}

}  // namespace continua::core

namespace continua::core {

namespace {

std::string trimmed(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r"), b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// Splits at commas outside brackets and quotes.
std::vector<std::string> splitValues(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  int depth = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == '[' || c == '{')) ++depth;
    if (!quoted && (c == ']' || c == '}')) --depth;
    if (c == ',' && depth == 0 && !quoted) {
      out.push_back(trimmed(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  out.push_back(trimmed(current));
  return out;
}

}  // namespace

json parseGridLines(const std::string& text) {
  json grid = json::object();
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = trimmed(line);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = "line " + std::to_string(number);
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw ConfigError(where + ": expected key = value, value, ... (e.g. selectivity.lambda = 0, 1)");
    const std::string key = trimmed(line.substr(0, eq));
    fieldOf(key, where);
    json values = json::array();
    for (const auto& v : splitValues(line.substr(eq + 1))) {
      if (v.empty()) throw ConfigError(where + ": " + key + " has an empty value");
      const json parsed = json::parse(v, nullptr, false);
      values.push_back(parsed.is_discarded() ? json(v) : parsed);
    }
    grid[key] = values;
  }
  return grid;
}

std::vector<int64_t> parseSeeds(const std::string& text) {
  std::vector<int64_t> seeds;
  for (const auto& part : splitValues(text)) {
    if (part.empty()) continue;
    try {
      const auto dash = part.find('-', 1);
      size_t used = 0;
      if (dash == std::string::npos) {
        seeds.push_back(std::stoll(part, &used));
        if (used != part.size()) throw std::invalid_argument(part);
      } else {
        const int64_t a = std::stoll(part.substr(0, dash)), b = std::stoll(part.substr(dash + 1));
        if (a > b || b - a > 10000) throw std::invalid_argument(part);
        for (int64_t s = a; s <= b; ++s) seeds.push_back(s);
      }
    } catch (const std::exception&) {
      throw ConfigError("seeds: expected numbers or ranges like 0, 1, 2 or 0-4; got \"" + part + "\"");
    }
  }
  if (seeds.empty()) throw ConfigError("seeds: give at least one seed, e.g. 0, 1, 2");
  for (int64_t s : seeds)
    if (s < 0) throw ConfigError("seeds: " + std::to_string(s) + " is negative");
  return seeds;
}

}  // namespace continua::core

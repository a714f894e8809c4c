#include "core/store/run_export.h"

#include "core/util/number_text.h"

#include "core/config/experiment_schema.h"
#include "core/util/errors.h"

#include <cmath>
#include <map>
#include <set>

namespace continua::core {
using nlohmann::json;

namespace {
json number(double v) { return std::isfinite(v) ? json(v) : json(); }

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}
}  // namespace

json runsToJson(const std::vector<RunSummary>& runs) {
  json arr = json::array();
  for (const auto& r : runs) {
    json latest = json::object();
    for (const auto& [k, v] : r.latest) latest[k] = number(v);
    arr.push_back({{"id", r.id}, {"name", r.name}, {"status", r.status}, {"model", r.model}, {"task", r.task},
                   {"step", r.step}, {"total_steps", r.totalSteps}, {"created", r.created}, {"started", r.started},
                   {"finished", r.finished}, {"tags", r.tags}, {"notes", r.notes}, {"error", r.error}, {"latest", latest}});
  }
  return arr;
}

json runToJson(const RunStore& store, const RunRecord& r) {
  json j = runsToJson({r})[0];
  j["config"] = r.config;
  j["environment"] = r.environment;
  json curves = json::object();
  for (const auto& c : store.curves(r.id)) curves[c.curve].push_back({{"step", c.step}, {"x", c.x}, {"value", number(c.value)}});
  j["curves"] = curves;
  json cps = json::array();
  for (const auto& c : store.checkpoints(r.id)) cps.push_back({{"step", c.step}, {"path", c.path}, {"sha256", c.sha256}});
  j["checkpoints"] = cps;
  return j;
}

void exportCsv(const RunStore& store, const std::vector<int64_t>& runs, std::ostream& out) {
  out << "run,name,kind,key,step,x,wall_time,value\n";
  for (int64_t id : runs) {
    auto rec = store.getRun(id);
    if (!rec) throw StoreError("run " + std::to_string(id) + " does not exist in " + store.path());
    const std::string name = csvField(rec->name);
    for (const auto& key : store.metricKeys(id))
      for (const auto& p : store.metrics(id, key))
        out << id << "," << name << ",metric," << csvField(key) << "," << p.step << ",," << shortestText(p.wallTime) << ","
            << shortestText(p.value) << "\n";
    for (const auto& c : store.curves(id))
      out << id << "," << name << ",curve," << csvField(c.curve) << "," << c.step << "," << shortestText(c.x) << ",,"
          << shortestText(c.value) << "\n";
  }
}

json exportJson(const RunStore& store, const std::vector<int64_t>& runs) {
  json arr = json::array();
  for (int64_t id : runs) {
    auto rec = store.getRun(id);
    if (!rec) throw StoreError("run " + std::to_string(id) + " does not exist in " + store.path());
    json j = runToJson(store, *rec);
    json metrics = json::object();
    for (const auto& key : store.metricKeys(id))
      for (const auto& p : store.metrics(id, key)) metrics[key].push_back({{"step", p.step}, {"wall_time", p.wallTime}, {"value", number(p.value)}});
    j["metrics"] = metrics;
    arr.push_back(j);
  }
  return arr;
}

RunComparison compareRuns(const RunStore& store, const std::vector<int64_t>& runs, bool includeEqual) {
  RunComparison c;
  c.runs = runs;
  std::vector<std::map<std::string, std::string>> configs;
  std::vector<RunRecord> recs;
  std::set<std::string> keys, metricKeys;
  for (int64_t id : runs) {
    auto rec = store.getRun(id);
    if (!rec) throw StoreError("run " + std::to_string(id) + " does not exist in " + store.path());
    std::map<std::string, std::string> flat;
    for (const auto& [k, v] : flattenConfig(rec->config)) { flat[k] = v; keys.insert(k); }
    for (const auto& [k, v] : rec->latest) metricKeys.insert(k);
    configs.push_back(std::move(flat));
    recs.push_back(std::move(*rec));
  }
  for (const auto& k : keys) {
    std::vector<std::string> row{k};
    bool differs = false;
    for (const auto& cfg : configs) {
      auto it = cfg.find(k);
      row.push_back(it == cfg.end() ? "(absent)" : it->second);
      if (row.back() != row[1]) differs = true;
    }
    if (differs) c.differingKeys.push_back(k);
    if (differs || includeEqual) c.config.push_back(row);
  }
  for (const auto& k : metricKeys) {
    std::vector<std::string> row{k};
    for (const auto& r : recs) {
      double v = r.latestValue(k);
      char b[32];
      std::snprintf(b, sizeof b, "%.4g", v);
      row.push_back(std::isnan(v) ? "-" : b);
    }
    c.metrics.push_back(row);
  }
  return c;
}

json comparisonToJson(const RunComparison& c) {
  return {{"runs", c.runs}, {"differing_keys", c.differingKeys}, {"config", c.config}, {"metrics", c.metrics}};
}

}  // namespace continua::core

#include "core/store/run_groups.h"

#include <cmath>
#include <cstdio>
#include <map>

namespace continua::core {

std::string Statistic::text(int decimals) const {
  if (count == 0) return "-";
  char b[96];
  if (count == 1) std::snprintf(b, sizeof b, "%.*f (1)", decimals, mean);
  else std::snprintf(b, sizeof b, "%.*f ± %.*f (%d)", decimals, mean, decimals, std, count);
  return b;
}

Statistic statisticOf(const std::vector<double>& values) {
  Statistic s;
  double sum = 0;
  for (double v : values)
    if (std::isfinite(v)) { sum += v; ++s.count; }
  if (s.count == 0) return s;
  s.mean = sum / s.count;
  double sq = 0;
  for (double v : values)
    if (std::isfinite(v)) sq += (v - s.mean) * (v - s.mean);
  s.std = s.count > 1 ? std::sqrt(sq / (s.count - 1)) : 0.0;  // sample standard deviation
  return s;
}

namespace {

double curveAt(const std::vector<CurvePoint>& points, const std::string& curve, double x) {
  int64_t lastStep = -1;
  double value = std::nan("");
  for (const auto& p : points) {
    if (p.curve != curve || std::abs(p.x - x) > 1e-9) continue;
    if (p.step >= lastStep) { lastStep = p.step; value = p.value; }
  }
  return value;
}

}  // namespace

const std::vector<CurvePoint>& CurveCache::of(int64_t run) {
  auto it = m_curves.find(run);
  if (it == m_curves.end()) it = m_curves.emplace(run, m_store.curves(run)).first;
  return it->second;
}

double runQuantity(const RunStore& store, const RunSummary& run, const std::string& q, CurveCache* curves) {
  if (q == "wall") return run.finished > 0 && run.started > 0 ? run.finished - run.started : std::nan("");
  const auto at = q.rfind('@');
  if (at == std::string::npos) return run.latestValue(q);
  const std::string name = q.substr(0, at), where = q.substr(at + 1);
  if (where == "first") {
    auto points = store.metrics(run.id, name);
    return points.empty() ? std::nan("") : points.front().value;
  }
  const double x = std::stod(where);
  return curves ? curveAt(curves->of(run.id), name, x) : curveAt(store.curves(run.id), name, x);
}

std::vector<RunGroup> groupRuns(const RunStore& store, const RunFilter& filter, const std::vector<std::string>& quantities) {
  std::vector<RunGroup> groups;
  std::map<std::string, size_t> index;
  std::vector<std::vector<std::vector<double>>> samples;  // group -> quantity -> values
  for (const auto& run : store.listRuns(filter)) {
    if (run.status != "finished") continue;
    auto it = index.find(run.name);
    if (it == index.end()) {
      it = index.emplace(run.name, groups.size()).first;
      groups.push_back({run.name, {}, {}, {}});
      samples.emplace_back(quantities.size());
    }
    RunGroup& g = groups[it->second];
    g.runs.push_back(run.id);
    auto rec = store.getRun(run.id);
    if (rec && rec->config.contains("seed")) g.seeds.push_back(rec->config["seed"].get<int64_t>());
    for (size_t i = 0; i < quantities.size(); ++i) samples[it->second][i].push_back(runQuantity(store, run, quantities[i]));
  }
  for (size_t g = 0; g < groups.size(); ++g)
    for (const auto& values : samples[g]) groups[g].values.push_back(statisticOf(values));
  return groups;
}

std::vector<std::vector<int64_t>> groupIgnoringSeed(const RunStore& store, const std::vector<int64_t>& runs) {
  std::vector<std::vector<int64_t>> groups;
  std::map<std::string, size_t> index;
  for (int64_t id : runs) {
    auto rec = store.getRun(id);
    nlohmann::json cfg = rec ? rec->config : nlohmann::json(id);
    if (cfg.is_object()) {
      cfg.erase("seed");
      cfg.erase("name");
    }
    const std::string signature = cfg.dump();
    auto it = index.find(signature);
    if (it == index.end()) {
      index.emplace(signature, groups.size());
      groups.push_back({id});
    } else {
      groups[it->second].push_back(id);
    }
  }
  return groups;
}

}  // namespace continua::core

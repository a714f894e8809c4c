#include "core/report/report_figures.h"

#include "core/report/chart.h"
#include "core/store/run_groups.h"
#include "core/util/number_text.h"

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>

namespace continua::core {

namespace {

// x -> values over runs, then the mean ± std band of them.
using Samples = std::map<double, std::vector<double>>;

ChartSeries meanBand(const std::string& name, const Samples& samples) {
  ChartSeries s;
  s.name = name;
  for (const auto& [x, values] : samples) {
    const Statistic st = statisticOf(values);
    if (st.count == 0) continue;
    s.x.push_back(x);
    s.y.push_back(st.mean);
    s.low.push_back(st.mean - st.std);
    s.high.push_back(st.mean + st.std);
  }
  return s;
}

std::string seedsText(const ReportGroup& g) {
  return g.runs.size() == 1 ? g.name + " (1 seed)" : g.name + " (" + std::to_string(g.runs.size()) + " seeds)";
}

// A curve's points from the last step it was recorded at (the final sweep).
Samples lastSweep(CurveCache& cache, const ReportGroup& g, const std::string& curve) {
  Samples out;
  for (const auto& r : g.runs) {
    int64_t last = -1;
    for (const auto& p : cache.of(r.id))
      if (p.curve == curve) last = std::max(last, p.step);
    for (const auto& p : cache.of(r.id))
      if (p.curve == curve && p.step == last) out[p.x].push_back(p.value);
  }
  return out;
}

// A metric over training steps; a per-step metric is averaged in `bins` equal step ranges first.
Samples overSteps(const RunStore& store, const ReportGroup& g, const std::string& key, int bins) {
  Samples out;
  for (const auto& r : g.runs) {
    const auto points = store.metrics(r.id, key);
    if (points.empty()) continue;
    if (int(points.size()) <= bins) {
      for (const auto& p : points) out[double(p.step)].push_back(p.value);
      continue;
    }
    const double width = double(std::max<int64_t>(1, r.totalSteps)) / bins;
    std::map<int, std::pair<double, int>> binned;
    for (const auto& p : points) {
      auto& b = binned[int(double(p.step - 1) / width)];
      b.first += p.value;
      b.second += 1;
    }
    for (const auto& [b, sum] : binned) out[(b + 0.5) * width].push_back(sum.first / sum.second);
  }
  return out;
}

std::set<std::string> curveNames(CurveCache& cache, const std::vector<ReportGroup>& groups) {
  std::set<std::string> names;
  for (const auto& g : groups)
    for (const auto& r : g.runs)
      for (const auto& p : cache.of(r.id)) names.insert(p.curve);
  return names;
}

std::string suffixAfter(const std::string& name, const std::string& prefix) { return name.substr(prefix.size()); }

std::vector<std::string> withPrefix(const std::set<std::string>& names, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& n : names)
    if (n.rfind(prefix, 0) == 0) out.push_back(n);
  return out;
}

double configNumber(const nlohmann::json& config, const char* section, const char* key) {
  return config.contains(section) && config[section].contains(key) && config[section][key].is_number()
             ? config[section][key].get<double>()
             : std::nan("");
}

class FigureWriter {
 public:
  FigureWriter(const std::string& folder, const std::string& task) : m_folder(folder), m_stem(slug(task)) {
    std::filesystem::create_directories(std::filesystem::path(folder) / "figures");
  }
  void save(const Canvas& canvas, const std::string& what, const std::string& caption) {
    const std::string file = "figures/" + m_stem + "-" + slug(what) + ".png";
    canvas.savePng((std::filesystem::path(m_folder) / file).string());
    figures.push_back({file, caption});
  }
  std::vector<ReportFigure> figures;

 private:
  std::string m_folder, m_stem;
};

LineChart chartOf(const std::vector<ReportGroup>& groups, const std::string& title, const std::string& xLabel,
                  const std::string& yLabel, const std::function<Samples(const ReportGroup&)>& samples) {
  LineChart c{title, xLabel, yLabel};
  for (size_t i = 0; i < groups.size(); ++i) {
    ChartSeries s = meanBand(seedsText(groups[i]), samples(groups[i]));
    s.colour = int(i);
    if (!s.x.empty()) c.series.push_back(std::move(s));
  }
  return c;
}

void learningCurves(const RunStore& store, const std::vector<ReportGroup>& groups, FigureWriter& out) {
  const std::string key = groups.front().runs.front().keyMetric().first;
  if (!key.empty()) {
    LineChart c = chartOf(groups, "Held-out " + key.substr(5) + " during training (mean ± std over seeds)", "training step",
                          key, [&](const ReportGroup& g) { return overSteps(store, g, key, 200); });
    c.logY = key != "test/accuracy";
    if (!c.series.empty()) out.save(renderLineChart(c), "learning-" + key.substr(5), "Learning curves: " + key + " against training step.");
  }
  LineChart loss = chartOf(groups, "Training loss (mean ± std over seeds, averaged in 200 step bins)", "training step",
                           "train/loss", [&](const ReportGroup& g) { return overSteps(store, g, "train/loss", 200); });
  loss.logY = true;
  if (!loss.series.empty()) out.save(renderLineChart(loss), "train-loss", "Training loss against training step.");
}

void lengthCurves(CurveCache& cache, const std::vector<ReportGroup>& groups, const std::set<std::string>& names, FigureWriter& out) {
  struct Sweep { const char* prefix; const char* what; const char* section; const char* key; };
  for (const Sweep& sw : {Sweep{"length_tasks/", "tasks per episode", "episode", "tasks"},
                          Sweep{"length_shots/", "shots per class", "episode", "shots"},
                          Sweep{"length_tasks_streaming/", "tasks per episode, streamed one token at a time", "episode", "tasks"}}) {
    for (const auto& curve : withPrefix(names, sw.prefix)) {
      const std::string score = suffixAfter(curve, sw.prefix);
      const bool memory = score == "state_bytes";
      LineChart c = chartOf(groups, memory ? "State carried while streaming (recurrent state or KV cache) per episode"
                                           : "Length generalisation: " + score + " against " + sw.what,
                            sw.what, memory ? "bytes per episode" : score,
                            [&](const ReportGroup& g) { return lastSweep(cache, g, curve); });
      c.logX = true;
      c.logY = memory;
      c.shadeFromX = configNumber(groups.front().config, sw.section, sw.key);
      c.shadeLabel = "past the training length";
      if (c.series.empty()) continue;
      out.save(renderLineChart(c), curve,
               memory ? "Memory of the streaming meta-test: the model's state after the stream, per episode."
                      : std::string("Final ") + score + " on longer episodes (" + sw.what + "); shaded: longer than trained on.");
    }
  }
}

void noiseCurves(CurveCache& cache, const std::vector<ReportGroup>& groups, const std::set<std::string>& names, FigureWriter& out) {
  for (const auto& curve : withPrefix(names, "noise/")) {
    const std::string score = suffixAfter(curve, "noise/");
    LineChart c = chartOf(groups, "Noise robustness: " + score + " against input noise", "noise σ (units of the inputs' std)",
                          score, [&](const ReportGroup& g) { return lastSweep(cache, g, curve); });
    if (!c.series.empty()) out.save(renderLineChart(c), curve, "Final " + score + " with Gaussian noise added to the inputs.");
  }
}

// ICL: error against in-context examples, each group's mean ± std, and the baselines (dashed) of the first run.
void examplesCurves(CurveCache& cache, const std::vector<ReportGroup>& groups, const std::set<std::string>& names, FigureWriter& out) {
  for (const auto& curve : withPrefix(names, "examples/")) {
    const std::string score = suffixAfter(curve, "examples/");
    LineChart c = chartOf(groups, "In-context " + score + " against examples in the prompt", "in-context examples", score,
                          [&](const ReportGroup& g) { return lastSweep(cache, g, curve); });
    int colour = int(groups.size());
    for (const auto& b : withPrefix(names, "baseline/")) {
      const ReportGroup first{groups.front().name, "", "", {groups.front().runs.front()}, {}};
      ChartSeries s = meanBand(suffixAfter(b, "baseline/") + " (baseline)", lastSweep(cache, first, b));
      s.low.clear();
      s.high.clear();
      s.dashed = true;
      s.colour = colour++;
      if (!s.x.empty()) c.series.push_back(std::move(s));
    }
    if (!c.series.empty())
      out.save(renderLineChart(c), curve, "Final in-context " + score + " by number of examples; dashed: classical baselines on the same prompts.");
  }
}

void associationMaps(const RunStore& store, const std::vector<ReportGroup>& groups, FigureWriter& out) {
  for (const auto& g : groups) {
    const RunSummary& run = g.runs.front();
    const auto steps = store.mapSteps(run.id);
    if (steps.empty()) continue;
    const auto maps = store.maps(run.id, steps.back());
    int lastLayer = -1;
    for (const auto& m : maps) lastLayer = std::max(lastLayer, m.layer);
    std::vector<HeatmapPanel> panels;
    double kl = std::nan("");
    std::string layerName;
    for (const auto& m : maps) {
      if (m.layer != lastLayer) continue;
      panels.push_back({m.kind == "truth" ? "ground truth" : "model (KL " + significantText(m.kl) + ")", m.rows, m.cols, m.values});
      if (m.kind == "model") { kl = m.kl; layerName = m.layerName; }
    }
    std::sort(panels.begin(), panels.end(), [](const HeatmapPanel& a, const HeatmapPanel& b) { return a.title > b.title; });
    if (panels.empty()) continue;
    out.save(renderHeatmaps("Association maps of " + g.name + " (run " + std::to_string(run.id) + ", " + layerName + ", step " +
                                std::to_string(steps.back()) + ")", panels),
             "maps-" + g.name,
             "Which earlier tokens each query relies on (" + g.name + ", run " + std::to_string(run.id) + ", " + layerName +
                 ") against the ones it should rely on; KL(truth ‖ model) = " + significantText(kl) + ".");
  }
}

}  // namespace

std::string slug(const std::string& text) {
  std::string s;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) s.push_back(char(std::tolower(static_cast<unsigned char>(c))));
    else if (!s.empty() && s.back() != '-') s.push_back('-');
  }
  while (!s.empty() && s.back() == '-') s.pop_back();
  return s.empty() ? "figure" : s;
}

std::vector<ReportGroup> groupByName(const RunStore& store, const std::vector<RunSummary>& finished) {
  std::vector<ReportGroup> groups;
  std::map<std::string, size_t> index;
  for (const auto& r : finished) {
    auto it = index.find(r.name);
    if (it == index.end()) {
      auto rec = store.getRun(r.id);
      it = index.emplace(r.name, groups.size()).first;
      groups.push_back({r.name, r.model, r.task, {}, rec ? rec->config : nlohmann::json::object()});
    }
    groups[it->second].runs.push_back(r);
  }
  return groups;
}

std::vector<ReportFigure> drawTaskFigures(const RunStore& store, CurveCache& curves, const std::vector<ReportGroup>& groups,
                                          const std::string& folder) {
  if (groups.empty()) return {};
  FigureWriter out(folder, groups.front().task);
  const auto names = curveNames(curves, groups);
  learningCurves(store, groups, out);
  lengthCurves(curves, groups, names, out);
  noiseCurves(curves, groups, names, out);
  examplesCurves(curves, groups, names, out);
  associationMaps(store, groups, out);
  return out.figures;
}

}  // namespace continua::core

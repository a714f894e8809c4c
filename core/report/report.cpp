#include "core/report/report.h"

#include "continua_version.h"
#include "core/report/claims.h"
#include "core/report/report_figures.h"
#include "core/store/run_groups.h"
#include "core/util/errors.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace continua::core {
using nlohmann::json;

namespace {

// 374154 -> "374 k", 2.5e9 -> "2.5 G": three significant figures with an SI prefix.
std::string si(double v) {
  if (!std::isfinite(v)) return "-";
  const char* prefixes[] = {"", " k", " M", " G", " T"};
  int p = 0;
  while (std::abs(v) >= 1000 && p < 4) { v /= 1000; ++p; }
  char b[32];
  std::snprintf(b, sizeof b, "%.3g%s", v, prefixes[p]);
  return b;
}

std::string cell(std::string text) {  // Markdown table cells cannot hold a bare '|'
  for (size_t i = 0; (i = text.find('|', i)) != std::string::npos; i += 2) text.replace(i, 1, "\\|");
  return text;
}

Statistic over(const RunStore& store, const ReportGroup& g, const std::string& quantity) {
  std::vector<double> values;
  for (const auto& r : g.runs) values.push_back(runQuantity(store, r, quantity));
  return statisticOf(values);
}

std::string meanText(const Statistic& s, const std::function<std::string(double)>& format) {
  if (s.count == 0) return "-";
  return s.count > 1 && s.std > 0 ? format(s.mean) + " ± " + format(s.std) : format(s.mean);
}

std::vector<RunSummary> selectRuns(const RunStore& store, const std::vector<int64_t>& ids, const std::string& sweep) {
  RunFilter filter;
  filter.sweep = sweep;
  auto all = store.listRuns(filter);
  if (!sweep.empty() && all.empty()) throw ConfigError("no runs of the sweep \"" + sweep + "\" in " + store.path());
  if (ids.empty()) return all;
  std::vector<RunSummary> picked;
  for (int64_t id : ids) {
    auto it = std::find_if(all.begin(), all.end(), [&](const RunSummary& r) { return r.id == id; });
    if (it == all.end())
      throw ConfigError("run " + std::to_string(id) + (sweep.empty() ? " does not exist in " : " is not a run of the sweep \"" + sweep + "\" in ") +
                        store.path());
    picked.push_back(*it);
  }
  return picked;
}

void writeClaims(std::ostream& md, const std::vector<ClaimResult>& claims) {
  md << "## Claims\n\nEach claim is checked on the means over seeds of the named run groups (the check is written "
        "after the evidence). *not run*: no finished run of a group is in this report.\n\n"
        "| paper | claim | verdict | evidence |\n|---|---|---|---|\n";
  for (const auto& c : claims)
    md << "| " << cell(c.paper) << " | " << cell(c.claim) << " | **" << c.verdict << "** | " << cell(c.evidence) << " |\n";
  std::set<std::string> commands;
  for (const auto& c : claims)
    if (!c.command.empty()) commands.insert(c.command);
  if (!commands.empty()) {
    md << "\nThe runs come from:\n\n```sh\n";
    for (const auto& c : commands) md << c << "\n";
    md << "```\n";
  }
  md << "\n";
}

void writeMetricsTable(std::ostream& md, const RunStore& store, const std::vector<ReportGroup>& groups) {
  md << "## Final metrics (mean ± std over seeds)\n\n"
        "FLOPs per token: one forward pass at the training context (tokens in brackets). Episodes/s: optimisation "
        "steps only, evaluations excluded. Peak memory: the training process's peak resident set.\n\n"
        "| group | model | task | seeds | headline | selectivity KL | parameters | FLOPs/token | episodes/s | peak memory | wall |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n";
  auto fixed3 = [](double v) { char b[32]; std::snprintf(b, sizeof b, "%.3f", v); return std::string(b); };
  auto whole = [](double v) { char b[32]; std::snprintf(b, sizeof b, "%.0f", v); return std::string(b); };
  for (const auto& g : groups) {
    const std::string key = g.runs.front().keyMetric().first;
    const Statistic context = over(store, g, "model/context_tokens"), memory = over(store, g, "perf/peak_rss_mb");
    md << "| " << cell(g.name) << " | " << g.model << " | " << g.task << " | " << g.runs.size() << " | "
       << (key.empty() ? "-" : key.substr(5) + " " + meanText(over(store, g, key), fixed3)) << " | "
       << meanText(over(store, g, "train/selectivity_kl"), fixed3) << " | " << meanText(over(store, g, "model/parameters"), si)
       << " | " << meanText(over(store, g, "model/flops_per_token"), si)
       << (context.count ? " (" + whole(context.mean) + ")" : "") << " | " << meanText(over(store, g, "perf/episodes_per_s"), whole)
       << " | " << meanText(memory, whole) << (memory.count ? " MB" : "")
       << " | " << meanText(over(store, g, "wall"), whole) << " s |\n";
  }
  md << "\n";
}

void writeTestMetrics(std::ostream& md, const RunStore& store, const std::vector<ReportGroup>& groups) {
  std::set<std::string> keys;
  for (const auto& g : groups)
    for (const auto& r : g.runs)
      for (const auto& [k, v] : r.latest)
        if (k.rfind("test/", 0) == 0) keys.insert(k);
  if (keys.empty()) return;
  md << "### Every held-out metric\n\n| group |";
  for (const auto& k : keys) md << " " << k << " |";
  md << "\n|---|";
  for (size_t i = 0; i < keys.size(); ++i) md << "---|";
  md << "\n";
  for (const auto& g : groups) {
    md << "| " << cell(g.name) << " |";
    for (const auto& k : keys) md << " " << over(store, g, k).text(4) << " |";
    md << "\n";
  }
  md << "\n";
}

void writeRuns(std::ostream& md, const RunStore& store, const std::vector<RunSummary>& runs) {
  md << "## Runs\n\n| id | name | seed | status | steps | commit | threads | BLAS |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : runs) {
    const auto rec = store.getRun(r.id);
    const json env = rec ? rec->environment : json::object();
    const json cfg = rec ? rec->config : json::object();
    md << "| " << r.id << " | " << cell(r.name) << " | " << (cfg.contains("seed") ? cfg["seed"].dump() : "-") << " | "
       << r.status << " | " << r.step << "/" << r.totalSteps << " | " << env.value("commit", "-") << " | "
       << (env.contains("threads") ? env["threads"].dump() : "-") << " | " << env.value("blas", "-") << " |\n";
  }
}

std::string today() {
  std::time_t now = std::time(nullptr);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%d %H:%M", std::localtime(&now));
  return b;
}

}  // namespace

ReportSummary writeReport(const RunStore& store, const std::vector<int64_t>& runIds, const ReportOptions& options) {
  if (options.folder.empty()) throw ConfigError("report: an output folder (--out) is needed");
  const json claims = options.claimsFile.empty() ? json() : loadClaimsFile(options.claimsFile);  // before writing anything
  const auto runs = selectRuns(store, runIds, options.sweep);
  std::vector<RunSummary> finished;
  for (const auto& r : runs)
    if (r.status == "finished") finished.push_back(r);
  const auto groups = groupByName(store, finished);
  std::error_code ec;
  std::filesystem::create_directories(options.folder, ec);
  if (ec) throw StoreError("cannot create the report folder " + options.folder + ": " + ec.message());

  ReportSummary summary;
  summary.runs = int(runs.size());
  summary.groups = int(groups.size());
  std::ostringstream md;
  md << "# " << options.title << "\n\nFrom " << store.path() << ": " << runs.size() << " runs (" << finished.size()
     << " finished) in " << groups.size() << " groups (runs with one name: one configuration over seeds). Made by continua "
     << CONTINUA_VERSION << " (" << CONTINUA_GIT_COMMIT << ") on " << today() << ".\n\n";
  CurveCache curves(store);  // the claims and the figures read the same runs' curves
  if (!claims.is_null()) {
    const auto results = evaluateClaims(claims, store, runs, &curves);
    summary.claims = int(results.size());
    for (const auto& c : results) summary.reproduced += c.verdict == "reproduced";
    writeClaims(md, results);
  }
  writeMetricsTable(md, store, groups);
  writeTestMetrics(md, store, groups);
  if (options.figures) {
    std::vector<std::string> tasks;
    for (const auto& g : groups)
      if (std::find(tasks.begin(), tasks.end(), g.task) == tasks.end()) tasks.push_back(g.task);
    for (const auto& task : tasks) {
      std::vector<ReportGroup> ofTask;
      for (const auto& g : groups)
        if (g.task == task) ofTask.push_back(g);
      md << "## Figures: " << task << "\n\n";
      for (const auto& f : drawTaskFigures(store, curves, ofTask, options.folder)) {
        md << "![" << f.caption << "](" << f.file << ")\n\n*" << f.caption << "*\n\n";
        ++summary.figures;
      }
    }
  }
  writeRuns(md, store, runs);

  summary.markdownPath = (std::filesystem::path(options.folder) / "report.md").string();
  std::ofstream out(summary.markdownPath);
  out << md.str();
  if (!out) throw StoreError("cannot write " + summary.markdownPath);
  return summary;
}

}  // namespace continua::core

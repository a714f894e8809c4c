// `summary`: runs grouped by name (one configuration over several seeds), each quantity as mean ± std.
#include "app/cli/cli_common.h"
#include "app/cli/commands.h"
#include "core/store/run_groups.h"
#include "core/util/table.h"

#include <iostream>
#include <memory>

namespace continua::app {
using nlohmann::json;

namespace {

void printMarkdown(const std::vector<core::RunGroup>& groups, const std::vector<std::string>& quantities, int decimals) {
  std::cout << "| group | seeds |";
  for (const auto& q : quantities) std::cout << " " << q << " |";
  std::cout << "\n|---|---|";
  for (size_t i = 0; i < quantities.size(); ++i) std::cout << "---|";
  std::cout << "\n";
  for (const auto& g : groups) {
    std::cout << "| " << g.name << " | " << g.seeds.size() << " |";
    for (const auto& v : g.values) std::cout << " " << v.text(decimals) << " |";
    std::cout << "\n";
  }
}

json toJson(const std::vector<core::RunGroup>& groups, const std::vector<std::string>& quantities) {
  json out = json::array();
  for (const auto& g : groups) {
    json values = json::object();
    for (size_t i = 0; i < quantities.size(); ++i)
      values[quantities[i]] = {{"mean", g.values[i].mean}, {"std", g.values[i].std}, {"count", g.values[i].count}};
    out.push_back({{"name", g.name}, {"runs", g.runs}, {"seeds", g.seeds}, {"values", values}});
  }
  return out;
}

struct SummaryCommand {
  std::string db, text, tag, sweep;
  std::vector<std::string> quantities;
  bool markdown = false, asJson = false;
  int decimals = 3;

  void run() const {
    core::RunStore store(databasePath(db), true);
    core::RunFilter filter;
    filter.text = text;
    filter.tag = tag;
    filter.sweep = sweep;
    std::vector<std::string> what = quantities;
    if (what.empty()) what = {"test/accuracy", "test/error", "test/mse", "wall"};
    const auto groups = core::groupRuns(store, filter, what);
    if (asJson) { std::cout << toJson(groups, what).dump(2) << "\n"; return; }
    if (markdown) { printMarkdown(groups, what, decimals); return; }
    std::vector<std::string> header{"group", "seeds"};
    header.insert(header.end(), what.begin(), what.end());
    core::TextTable t(header);
    for (const auto& g : groups) {
      std::vector<std::string> row{g.name, std::to_string(g.seeds.size())};
      for (const auto& v : g.values) row.push_back(v.text(decimals));
      t.addRow(row);
    }
    t.print(std::cout);
  }
};

}  // namespace

void registerSummaryCommand(CLI::App& app) {
  auto summary = std::make_shared<SummaryCommand>();
  auto* cmd = app.add_subcommand("summary", "Finished runs grouped by name (seeds of one configuration): mean ± std per quantity");
  cmd->add_option("quantities", summary->quantities,
                  "What to summarise: a metric (test/accuracy), its first value (train/selectivity_kl@first), a curve at x "
                  "(examples/error@20), or wall (seconds). Default: test/accuracy test/error test/mse wall");
  cmd->add_option("--text", summary->text, "Only runs whose name, model, task or notes contain this");
  cmd->add_option("--tag", summary->tag, "Only runs with this tag");
  cmd->add_option("--sweep", summary->sweep, "Only the runs of this sweep");
  cmd->add_option("--decimals", summary->decimals, "Decimals in the table (default 3)");
  cmd->add_flag("--markdown", summary->markdown, "A Markdown table (for docs/RESULTS.md)");
  cmd->add_flag("--json", summary->asJson, "JSON output");
  addDatabaseOption(cmd, summary->db);
  cmd->callback([summary] { summary->run(); });
}

}  // namespace continua::app

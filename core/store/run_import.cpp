// RunStore::importFrom: `continua-cli import`. The source is read through a read-only RunStore (which also
// names runs of files older than schema 3 by their derived UUID) and copied table by table with ATTACH, one
// transaction per source file, so an import that fails leaves this database as it was.
#include "core/store/run_store.h"
#include "core/util/errors.h"

#include <filesystem>

namespace continua::core {
namespace fs = std::filesystem;
using sql::Statement;

namespace {

// Each per-run table with the columns copied (run_id is replaced by the new run's id).
struct ChildTable {
  const char* name;
  const char* columns;
};
const ChildTable kChildTables[] = {
    {"params", "key, value"},
    {"tags", "tag"},
    {"metrics", "key, step, wall_time, value"},
    {"latest_metrics", "key, step, wall_time, value"},
    {"curves", "curve, step, x, value"},
    {"maps", "step, layer, layer_name, kind, rows, cols, kl, data, meta"},
};

struct Existing {
  int64_t id = 0;
  std::string status;
  int64_t step = 0;
};

Existing findByUuid(sql::Database& db, const std::string& uuid) {
  Statement s(db, "SELECT id, status, step FROM main.runs WHERE uuid = ?");
  s.bind(1, uuid);
  if (!s.step()) return {};
  return {s.integer(0), s.text(1), s.integer(2)};
}

bool sameFile(const std::string& a, const std::string& b) {
  std::error_code ec;
  return fs::exists(a, ec) && fs::exists(b, ec) && fs::equivalent(a, b, ec);
}

}  // namespace

ImportResult RunStore::importFrom(const std::string& sourcePath) {
  if (m_readOnly) throw StoreError("cannot import into " + path() + ": it is open read-only");
  if (sameFile(sourcePath, path())) throw StoreError(sourcePath + " is the database being imported into");
  if (!fs::exists(sourcePath)) throw StoreError("run database " + sourcePath + " does not exist");
  const RunStore source(sourcePath, true);
  const auto runs = source.listRuns();
  const auto sourceCheckpoints = [&](int64_t id) { return source.checkpoints(id); };

  Statement attach(*m_db, "ATTACH DATABASE ? AS src");
  attach.bind(1, sourcePath).run();
  struct Detach {
    sql::Database& db;
    ~Detach() {
      try { db.exec("DETACH DATABASE src"); } catch (...) {}  // a failed detach must not hide the first error
    }
  } detach{*m_db};

  ImportResult result;
  std::vector<std::pair<std::string, std::string>> copies;  // checkpoint files, copied once the rows are in
  sql::Transaction tx(*m_db);
  for (const auto& run : runs) {
    if (run.status == "running") { ++result.skippedRunning; continue; }
    const Existing here = findByUuid(*m_db, run.uuid);
    if (here.id > 0 && here.status == run.status && here.step == run.step) { ++result.unchanged; continue; }
    if (here.id > 0) {
      deleteRun(here.id);
      ++result.refreshed;
    } else {
      ++result.imported;
    }
    Statement insert(*m_db,
                     "INSERT INTO main.runs(name, status, created, started, finished, model, task, config, environment, notes, error, "
                     "step, total_steps, pid, host, uuid, sweep) SELECT name, status, created, started, finished, model, task, config, "
                     "environment, notes, error, step, total_steps, NULL, host, ?, ? FROM src.runs WHERE id = ?");
    insert.bind(1, run.uuid).bind(2, run.sweep).bind(3, run.id).run();
    const int64_t id = m_db->lastInsertId();
    for (const ChildTable& t : kChildTables) {
      Statement copy(*m_db, std::string("INSERT INTO main.") + t.name + "(run_id, " + t.columns + ") SELECT ?, " + t.columns +
                                " FROM src." + t.name + " WHERE run_id = ?");
      copy.bind(1, id).bind(2, run.id).run();
    }
    for (const auto& c : sourceCheckpoints(run.id)) {
      std::string where = c.path;
      if (fs::exists(c.path)) {
        where = (fs::path(checkpointDirectory(id)) / fs::path(c.path).filename()).string();
        copies.emplace_back(c.path, where);
        ++result.checkpointsCopied;
      } else {
        ++result.checkpointsReferenced;
      }
      Statement cp(*m_db, "INSERT INTO main.checkpoints(run_id, step, path, sha256, created) "
                          "SELECT ?, step, ?, sha256, created FROM src.checkpoints WHERE run_id = ? AND step = ?");
      cp.bind(1, id).bind(2, where).bind(3, run.id).bind(4, c.step).run();
    }
  }
  for (const auto& [from, to] : copies) {
    std::error_code ec;
    fs::create_directories(fs::path(to).parent_path(), ec);
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) throw StoreError("cannot copy the checkpoint " + from + " to " + to + ": " + ec.message());
  }
  tx.commit();
  return result;
}

}  // namespace continua::core

#include "core/store/run_store.h"

#include "core/util/fault_injection.h"

#include "core/config/experiment_schema.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <random>

namespace continua::core {
namespace fs = std::filesystem;
using nlohmann::json;
using sql::Statement;

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hostName() {
  char buf[256] = {};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// Version 1: the whole schema. Later versions append migrations to kMigrations.
const char* kSchemaV1 = R"SQL(
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued','running','finished','failed','cancelled','interrupted','diverged')),
  created REAL NOT NULL, started REAL, finished REAL,
  model TEXT NOT NULL DEFAULT '', task TEXT NOT NULL DEFAULT '',
  config TEXT NOT NULL, environment TEXT NOT NULL DEFAULT '{}',
  notes TEXT NOT NULL DEFAULT '', error TEXT NOT NULL DEFAULT '',
  step INTEGER NOT NULL DEFAULT 0, total_steps INTEGER NOT NULL DEFAULT 0,
  pid INTEGER, host TEXT
);
CREATE TABLE IF NOT EXISTS params (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS tags (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag TEXT NOT NULL, PRIMARY KEY (run_id, tag)
);
CREATE TABLE IF NOT EXISTS metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL, step INTEGER NOT NULL, wall_time REAL NOT NULL, value REAL
);
CREATE INDEX IF NOT EXISTS metrics_run_key_step ON metrics(run_id, key, step);
CREATE TABLE IF NOT EXISTS latest_metrics (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL, step INTEGER NOT NULL, wall_time REAL NOT NULL, value REAL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE IF NOT EXISTS curves (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  curve TEXT NOT NULL, step INTEGER NOT NULL, x REAL NOT NULL, value REAL
);
CREATE INDEX IF NOT EXISTS curves_run ON curves(run_id, curve, step);
CREATE TABLE IF NOT EXISTS maps (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL, layer INTEGER NOT NULL, layer_name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('model','truth')),
  rows INTEGER NOT NULL, cols INTEGER NOT NULL, kl REAL, data BLOB NOT NULL, meta TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS maps_run_step ON maps(run_id, step);
CREATE TABLE IF NOT EXISTS checkpoints (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step INTEGER NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, created REAL NOT NULL,
  PRIMARY KEY (run_id, step)
);
)SQL";

// Migrations from version N - 1 to N, in order; kMigrations[i] takes a database from version i + 1 to i + 2.
const char* const kMigrations[] = {
    // 1 -> 2: the run list filters by status and by tag; tags' key is (run_id, tag), so a tag filter scanned it.
    "CREATE INDEX IF NOT EXISTS runs_status ON runs(status);"
    "CREATE INDEX IF NOT EXISTS tags_tag ON tags(tag, run_id);",
    // 2 -> 3: run identity across databases (filled in by giveEveryRunAUuid) and sweeps.
    "ALTER TABLE runs ADD COLUMN uuid TEXT;"
    "ALTER TABLE runs ADD COLUMN sweep TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX IF NOT EXISTS runs_sweep ON runs(sweep);",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion - 1, "one migration per schema version");

// A free name beside the database for its copy before a migration: <db>.schema-v<N>.backup[.K].
std::string backupPathFor(const std::string& db, int version) {
  const std::string base = db + ".schema-v" + std::to_string(version) + ".backup";
  std::string candidate = base;
  for (int k = 1; fs::exists(candidate); ++k) candidate = base + "." + std::to_string(k);
  return candidate;
}

// 8-4-4-4-12 lowercase hex, as RFC 4122 writes a UUID.
std::string uuidText(const std::string& hex32) {
  return hex32.substr(0, 8) + "-" + hex32.substr(8, 4) + "-" + hex32.substr(12, 4) + "-" + hex32.substr(16, 4) + "-" + hex32.substr(20, 12);
}

std::string randomRunUuid() {
  static thread_local std::mt19937_64 gen(std::random_device{}() ^ (uint64_t(getpid()) << 32) ^ uint64_t(std::time(nullptr)));
  char hex[33];
  std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(gen()), static_cast<unsigned long long>(gen()));
  std::string h(hex);
  h[12] = '4';                              // version 4: random
  h[16] = "89ab"[(h[16] - '0') & 3];        // the RFC 4122 variant
  return uuidText(h);
}

bool processAlive(int64_t pid) { return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

}  // namespace

std::string derivedRunUuid(double created, const std::string& name, const std::string& config) {
  char when[64];
  std::snprintf(when, sizeof when, "%.6f", created);
  return uuidText(sha256Hex(std::string(when) + "\n" + name + "\n" + config).substr(0, 32));
}

double RunSummary::latestValue(const std::string& key, double fallback) const {
  for (const auto& [k, v] : latest)
    if (k == key) return v;
  return fallback;
}

std::pair<std::string, double> RunSummary::keyMetric() const {
  for (const char* k : {"test/accuracy", "test/mse", "test/error"}) {
    const double v = latestValue(k);
    if (!std::isnan(v)) return {k, v};
  }
  return {"", std::nan("")};
}

RunStore::RunStore(const std::string& path, bool readOnly) : m_readOnly(readOnly) {
  if (!readOnly) {
    const fs::path dir = fs::path(path).parent_path();
    if (!dir.empty()) fs::create_directories(dir);
  } else if (!fs::exists(path)) {
    throw StoreError("run database " + path + " does not exist");
  }
  m_db = std::make_unique<sql::Database>(path, readOnly);
  if (readOnly) m_version = readVersion();
  if (!readOnly) {
    m_db->exec("PRAGMA synchronous = NORMAL");  // WAL + NORMAL: durable at checkpoints, never corrupt
    migrate();                                  // sets WAL mode when it creates the schema
  }
}

// Reads the schema version without writing; only a database that needs it is changed (so opening a damaged
// or foreign file, or an up-to-date one, never modifies it).
int RunStore::readVersion() {
  int version = 0;
  Statement hasMeta(*m_db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  if (hasMeta.step() && hasMeta.integer(0) > 0) {
    Statement get(*m_db, "SELECT value FROM meta WHERE key = 'schema_version'");
    if (get.step()) version = std::stoi(get.text(0));
  } else {
    Statement tables(*m_db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'");
    if (tables.step() && tables.integer(0) > 0)
      throw StoreError(path() + " is an SQLite database but not a Continua run database (it has no schema version)");
  }
  return version;
}

void RunStore::migrate() {
  const int version = readVersion();
  if (version > kSchemaVersion)
    throw StoreError("run database " + path() + " has schema version " + std::to_string(version) +
                     ", newer than this Continua (" + std::to_string(kSchemaVersion) + "): upgrade Continua");
  if (version == kSchemaVersion) return;
  if (version >= 1) m_migrationBackup = backUpBeforeMigrating(version);
  m_db->execWaitingForLocks("PRAGMA journal_mode = WAL");  // other openers of a new file may hold a lock
  sql::Transaction tx(*m_db);
  // Two processes can open an old (or new) file at once, e.g. the runs of a sweep: the second waits here for
  // the first's write lock, then finds the work done and must not apply the migrations again.
  if (readVersion() == kSchemaVersion) {
    tx.commit();
    if (!m_migrationBackup.empty()) fs::remove(m_migrationBackup);  // the other process kept its own copy
    m_migrationBackup.clear();
    return;
  }
  m_db->exec("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  if (version < 1) m_db->exec(kSchemaV1);
  for (int v = std::max(version, 1); v < kSchemaVersion; ++v) m_db->exec(kMigrations[v - 1]);
  giveEveryRunAUuid();
  Statement set(*m_db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)");
  set.bind(1, std::to_string(kSchemaVersion)).run();
  tx.commit();
}

// Runs from before schema 3 get a UUID derived from what identifies them (creation time, name, configuration),
// so the same old run read from two copies of a file is recognised as one by `import`.
void RunStore::giveEveryRunAUuid() {
  std::vector<std::pair<int64_t, std::string>> missing;
  {
    Statement s(*m_db, "SELECT id, created, name, config FROM runs WHERE uuid IS NULL");
    while (s.step()) missing.emplace_back(s.integer(0), derivedRunUuid(s.real(1), s.text(2), s.text(3)));
  }
  Statement set(*m_db, "UPDATE runs SET uuid = ? WHERE id = ?");
  for (const auto& [id, uuid] : missing) {
    set.reset();
    set.bind(1, uuid).bind(2, id).run();
  }
  m_db->exec("CREATE UNIQUE INDEX IF NOT EXISTS runs_uuid ON runs(uuid)");
}

// An older Continua's database: a consistent copy of it, as it was, before anything changes. Another
// process migrating the same file may take the free name first; then the next one is used.
std::string RunStore::backUpBeforeMigrating(int version) {
  for (int attempt = 0;; ++attempt) {
    const std::string backup = backupPathFor(path(), version);
    try {
      Statement copy(*m_db, "VACUUM INTO ?");
      copy.bind(1, backup).run();
      return backup;
    } catch (const StoreError&) {
      if (attempt >= 4 || !fs::exists(backup)) throw;
    }
  }
}

int64_t RunStore::createRun(const std::string& name, const json& config, const std::string& model, const std::string& task,
                            const json& environment, int64_t totalSteps, const std::string& sweep) {
  sql::Transaction tx(*m_db);
  Statement ins(*m_db,
                "INSERT INTO runs(name, status, created, started, model, task, config, environment, total_steps, pid, host, uuid, sweep) "
                "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  const double t = now();
  ins.bind(1, name).bind(2, t).bind(3, t).bind(4, model).bind(5, task).bind(6, config.dump()).bind(7, environment.dump())
      .bind(8, totalSteps).bind(9, int64_t(getpid())).bind(10, hostName()).bind(11, randomRunUuid()).bind(12, sweep).run();
  const int64_t id = m_db->lastInsertId();
  Statement p(*m_db, "INSERT INTO params(run_id, key, value) VALUES (?, ?, ?)");
  for (const auto& [k, v] : flattenConfig(config)) {
    p.reset();
    p.bind(1, id).bind(2, k).bind(3, v).run();
  }
  tx.commit();
  return id;
}

void RunStore::setStatus(int64_t run, const std::string& status, const std::string& error) {
  const bool ending = status != "running" && status != "queued";
  Statement s(*m_db, ending ? "UPDATE runs SET status = ?, error = ?, finished = ?, pid = NULL WHERE id = ?"
                            : "UPDATE runs SET status = ?, error = ?, started = ?, pid = " + std::to_string(getpid()) +
                                  ", host = '" + hostName() + "', finished = NULL WHERE id = ?");
  s.bind(1, status).bind(2, error).bind(3, now()).bind(4, run).run();
}

void RunStore::setProgress(int64_t run, int64_t step) {
  Statement s(*m_db, "UPDATE runs SET step = ? WHERE id = ?");
  s.bind(1, step).bind(2, run).run();
}

void RunStore::logMetrics(int64_t run, const std::vector<MetricPoint>& points) {
  if (points.empty()) return;
  sql::Transaction tx(*m_db);
  Statement ins(*m_db, "INSERT INTO metrics(run_id, key, step, wall_time, value) VALUES (?, ?, ?, ?, ?)");
  Statement latest(*m_db,
                   "INSERT INTO latest_metrics(run_id, key, step, wall_time, value) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT(run_id, key) DO UPDATE SET step = excluded.step, wall_time = excluded.wall_time, "
                   "value = excluded.value WHERE excluded.step >= latest_metrics.step");
  for (const MetricPoint& m : points) {
    for (Statement* s : {&ins, &latest}) {
      s->reset();
      s->bind(1, run).bind(2, m.key).bind(3, m.step).bind(4, m.wallTime);
      if (std::isfinite(m.value)) s->bind(5, m.value); else s->bindNull(5);
      s->run();
    }
  }
  int64_t maxStep = 0;
  for (const auto& m : points) maxStep = std::max(maxStep, m.step);
  Statement prog(*m_db, "UPDATE runs SET step = max(step, ?) WHERE id = ?");
  prog.bind(1, maxStep).bind(2, run).run();
  faultPoint("metrics-transaction");  // killed here, the whole batch must be absent, never half of it
  tx.commit();
}

void RunStore::addCurve(int64_t run, const std::vector<CurvePoint>& points) {
  faultPoint("curves");
  sql::Transaction tx(*m_db);
  Statement ins(*m_db, "INSERT INTO curves(run_id, curve, step, x, value) VALUES (?, ?, ?, ?, ?)");
  for (const auto& c : points) {
    ins.reset();
    ins.bind(1, run).bind(2, c.curve).bind(3, c.step).bind(4, c.x).bind(5, c.value).run();
  }
  tx.commit();
}

void RunStore::addMaps(int64_t run, const std::vector<StoredMap>& maps) {
  sql::Transaction tx(*m_db);
  Statement ins(*m_db, "INSERT INTO maps(run_id, step, layer, layer_name, kind, rows, cols, kl, data, meta) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& m : maps) {
    ins.reset();
    ins.bind(1, run).bind(2, m.step).bind(3, int64_t(m.layer)).bind(4, m.layerName).bind(5, m.kind).bind(6, int64_t(m.rows))
        .bind(7, int64_t(m.cols)).bind(8, m.kl).bindBlob(9, m.values.data(), m.values.size() * sizeof(float))
        .bind(10, m.meta.dump()).run();
  }
  tx.commit();
}

void RunStore::addCheckpoint(int64_t run, const Checkpoint& c) {
  Statement s(*m_db, "INSERT OR REPLACE INTO checkpoints(run_id, step, path, sha256, created) VALUES (?, ?, ?, ?, ?)");
  s.bind(1, run).bind(2, c.step).bind(3, c.path).bind(4, c.sha256).bind(5, now()).run();
}

void RunStore::truncateAfter(int64_t run, int64_t step) {
  sql::Transaction tx(*m_db);
  for (const char* q : {"DELETE FROM metrics WHERE run_id = ? AND step > ?", "DELETE FROM curves WHERE run_id = ? AND step > ?",
                        "DELETE FROM maps WHERE run_id = ? AND step > ?", "DELETE FROM checkpoints WHERE run_id = ? AND step > ?"}) {
    Statement s(*m_db, q);
    s.bind(1, run).bind(2, step).run();
  }
  // Rebuild the latest values from what is left.
  Statement del(*m_db, "DELETE FROM latest_metrics WHERE run_id = ?");
  del.bind(1, run).run();
  Statement rebuild(*m_db,
                    "INSERT INTO latest_metrics(run_id, key, step, wall_time, value) "
                    "SELECT run_id, key, step, wall_time, value FROM metrics m WHERE run_id = ? AND step = "
                    "(SELECT max(step) FROM metrics WHERE run_id = m.run_id AND key = m.key) GROUP BY key");
  rebuild.bind(1, run).run();
  Statement prog(*m_db, "UPDATE runs SET step = ? WHERE id = ?");
  prog.bind(1, step).bind(2, run).run();
  tx.commit();
}

std::vector<RunSummary> RunStore::listRuns(const RunFilter& f) const {
  // A read-only file of an older schema is read as it is: no uuid or sweep columns before version 3.
  const bool v3 = m_version >= 3;
  std::string q = std::string("SELECT id, name, status, model, task, error, notes, created, started, finished, step, total_steps, ") +
                  (v3 ? "uuid, sweep, NULL" : "NULL, '', config") + " FROM runs WHERE 1";  // config: only to derive an old run's uuid
  if (!f.status.empty()) q += " AND status = ?1";
  if (!f.tag.empty()) q += " AND id IN (SELECT run_id FROM tags WHERE tag = ?2)";
  if (!f.text.empty()) q += " AND (name LIKE ?3 OR model LIKE ?3 OR task LIKE ?3 OR notes LIKE ?3)";
  if (f.id > 0) q += " AND id = ?4";
  if (!f.sweep.empty()) q += v3 ? " AND sweep = ?5" : " AND 0";
  q += " ORDER BY id";
  Statement s(*m_db, q);
  if (!f.status.empty()) s.bind(1, f.status);
  if (!f.tag.empty()) s.bind(2, f.tag);
  if (!f.text.empty()) s.bind(3, "%" + f.text + "%");
  if (f.id > 0) s.bind(4, f.id);
  if (!f.sweep.empty() && v3) s.bind(5, f.sweep);
  std::vector<RunSummary> out;
  while (s.step()) {
    RunSummary r;
    r.id = s.integer(0); r.name = s.text(1); r.status = s.text(2); r.model = s.text(3); r.task = s.text(4);
    r.error = s.text(5); r.notes = s.text(6); r.created = s.real(7); r.started = s.real(8); r.finished = s.real(9);
    r.step = s.integer(10); r.totalSteps = s.integer(11);
    r.uuid = s.isNull(12) ? derivedRunUuid(r.created, r.name, s.text(14)) : s.text(12);
    r.sweep = s.text(13);
    out.push_back(r);
  }
  Statement tags(*m_db, "SELECT tag FROM tags WHERE run_id = ? ORDER BY tag");
  Statement latest(*m_db, "SELECT key, value FROM latest_metrics WHERE run_id = ? ORDER BY key");
  for (auto& r : out) {
    tags.reset();
    tags.bind(1, r.id);
    while (tags.step()) r.tags.push_back(tags.text(0));
    latest.reset();
    latest.bind(1, r.id);
    while (latest.step()) r.latest.emplace_back(latest.text(0), latest.isNull(1) ? std::nan("") : latest.real(1));
  }
  return out;
}

std::optional<RunRecord> RunStore::getRun(int64_t run) const {
  RunFilter only;
  only.id = run;
  auto rows = listRuns(only);
  if (rows.empty()) return std::nullopt;
  RunRecord rec;
  static_cast<RunSummary&>(rec) = std::move(rows.front());
  Statement s(*m_db, "SELECT config, environment FROM runs WHERE id = ?");
  s.bind(1, run);
  if (s.step()) {
    rec.config = json::parse(s.text(0), nullptr, false);
    rec.environment = json::parse(s.text(1), nullptr, false);
  }
  return rec;
}

std::vector<std::string> RunStore::metricKeys(int64_t run) const {
  Statement s(*m_db, "SELECT key FROM latest_metrics WHERE run_id = ? ORDER BY key");
  s.bind(1, run);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

std::vector<MetricPoint> RunStore::metrics(int64_t run, const std::string& key, int64_t sinceStep) const {
  Statement s(*m_db, "SELECT step, wall_time, value FROM metrics WHERE run_id = ? AND key = ? AND step > ? ORDER BY step, rowid");
  s.bind(1, run).bind(2, key).bind(3, sinceStep);
  std::vector<MetricPoint> out;
  while (s.step()) out.push_back({key, s.integer(0), s.real(1), s.isNull(2) ? std::nan("") : s.real(2)});
  return out;
}

std::vector<CurvePoint> RunStore::curves(int64_t run) const {
  Statement s(*m_db, "SELECT curve, step, x, value FROM curves WHERE run_id = ? ORDER BY curve, step, x");
  s.bind(1, run);
  std::vector<CurvePoint> out;
  while (s.step()) out.push_back({s.text(0), s.integer(1), s.real(2), s.isNull(3) ? std::nan("") : s.real(3)});
  return out;
}

std::vector<int64_t> RunStore::mapSteps(int64_t run) const {
  Statement s(*m_db, "SELECT DISTINCT step FROM maps WHERE run_id = ? ORDER BY step");
  s.bind(1, run);
  std::vector<int64_t> out;
  while (s.step()) out.push_back(s.integer(0));
  return out;
}

std::vector<RunStore::MapKl> RunStore::mapKls(int64_t run) const {
  // Only maps that have a ground truth to be compared with (the others carry no meaningful KL).
  Statement s(*m_db, "SELECT m.step, m.layer, m.layer_name, m.kl FROM maps m WHERE m.run_id = ? AND m.kind = 'model' "
                     "AND EXISTS (SELECT 1 FROM maps t WHERE t.run_id = m.run_id AND t.step = m.step AND t.layer = m.layer "
                     "AND t.kind = 'truth') ORDER BY m.step, m.layer");
  s.bind(1, run);
  std::vector<MapKl> out;
  while (s.step()) out.push_back({s.integer(0), int(s.integer(1)), s.text(2), s.real(3)});
  return out;
}

std::vector<StoredMap> RunStore::maps(int64_t run, int64_t step) const {
  Statement s(*m_db, "SELECT layer, layer_name, kind, rows, cols, kl, data, meta FROM maps WHERE run_id = ? AND step = ? "
                     "ORDER BY layer, kind");
  s.bind(1, run).bind(2, step);
  std::vector<StoredMap> out;
  while (s.step()) {
    StoredMap m;
    m.step = step; m.layer = int(s.integer(0)); m.layerName = s.text(1); m.kind = s.text(2);
    m.rows = int(s.integer(3)); m.cols = int(s.integer(4)); m.kl = s.real(5); m.values = s.floats(6);
    m.meta = json::parse(s.text(7), nullptr, false);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<Checkpoint> RunStore::checkpoints(int64_t run) const {
  Statement s(*m_db, "SELECT step, path, sha256 FROM checkpoints WHERE run_id = ? ORDER BY step");
  s.bind(1, run);
  std::vector<Checkpoint> out;
  while (s.step()) out.push_back({s.integer(0), s.text(1), s.text(2)});
  return out;
}

void RunStore::rename(int64_t run, const std::string& name) {
  Statement s(*m_db, "UPDATE runs SET name = ? WHERE id = ?");
  s.bind(1, name).bind(2, run).run();
}

void RunStore::setNotes(int64_t run, const std::string& notes) {
  Statement s(*m_db, "UPDATE runs SET notes = ? WHERE id = ?");
  s.bind(1, notes).bind(2, run).run();
}

void RunStore::addTag(int64_t run, const std::string& tag) {
  Statement s(*m_db, "INSERT OR IGNORE INTO tags(run_id, tag) VALUES (?, ?)");
  s.bind(1, run).bind(2, tag).run();
}

void RunStore::removeTag(int64_t run, const std::string& tag) {
  Statement s(*m_db, "DELETE FROM tags WHERE run_id = ? AND tag = ?");
  s.bind(1, run).bind(2, tag).run();
}

void RunStore::deleteRun(int64_t run) {
  Statement s(*m_db, "DELETE FROM runs WHERE id = ?");
  s.bind(1, run).run();
  std::error_code ec;
  fs::remove_all(checkpointDirectory(run), ec);
}

int RunStore::markInterruptedRuns() {
  if (m_readOnly) return 0;
  Statement s(*m_db, "SELECT id, pid, host FROM runs WHERE status = 'running'");
  std::vector<int64_t> dead;
  const std::string host = hostName();
  while (s.step())
    if (s.text(2) == host && !processAlive(s.isNull(1) ? 0 : s.integer(1))) dead.push_back(s.integer(0));
  for (int64_t id : dead) setStatus(id, "interrupted", "the process running it ended without finishing it");
  return int(dead.size());
}

std::string RunStore::checkpointDirectory(int64_t run) const {
  return path() + ".checkpoints/run-" + std::to_string(run);
}

std::string RunStore::integrityCheck() const {
  Statement s(*m_db, "PRAGMA integrity_check");
  std::string out;
  while (s.step()) out += (out.empty() ? "" : "; ") + s.text(0);
  return out;
}

}  // namespace continua::core

#pragma once
// The run database (schema: docs/STORE.md). One SQLite file per workspace, WAL mode, busy timeout,
// foreign keys, a schema version with forward migrations. Runs are first-class records; every metric point
// is kept; a latest-value table serves run lists; evaluation curves, association maps and checkpoints are
// stored so every plot can be redrawn from the database alone.
//
// Concurrency: one writer per run (the engine), any number of readers (workbench, a second CLI). WAL lets
// readers see committed data without blocking the writer.
#include "core/store/sqlite.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace continua::core {

// 1: the first schema. 2: indexes for the run list's status and tag filters (older files read fine without).
// 3: a UUID per run (its identity across databases, for `import`) and the sweep a run belongs to.
constexpr int kSchemaVersion = 3;

struct MetricPoint {
  std::string key;
  int64_t step = 0;
  double wallTime = 0;  // seconds since the epoch
  double value = 0;
};

struct RunSummary {
  int64_t id = 0;
  std::string uuid;   // the run's identity in every database it is imported into
  std::string sweep;  // the sweep it was launched by ("" for none)
  std::string name, status, model, task, error, notes;
  double created = 0, started = 0, finished = 0;
  int64_t step = 0, totalSteps = 0;
  std::vector<std::string> tags;
  std::vector<std::pair<std::string, double>> latest;  // latest value per metric key
  double latestValue(const std::string& key, double fallback = std::nan("")) const;
  // The headline evaluation metric: test/accuracy, else test/mse, else test/error ({"", NaN} when none).
  std::pair<std::string, double> keyMetric() const;
};

struct RunRecord : RunSummary {
  nlohmann::json config, environment;
};

struct CurvePoint {
  std::string curve;  // e.g. "length_tasks/accuracy"
  int64_t step = 0;   // training step the sweep was run at
  double x = 0, value = 0;
};

struct StoredMap {
  int64_t step = 0;
  int layer = 0;
  std::string layerName, kind;  // kind: "model" or "truth"
  int rows = 0, cols = 0;
  double kl = 0;
  std::vector<float> values;  // rows * cols, row-major
  nlohmann::json meta;        // e.g. task boundaries
};

struct Checkpoint {
  int64_t step = 0;
  std::string path, sha256;
};

struct RunFilter {
  std::string status, tag, text, sweep;
  int64_t id = 0;  // > 0: only this run
};

// The UUID of a run from before schema 3: derived from its creation time, name and configuration text, so
// every copy of an old file names the run alike.
std::string derivedRunUuid(double created, const std::string& name, const std::string& config);

// What `import` did with the runs of one source database.
struct ImportResult {
  int imported = 0;        // new here
  int refreshed = 0;       // here already, but the source's copy had moved on (status or step): replaced
  int unchanged = 0;       // here already as they are in the source
  int skippedRunning = 0;  // still training in the source: import again when they end
  int checkpointsCopied = 0, checkpointsReferenced = 0;  // referenced: the file was not found, its path is kept
};

class RunStore {
 public:
  // Creates the file (and its directory) when writable and missing; migrates older schemas.
  explicit RunStore(const std::string& path, bool readOnly = false);
  const std::string& path() const { return m_db->path(); }
  // Where opening this database kept a copy of it before migrating an older schema; empty when nothing was migrated.
  const std::string& migrationBackup() const { return m_migrationBackup; }
  bool readOnly() const { return m_readOnly; }
  int schemaVersion() const { return m_version; }  // of the file as opened (older only when read-only)

  // `sweep`: the sweep launching it, if any (runs of one sweep are shown as a group).
  int64_t createRun(const std::string& name, const nlohmann::json& config, const std::string& model,
                    const std::string& task, const nlohmann::json& environment, int64_t totalSteps,
                    const std::string& sweep = {});
  void setStatus(int64_t run, const std::string& status, const std::string& error = {});
  void setProgress(int64_t run, int64_t step);
  void logMetrics(int64_t run, const std::vector<MetricPoint>& points);  // one transaction
  void addCurve(int64_t run, const std::vector<CurvePoint>& points);
  void addMaps(int64_t run, const std::vector<StoredMap>& maps);
  void addCheckpoint(int64_t run, const Checkpoint& c);
  // Drops metric points after `step` (a resumed run re-logs them from its checkpoint).
  void truncateAfter(int64_t run, int64_t step);

  std::vector<RunSummary> listRuns(const RunFilter& filter = {}) const;
  std::optional<RunRecord> getRun(int64_t run) const;
  std::vector<std::string> metricKeys(int64_t run) const;
  std::vector<MetricPoint> metrics(int64_t run, const std::string& key, int64_t sinceStep = -1) const;
  std::vector<CurvePoint> curves(int64_t run) const;
  std::vector<int64_t> mapSteps(int64_t run) const;
  std::vector<StoredMap> maps(int64_t run, int64_t step) const;
  struct MapKl {
    int64_t step = 0;
    int layer = 0;
    std::string layerName;
    double kl = 0;
  };
  // KL(p || q) of every model map the run stored, by step and layer, without reading the maps themselves.
  std::vector<MapKl> mapKls(int64_t run) const;
  std::vector<Checkpoint> checkpoints(int64_t run) const;

  void rename(int64_t run, const std::string& name);
  void setNotes(int64_t run, const std::string& notes);
  void addTag(int64_t run, const std::string& tag);
  void removeTag(int64_t run, const std::string& tag);
  void deleteRun(int64_t run);  // also removes its checkpoint files
  // Merges another run database into this one (run_import.cpp). A run is identified by its UUID, so
  // importing a file twice, or two copies of it, adds its runs once; checkpoint files are copied beside this
  // database. Throws StoreError naming the file when it cannot be read or is this database.
  ImportResult importFrom(const std::string& sourcePath);

  // Runs left "running" by a process that no longer exists become "interrupted". Returns how many.
  int markInterruptedRuns();
  std::string checkpointDirectory(int64_t run) const;
  std::string integrityCheck() const;  // "ok" or SQLite's report

 private:
  void migrate();
  void giveEveryRunAUuid();
  std::string backUpBeforeMigrating(int version);
  int readVersion();  // 0 for a new file; throws for a foreign SQLite file
  std::unique_ptr<sql::Database> m_db;
  bool m_readOnly;
  int m_version = kSchemaVersion;  // of the file; a read-only older file is read as it is
  std::string m_migrationBackup;
};

}  // namespace continua::core

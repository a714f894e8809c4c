// Run store: schema and version, metrics round trip with latest values, curves, maps, tags/notes,
// truncation for resume, interrupted-run detection, and a reader that never sees an error while a
// writer commits.
#include "core/store/run_export.h"
#include "core/store/run_store.h"
#include "core/util/errors.h"

#include <QtTest>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

using namespace continua::core;
using nlohmann::json;

class TestStore : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  QString db(const char* name) { return m_dir.filePath(name); }

 private slots:
  void createsSchemaWithVersion() {
    RunStore s(db("a.db").toStdString());
    QCOMPARE(QString::fromStdString(s.integrityCheck()), QString("ok"));
    sql::Database raw(db("a.db").toStdString(), true);
    sql::Statement q(raw, "SELECT value FROM meta WHERE key = 'schema_version'");
    QVERIFY(q.step());
    QCOMPARE(q.text(0), std::to_string(kSchemaVersion));
    sql::Statement mode(raw, "PRAGMA journal_mode");
    QVERIFY(mode.step());
    QCOMPARE(QString::fromStdString(mode.text(0)), QString("wal"));
  }

  void metricsRoundTrip() {
    RunStore s(db("b.db").toStdString());
    const int64_t id = s.createRun("r", {{"model", {{"family", "mamba"}}}, {"seed", 3}}, "mamba", "mcl/synthetic", {}, 10);
    s.logMetrics(id, {{"train/loss", 1, 100.0, 2.5}, {"train/loss", 2, 101.0, 2.0}, {"test/accuracy", 2, 101.0, 0.5}});
    s.logMetrics(id, {{"train/loss", 3, 102.0, std::nan("")}});
    auto pts = s.metrics(id, "train/loss");
    QCOMPARE(int(pts.size()), 3);
    QCOMPARE(pts[1].value, 2.0);
    QVERIFY(std::isnan(pts[2].value));
    auto runs = s.listRuns();
    QCOMPARE(int(runs.size()), 1);
    QCOMPARE(runs[0].latestValue("test/accuracy"), 0.5);
    QCOMPARE(runs[0].step, int64_t(3));
    QCOMPARE(int(s.metrics(id, "train/loss", 1).size()), 2);  // incremental fetch
  }

  void curvesMapsTagsNotes() {
    RunStore s(db("c.db").toStdString());
    const int64_t id = s.createRun("r", json::object(), "m", "t", {}, 1);
    s.addCurve(id, {{"length_tasks/accuracy", 10, 5, 0.9}, {"length_tasks/accuracy", 10, 10, 0.8}});
    StoredMap m;
    m.step = 10; m.layer = 0; m.layerName = "block 0"; m.kind = "model"; m.rows = 2; m.cols = 3;
    m.values = {0.1f, 0.2f, 0.7f, 0.3f, 0.3f, 0.4f};
    m.meta = {{"tokens_per_task", 2}};
    s.addMaps(id, {m});
    auto maps = s.maps(id, 10);
    QCOMPARE(int(maps.size()), 1);
    QCOMPARE(maps[0].values, m.values);
    QCOMPARE(maps[0].meta["tokens_per_task"].get<int>(), 2);
    QCOMPARE(int(s.curves(id).size()), 2);
    s.addTag(id, "baseline");
    s.setNotes(id, "first try");
    s.rename(id, "renamed");
    RunFilter f;
    f.tag = "baseline";
    QCOMPARE(int(s.listRuns(f).size()), 1);
    f.tag.clear();
    f.text = "first";
    QCOMPARE(int(s.listRuns(f).size()), 1);
    QCOMPARE(QString::fromStdString(s.listRuns()[0].name), QString("renamed"));
    s.deleteRun(id);
    QVERIFY(s.listRuns().empty());
    QVERIFY(s.curves(id).empty());  // cascaded
  }

  void truncateForResume() {
    RunStore s(db("d.db").toStdString());
    const int64_t id = s.createRun("r", json::object(), "m", "t", {}, 10);
    for (int step = 1; step <= 10; ++step) s.logMetrics(id, {{"train/loss", step, double(step), double(step)}});
    s.truncateAfter(id, 6);
    QCOMPARE(int(s.metrics(id, "train/loss").size()), 6);
    QCOMPARE(s.listRuns()[0].latestValue("train/loss"), 6.0);
  }

  void runsOfDeadProcessesBecomeInterrupted() {
    RunStore s(db("e.db").toStdString());
    const int64_t id = s.createRun("r", json::object(), "m", "t", {}, 10);
    {  // pretend another (dead) process owned it
      sql::Database raw(db("e.db").toStdString(), false);
      raw.exec("UPDATE runs SET pid = 999999999 WHERE id = " + std::to_string(id));
    }
    QCOMPARE(s.markInterruptedRuns(), 1);
    QCOMPARE(QString::fromStdString(s.listRuns()[0].status), QString("interrupted"));
  }

  void compareListsOnlyDifferingKeys() {
    RunStore s(db("f.db").toStdString());
    const int64_t a = s.createRun("a", {{"seed", 1}, {"model", {{"d_state", 16}, {"layers", 2}}}}, "m", "t", {}, 1);
    const int64_t b = s.createRun("b", {{"seed", 2}, {"model", {{"d_state", 16}, {"layers", 4}}}}, "m", "t", {}, 1);
    RunComparison c = compareRuns(s, {a, b}, false);
    QCOMPARE(c.differingKeys, (std::vector<std::string>{"model.layers", "seed"}));
    QCOMPARE(int(compareRuns(s, {a, b}, true).config.size()), 3);
    std::ostringstream csv;
    exportCsv(s, {a, b}, csv);
    QVERIFY(QString::fromStdString(csv.str()).startsWith("run,name,kind,key,step,x,wall_time,value"));
  }

  // Exported numbers read back to the same doubles (%f once turned 1e-7 into 0.000000), whatever their size.
  void csvExportRoundTripsEveryNumber() {
    RunStore s(db("g.db").toStdString());
    const int64_t a = s.createRun("a", {{"seed", 1}}, "m", "t", {}, 1);
    const std::vector<double> values{1e-7, 0.1, 123456789.123, -2.5e-12, 1.0 / 3.0};
    std::vector<MetricPoint> points;
    for (size_t i = 0; i < values.size(); ++i) points.push_back({"train/loss", int64_t(i), 1.7e9 + 0.123456, values[i]});
    s.logMetrics(a, points);
    s.addCurve(a, {{"examples/error", 1, 0.1, 1e-9}});
    std::ostringstream csv;
    exportCsv(s, {a}, csv);
    std::istringstream in(csv.str());
    std::string line;
    std::getline(in, line);
    std::vector<double> read;
    double curveX = 0, curveValue = 0, wall = 0;
    while (std::getline(in, line)) {
      QStringList f = QString::fromStdString(line).split(',');
      if (f[2] == "metric") { read.push_back(std::stod(f[7].toStdString())); wall = std::stod(f[6].toStdString()); }
      else { curveX = std::stod(f[5].toStdString()); curveValue = std::stod(f[7].toStdString()); }
    }
    QCOMPARE(read.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) QVERIFY2(read[i] == values[i], qPrintable(QString::fromStdString(csv.str())));
    QCOMPARE(wall, 1.7e9 + 0.123456);
    QCOMPARE(curveX, 0.1);
    QCOMPARE(curveValue, 1e-9);
  }

  void readerNeverSeesAnErrorWhileWriting() {
    const std::string path = db("g.db").toStdString();
    RunStore writer(path);
    const int64_t id = writer.createRun("r", json::object(), "m", "t", {}, 1000);
    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, errors{0};
    std::thread reader([&] {
      RunStore r(path, true);
      while (!done) {
        try {
          r.listRuns();
          r.metrics(id, "train/loss");
          ++reads;
        } catch (...) {
          ++errors;
        }
      }
    });
    for (int step = 1; step <= 300; ++step) writer.logMetrics(id, {{"train/loss", step, double(step), 1.0 / step}});
    done = true;
    reader.join();
    QCOMPARE(errors.load(), 0);
    QVERIFY(reads.load() > 0);
  }

  void badDatabaseFileGivesAClearError() {
    QFile f(db("garbage.db"));
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(4096, 'x'));
    f.close();
    try {
      RunStore s(db("garbage.db").toStdString());
      QFAIL("expected StoreError");
    } catch (const StoreError& e) {
      QVERIFY2(QString(e.what()).contains("garbage.db"), e.what());
    }
  }

  // A database written by an older Continua (schema 1, a real file from commit c9f1cac) is migrated on first
  // write access with a copy of the file kept as it was; reading it needs no migration and changes nothing.
  // import: every table of a run comes over with its checkpoint file, a second import (or a copy of the same
  // file) adds nothing, a source run that moved on replaces its copy, a running one waits, and runs of an
  // older-schema file keep one identity whether the file is read as it is or after its migration.
  void importMergesRunsOnceWithTheirCheckpoints() {
    const std::string a = db("import-a.db").toStdString(), target = db("import-target.db").toStdString();
    int64_t finished = 0, running = 0;
    {
      RunStore s(a);
      finished = s.createRun("r", {{"seed", 1}}, "mamba", "mcl/synthetic", {{"commit", "x"}}, 10, "sweep-1");
      s.logMetrics(finished, {{"train/loss", 1, 1.0, 2.0}, {"test/accuracy", 10, 2.0, 0.5}});
      s.addCurve(finished, {{"length_tasks/accuracy", 10, 5.0, 0.4}});
      s.addMaps(finished, {{10, 0, "block 0", "model", 1, 2, 0.3, {0.25f, 0.75f}, json::object()}});
      s.addTag(finished, "best");
      s.setNotes(finished, "kept");
      const std::string ckpt = s.checkpointDirectory(finished) + "/step-10.pt";
      QDir().mkpath(QString::fromStdString(s.checkpointDirectory(finished)));
      std::ofstream(ckpt) << "weights";
      s.addCheckpoint(finished, {10, ckpt, "abc"});
      s.setProgress(finished, 10);
      s.setStatus(finished, "finished");
      running = s.createRun("still", {{"seed", 2}}, "mamba", "mcl/synthetic", {}, 10);
    }
    RunStore t(target);
    ImportResult r = t.importFrom(a);
    QCOMPARE(r.imported, 1);
    QCOMPARE(r.skippedRunning, 1);
    QCOMPARE(r.checkpointsCopied, 1);
    auto runs = t.listRuns();
    QCOMPARE(int(runs.size()), 1);
    const RunSummary& here = runs.front();
    RunStore source(a, true);
    QCOMPARE(here.uuid, source.listRuns().front().uuid);
    QCOMPARE(here.sweep, std::string("sweep-1"));
    QCOMPARE(here.tags, std::vector<std::string>{"best"});
    QCOMPARE(here.notes, std::string("kept"));
    QCOMPARE(here.latestValue("test/accuracy"), 0.5);
    QCOMPARE(int(t.metrics(here.id, "train/loss").size()), 1);
    QCOMPARE(int(t.curves(here.id).size()), 1);
    QCOMPARE(t.maps(here.id, 10).front().values, (std::vector<float>{0.25f, 0.75f}));
    const auto cps = t.checkpoints(here.id);
    QCOMPARE(int(cps.size()), 1);
    QVERIFY(QString::fromStdString(cps.front().path).startsWith(QString::fromStdString(t.checkpointDirectory(here.id))));
    QVERIFY(QFile::exists(QString::fromStdString(cps.front().path)));

    r = t.importFrom(a);  // again: nothing new
    QCOMPARE(r.imported, 0);
    QCOMPARE(r.unchanged, 1);
    QCOMPARE(int(t.listRuns().size()), 1);
    {
      RunStore s(a);  // the running run ends, the finished one is renamed only (same status and step: unchanged)
      s.setProgress(running, 10);
      s.setStatus(running, "finished");
    }
    r = t.importFrom(a);
    QCOMPARE(r.imported, 1);
    QCOMPARE(r.unchanged, 1);
    QCOMPARE(int(t.listRuns().size()), 2);
    QVERIFY_THROWS_EXCEPTION(StoreError, t.importFrom(target));
    QVERIFY_THROWS_EXCEPTION(StoreError, t.importFrom(db("nothing-here.db").toStdString()));

    // A schema-1 file: read as it is, then a migrated copy of it: one run, not two.
    const QString fixture = QString(CONTINUA_TEST_DATA_DIR) + "/schema-v1.sqlite3";
    const QString old = db("import-old.db"), migrated = db("import-old-migrated.db");
    QVERIFY(QFile::copy(fixture, old));
    QVERIFY(QFile::copy(fixture, migrated));
    QFile::setPermissions(migrated, QFile::ReadOwner | QFile::WriteOwner);
    { RunStore upgrade(migrated.toStdString()); }
    QCOMPARE(t.importFrom(old.toStdString()).imported, 1);
    QCOMPARE(t.importFrom(migrated.toStdString()).unchanged, 1);
  }

  // The runs of a sweep start together on one old database: each opens it for writing at once. One migrates,
  // the others wait for its lock and find the work done (they once applied the migrations again and failed).
  void concurrentOpenersMigrateOnce() {
    const QString path = db("concurrent-old.db");
    QVERIFY(QFile::copy(QString(CONTINUA_TEST_DATA_DIR) + "/schema-v1.sqlite3", path));
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
    std::atomic<int> failures{0};
    std::vector<std::thread> openers;
    for (int i = 0; i < 4; ++i)
      openers.emplace_back([&] {
        try {
          RunStore s(path.toStdString());
        } catch (const std::exception& e) {
          qWarning("%s", e.what());
          ++failures;
        }
      });
    for (auto& t : openers) t.join();
    QCOMPARE(failures.load(), 0);
    RunStore s(path.toStdString(), true);
    QCOMPARE(int(s.listRuns().size()), 1);
    QVERIFY(!s.listRuns().front().uuid.empty());
    const QStringList backups = QDir(m_dir.path()).entryList({"concurrent-old.db.schema-v1.backup*"});
    QCOMPARE(backups.size(), 1);
  }

  // Runs of a sweep (or two `continua-cli run`s) can create the same new database at once: every opener must
  // wait for the others, none fail with "database is locked" (CI saw it from PRAGMA journal_mode = WAL).
  void concurrentOpenersOfANewFileAllSucceed() {
    for (int attempt = 0; attempt < 20; ++attempt) {
      const std::string path = db(("concurrent-new-" + std::to_string(attempt) + ".db").c_str()).toStdString();
      std::atomic<int> failures{0};
      std::vector<std::thread> openers;
      for (int i = 0; i < 6; ++i)
        openers.emplace_back([&] {
          try {
            RunStore s(path);
          } catch (const std::exception& e) {
            qWarning("%s", e.what());
            ++failures;
          }
        });
      for (auto& t : openers) t.join();
      QCOMPARE(failures.load(), 0);
    }
  }

  void olderSchemaIsMigratedWithABackup() {
    const QString fixture = QString(CONTINUA_TEST_DATA_DIR) + "/schema-v1.sqlite3";
    const QString path = db("old.db");
    QVERIFY(QFile::copy(fixture, path));
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
    auto version = [](const std::string& file) {
      sql::Database raw(file, true);
      sql::Statement q(raw, "SELECT value FROM meta WHERE key = 'schema_version'");
      return q.step() ? std::stoi(q.text(0)) : -1;
    };
    auto indexes = [](const std::string& file) {
      sql::Database raw(file, true);
      sql::Statement q(raw, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('runs_status', 'tags_tag')");
      return q.step() ? q.integer(0) : -1;
    };
    QCOMPARE(version(path.toStdString()), 1);
    {
      RunStore reader(path.toStdString(), true);  // read-only: usable as it is, and left alone
      QCOMPARE(int(reader.listRuns().size()), 1);
      QVERIFY(reader.migrationBackup().empty());
    }
    QCOMPARE(version(path.toStdString()), 1);
    std::string backup;
    {
      RunStore s(path.toStdString());
      backup = s.migrationBackup();
      QVERIFY2(!backup.empty() && QFile::exists(QString::fromStdString(backup)), backup.c_str());
      QVERIFY2(QString::fromStdString(backup).endsWith(".schema-v1.backup"), backup.c_str());
      QCOMPARE(QString::fromStdString(s.integrityCheck()), QString("ok"));
      RunFilter tagged;
      tagged.tag = "fixture";
      const auto runs = s.listRuns(tagged);
      QCOMPARE(int(runs.size()), 1);
      QCOMPARE(QString::fromStdString(runs[0].name), QString("written by schema v1"));
      QCOMPARE(QString::fromStdString(runs[0].status), QString("finished"));
      QCOMPARE(int(s.metrics(runs[0].id, "train/loss").size()), 6);
      QVERIFY(!s.curves(runs[0].id).empty());
    }
    QCOMPARE(version(path.toStdString()), kSchemaVersion);
    QCOMPARE(indexes(path.toStdString()), int64_t(2));
    QCOMPARE(version(backup), 1);  // the copy is the file as it was
    QCOMPARE(indexes(backup), int64_t(0));
    {
      RunStore again(path.toStdString());  // already current: no second backup
      QVERIFY(again.migrationBackup().empty());
    }
    QVERIFY(!QFile::exists(QString::fromStdString(backup) + ".1"));
  }
};

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"

// Faults, hostile input and load (docs/RELIABILITY.md): the engine killed with SIGKILL at every kind of point
// (between steps, inside a metrics transaction, inside and just after a checkpoint write, while writing curves
// and maps, in the final sweeps) leaves a sound database that has lost nothing it committed, and the resumed run
// reproduces the uninterrupted one; hundreds of malformed experiment files are refused quickly and clearly;
// damaged databases and checkpoints are reported, never modified; two training processes and a reader share one
// database without a "database is locked"; experiments that cannot fit are refused before a run exists.
#include "core/config/experiment_schema.h"
#include "core/store/run_store.h"
#include "core/train/trainer.h"
#include "core/util/errors.h"
#include "core/util/sha256.h"

#include "tiny_experiment.h"

#include <QtTest>

#include <csignal>
#include <fstream>
#include <thread>

using namespace continua::core;
using nlohmann::json;

namespace {

json tinyConfig(int steps) { return continua::test::tinyExperiment(steps, 11); }

std::vector<double> losses(const RunStore& s, int64_t id) {
  std::vector<double> v;
  for (const auto& p : s.metrics(id, "train/loss")) v.push_back(p.value);
  return v;
}

QString writeJson(const QString& path, const json& j) {
  QFile f(path);
  f.open(QIODevice::WriteOnly);
  f.write(QByteArray::fromStdString(j.dump()));
  return path;
}

std::string fileHash(const QString& path) { return sha256OfFile(path.toStdString()); }

}  // namespace

class TestReliability : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private slots:
  void initTestCase() { QVERIFY(m_dir.isValid()); }

  // SIGKILL at 21 points of a run. After each: integrity ok; every committed loss is the uninterrupted run's
  // (nothing lost, nothing half-written); the run shows interrupted; its last recorded checkpoint verifies and
  // loads; resuming reproduces the uninterrupted run's losses exactly.
  void killedAnywhereLosesNothingAndResumes() {
    const json config = tinyConfig(24);
    const std::string refDb = m_dir.filePath("kill-reference.db").toStdString();
    TrainingObserver quiet;
    Trainer reference(refDb, quiet);
    const TrainResult ref = reference.run(config);
    QCOMPARE(QString::fromStdString(ref.status), QString("finished"));
    const std::vector<double> expected = losses(RunStore(refDb, true), ref.runId);
    const QString cfg = writeJson(m_dir.filePath("kill.json"), config);
    const std::vector<std::pair<const char*, int>> points{
        {"step", 1}, {"step", 3}, {"step", 4}, {"step", 9}, {"step", 17}, {"step", 23},
        {"metrics-transaction", 1}, {"metrics-transaction", 2}, {"metrics-transaction", 4},
        {"checkpoint-written", 1}, {"checkpoint-written", 2}, {"checkpoint-written", 4}, {"checkpoint-written", 6},
        {"checkpoint-renamed", 1}, {"checkpoint-renamed", 3}, {"checkpoint-renamed", 5},
        {"curves", 1}, {"curves", 3}, {"maps", 2}, {"maps", 4}, {"final-sweeps", 1}};
    QVERIFY(points.size() >= 20);
    int index = 0;
    for (const auto& [point, nth] : points) {
      const QString what = QString("%1:%2").arg(point).arg(nth);
      const QString db = m_dir.filePath(QString("kill-%1.db").arg(index++));
      QProcess child;
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert("CONTINUA_KILL_AT", what);
      child.setProcessEnvironment(env);
      child.start(CONTINUA_CLI_PATH, {"run", cfg, "--db", db});
      QVERIFY(child.waitForFinished(120000));
      QVERIFY2(child.exitStatus() == QProcess::CrashExit, qPrintable(what + ": the process was not killed"));

      RunStore store(db.toStdString());
      QCOMPARE(QString::fromStdString(store.integrityCheck()), QString("ok"));
      QCOMPARE(store.markInterruptedRuns(), 1);
      const auto run = store.listRuns().at(0);
      QCOMPARE(QString::fromStdString(run.status), QString("interrupted"));
      const std::vector<double> kept = losses(store, run.id);
      QVERIFY(kept.size() <= expected.size());
      for (size_t i = 0; i < kept.size(); ++i) QVERIFY2(kept[i] == expected[i], qPrintable(what + ": a committed loss differs"));
      for (const auto& c : store.checkpoints(run.id)) QCOMPARE(fileHash(QString::fromStdString(c.path)), c.sha256);

      Trainer resumer(db.toStdString(), quiet);
      const TrainResult r = resumer.resume(run.id);
      QVERIFY2(r.status == "finished", qPrintable(what + ": resume ended " + QString::fromStdString(r.status + " " + r.message)));
      const std::vector<double> after = losses(RunStore(db.toStdString(), true), run.id);
      QCOMPARE(after.size(), expected.size());
      for (size_t i = 0; i < after.size(); ++i)
        QVERIFY2(std::abs(after[i] - expected[i]) <= 1e-6 * std::max(1.0, std::abs(expected[i])),
                 qPrintable(QString("%1: step %2 resumed to %3, uninterrupted %4").arg(what).arg(i + 1).arg(after[i]).arg(expected[i])));
    }
  }

  // A checkpoint damaged on disk is detected by its hash; resume falls back to the one before it.
  void aCorruptCheckpointIsSkippedOnResume() {
    const std::string db = m_dir.filePath("corrupt-checkpoint.db").toStdString();
    struct StopAt : TrainingObserver {
      Trainer* t = nullptr;
      void onProgress(const Progress& p) override { if (p.step >= 10 && t) t->cancel(); }
    } stopper;
    Trainer partial(db, stopper);
    stopper.t = &partial;
    const TrainResult b = partial.run(tinyConfig(16));
    QCOMPARE(QString::fromStdString(b.status), QString("cancelled"));
    RunStore store(db, true);
    auto cps = store.checkpoints(b.runId);
    QVERIFY(cps.size() >= 2);
    {
      std::fstream f(cps.back().path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(100);
      f.write("garbage!", 8);
    }
    TrainingObserver quiet;
    Trainer again(db, quiet);
    const TrainResult c = again.resume(b.runId);
    QCOMPARE(QString::fromStdString(c.status), QString("finished"));
  }

  // Databases that are not what they claim: each gives a StoreError naming the file, and the file is unchanged.
  void damagedDatabasesAreReportedAndLeftAlone() {
    const QString good = m_dir.filePath("good.db");
    {
      TrainingObserver quiet;
      Trainer t(good.toStdString(), quiet);
      t.run(tinyConfig(4));
    }
    QFile src(good);
    QVERIFY(src.open(QIODevice::ReadOnly));
    const QByteArray bytes = src.readAll();
    auto variant = [&](const QString& name, const QByteArray& content) {
      const QString p = m_dir.filePath(name);
      QFile f(p);
      f.open(QIODevice::WriteOnly);
      f.write(content);
      return p;
    };
    QByteArray flipped = bytes;
    for (int i = 4096; i < flipped.size() && i < 4096 + 2048; ++i) flipped[i] = char(flipped[i] ^ 0x5a);
    const QStringList damaged{variant("truncated.db", bytes.left(bytes.size() / 3)), variant("garbage.db", QByteArray(9000, 'x')),
                              variant("png.db", QByteArray("\x89PNG\r\n\x1a\n") + QByteArray(5000, '\0')),
                              variant("flipped.db", flipped)};
    for (const QString& p : damaged) {
      const std::string before = fileHash(p);
      bool reported = false;
      try {
        RunStore s(p.toStdString());
        for (const auto& r : s.listRuns()) s.metrics(r.id, "train/loss");
        reported = s.integrityCheck() != "ok";
      } catch (const StoreError& e) {
        reported = QString(e.what()).contains(p);
      }
      QVERIFY2(reported, qPrintable(p + ": damage not reported"));
      QVERIFY2(fileHash(p) == before, qPrintable(p + ": opening it modified the file"));
    }
    // A newer schema is refused with a message, and the file is left as it was.
    const QString newer = variant("newer.db", bytes);
    {
      sqlite3* h = nullptr;
      sqlite3_open(newer.toUtf8().constData(), &h);
      sqlite3_exec(h, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", nullptr, nullptr, nullptr);
      sqlite3_close(h);
    }
    const std::string before = fileHash(newer);
    try {
      RunStore s(newer.toStdString());
      QFAIL("a newer schema must be refused");
    } catch (const StoreError& e) {
      QVERIFY2(QString(e.what()).contains("newer"), e.what());
    }
    QCOMPARE(fileHash(newer), before);
  }

  // Two training processes and a polling reader (what the workbench does) on one database: no error, no
  // "database is locked", every step of both runs stored.
  void twoWritersAndAReaderShareADatabase() {
    const QString db = m_dir.filePath("shared.db");
    { RunStore create(db.toStdString()); }
    json a = tinyConfig(300), b = tinyConfig(300);
    b["seed"] = 12;
    a["eval"]["every"] = 50;
    b["eval"]["every"] = 50;
    const QString ca = writeJson(m_dir.filePath("a.json"), a), cb = writeJson(m_dir.filePath("b.json"), b);
    QProcess pa, pb;
    pa.start(CONTINUA_CLI_PATH, {"run", ca, "--db", db});
    pb.start(CONTINUA_CLI_PATH, {"run", cb, "--db", db});
    std::atomic<bool> done{false};
    std::atomic<int> errors{0}, reads{0};
    std::string firstError;
    std::thread reader([&] {
      RunStore r(db.toStdString(), true);
      while (!done) {
        try {
          for (const auto& run : r.listRuns()) {
            r.metrics(run.id, "train/loss");
            r.curves(run.id);
          }
          ++reads;
        } catch (const std::exception& e) {
          if (errors++ == 0) firstError = e.what();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    QVERIFY(pa.waitForFinished(600000));
    QVERIFY(pb.waitForFinished(600000));
    done = true;
    reader.join();
    const QString logs = pa.readAllStandardError() + pb.readAllStandardError();
    QVERIFY2(!logs.contains("locked"), qPrintable(logs));
    QCOMPARE(pa.exitCode(), 0);
    QCOMPARE(pb.exitCode(), 0);
    QVERIFY2(errors == 0, firstError.c_str());
    QVERIFY(reads > 20);
    RunStore s(db.toStdString(), true);
    for (const auto& run : s.listRuns()) {
      QCOMPARE(QString::fromStdString(run.status), QString("finished"));
      QCOMPARE(losses(s, run.id).size(), size_t(300));
    }
    qInfo("reader polls while two runs trained: %d", reads.load());
  }

  // At least 200 malformed or hostile experiment files, generated from the schema: wrong types, values just out
  // of range, nulls, wrong structure, nesting, sizes, encodings, bad paths and every cross-field rule. Each must
  // exit 2 quickly with a message and leave no run behind; none may crash, hang or be killed.
  void hostileExperimentFilesAreRefused() {
    std::vector<std::pair<std::string, std::string>> corpus;  // (what, file contents)
    auto add = [&](const std::string& what, const json& j) { corpus.push_back({what, j.dump()}); };
    auto withField = [](const std::string& path, const json& value) {
      json j = json::object();
      setPath(j, path, value);
      return j;
    };
    // Per field: null, a value of the wrong type, and one just outside its range or choices (alternating sides).
    int side = 0;
    for (const FieldSpec& f : experimentSchema()) {
      add(f.path + " = null", withField(f.path, nullptr));
      const bool low = side++ % 2 == 0;
      switch (f.type) {
        case FieldType::Int:
          add(f.path + " = string", withField(f.path, "12"));
          if (f.min < f.max) add(f.path + " out of range", withField(f.path, low ? int64_t(f.min) - 1 : int64_t(f.max) + 1));
          else add(f.path + " = 1.5", withField(f.path, 1.5));
          break;
        case FieldType::Double:
          add(f.path + " = string", withField(f.path, "0.5"));
          if (f.min < f.max) add(f.path + " out of range", withField(f.path, low ? f.min - 1.0 : f.max * 10 + 1));
          break;
        case FieldType::Bool: add(f.path + " = 1", withField(f.path, 1)); break;
        case FieldType::String: add(f.path + " = number", withField(f.path, 5)); break;
        case FieldType::Choice:
          add(f.path + " = unknown choice", withField(f.path, "no-such-choice"));
          add(f.path + " = object", withField(f.path, json{{"x", 1}}));
          break;
        case FieldType::IntList:
        case FieldType::DoubleList:
          add(f.path + " = string", withField(f.path, "1,2"));
          add(f.path + (low ? " = negative" : " = nested"), withField(f.path, low ? json::array({-3}) : json::array({json::array({1})})));
          break;
      }
    }
    const std::string dir = m_dir.path().toStdString();
    const std::vector<std::pair<std::string, json>> cross{
        {"heads do not divide d_model", {{"model", {{"family", "transformer"}, {"d_model", 30}, {"heads", 8}}}}},
        {"top_k > experts", {{"model", {{"family", "mamba-moe"}, {"experts", 2}, {"top_k", 3}}}}},
        {"parity sparsity > dims", {{"task", {{"family", "icl"}, {"icl_task", "sparse_parity"}}}, {"icl", {{"n_dims", 4}, {"sparsity", 9}}}}},
        {"dt_min > dt_max", {{"model", {{"dt_min", 0.5}, {"dt_max", 0.1}}}}},
        {"odd FAVOR features", {{"model", {{"family", "performer"}, {"favor_features", 7}}}}},
        {"label vocab too small", {{"task", {{"label_vocab", 3}}}, {"episode", {{"tasks", 10}}}}},
        {"lambda on linear regression", {{"task", {{"family", "icl"}}}, {"selectivity", {{"lambda", 1.0}}}}},
        {"synthetic shift of files", {{"data", {{"kind", "features"}, {"path", dir + "/f.npy"}}}, {"eval", {{"domain_shift", "synthetic-shifted"}}}}},
        {"shift without a file", {{"eval", {{"domain_shift", "features"}}}}},
        {"shift of sine", {{"task", {{"target", "sine"}}}, {"eval", {{"domain_shift", "synthetic-shifted"}}}}},
        {"features without a path", {{"data", {{"kind", "features"}}}}},
        {"features from a missing file", {{"data", {{"kind", "features"}, {"path", "/nonexistent/f.csv"}}}}},
        {"features from a directory", {{"data", {{"kind", "features"}, {"path", dir}}}}},
        {"features from /dev/zero", {{"data", {{"kind", "features"}, {"path", "/dev/zero"}, {"labels_path", "/dev/zero"}}}}},
        {"cifar from a missing folder", {{"data", {{"kind", "cifar100"}, {"path", "/nonexistent"}}}}},
        {"images from a file", {{"data", {{"kind", "image-folder"}, {"path", "/etc/hostname"}}}}},
        {"episode larger than the classes", {{"data", {{"classes", 10}}}, {"episode", {{"tasks", 20}}}}},
        {"a prompt that cannot fit", {{"task", {{"family", "icl"}}}, {"icl", {{"n_dims", 4096}, {"n_points", 100000}}}, {"optim", {{"batch_size", 65536}}}}},
        {"an episode that cannot fit", {{"episode", {{"tasks", 2000}, {"shots", 2000}}}, {"optim", {{"batch_size", 60000}}}, {"data", {{"classes", 1000000}}}}},
        {"cuda without a GPU", {{"device", "cuda"}}},
        {"unknown keys", {{"modle", {{"family", "mamba"}}}}},
        {"ten thousand unknown keys", [] { json j; for (int i = 0; i < 10000; ++i) j["k" + std::to_string(i)] = i; return j; }()},
        {"group as a list", {{"model", json::array({1, 2})}}},
        {"group as null", {{"optim", nullptr}}},
    };
    for (const auto& [what, j] : cross) add(what, j);
    std::string deepArrays(200000, '['), deepObjects;
    for (int i = 0; i < 100000; ++i) deepObjects += "{\"a\":";
    corpus.push_back({"200,000 nested arrays", deepArrays});
    corpus.push_back({"100,000 nested objects", deepObjects});
    corpus.push_back({"empty file", ""});
    corpus.push_back({"top-level array", "[1, 2, 3]"});
    corpus.push_back({"top-level number", "42"});
    corpus.push_back({"truncated JSON", "{\"model\": {\"family\": \"mam"});
    corpus.push_back({"invalid UTF-8 in a string", "{\"name\": \"\xff\xfe\xfa\"}"});
    corpus.push_back({"byte-order mark and garbage", "\xef\xbb\xbf{,}"});
    corpus.push_back({"NUL bytes", std::string("{\"name\"\0: 1}", 12)});
    corpus.push_back({"5 MB of spaces", std::string(5u << 20, ' ')});
    corpus.push_back({"a 1 MB name and a bad field", json{{"name", std::string(1u << 20, 'x')}, {"seed", -1}}.dump()});
    corpus.push_back({"binary noise", [] { std::string b; for (int i = 0; i < 4096; ++i) b += char((i * 131 + 7) % 256); return b; }()});
    QVERIFY2(corpus.size() >= 200, qPrintable(QString("only %1 files").arg(corpus.size())));

    const QString db = m_dir.filePath("hostile.db");
    double slowest = 0;
    std::string slowestWhat;
    for (size_t i = 0; i < corpus.size(); i += 2) {  // two at a time: the time goes into loading LibTorch
      struct Case { size_t index; QProcess cli; QElapsedTimer clock; };
      std::vector<std::unique_ptr<Case>> pair;
      for (size_t k = i; k < std::min(corpus.size(), i + 2); ++k) {
        const QString file = m_dir.filePath(QString("hostile-%1.json").arg(k));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(corpus[k].second.data(), qint64(corpus[k].second.size()));
        f.close();
        auto c = std::make_unique<Case>();
        c->index = k;
        c->clock.start();
        c->cli.start(CONTINUA_CLI_PATH, {"run", file, "--db", db});
        pair.push_back(std::move(c));
      }
      for (auto& c : pair) {
        const QString what = QString::fromStdString(corpus[c->index].first);
        QVERIFY2(c->cli.waitForFinished(30000), qPrintable(what + ": did not finish within 30 s"));
        const double seconds = c->clock.elapsed() / 1000.0;
        if (seconds > slowest) { slowest = seconds; slowestWhat = corpus[c->index].first; }
        const QString err = c->cli.readAllStandardError();
        QVERIFY2(c->cli.exitStatus() == QProcess::NormalExit, qPrintable(what + ": crashed"));
        QVERIFY2(c->cli.exitCode() == 2, qPrintable(QString("%1: exit %2: %3").arg(what).arg(c->cli.exitCode()).arg(err)));
        QVERIFY2(!err.trimmed().isEmpty() && !err.contains("frame #"), qPrintable(what + ": " + err));
        QVERIFY2(seconds < 5.0, qPrintable(QString("%1: took %2 s").arg(what).arg(seconds)));
      }
    }
    if (QFile::exists(db)) QCOMPARE(RunStore(db.toStdString(), true).listRuns().size(), size_t(0));
    qInfo("%zu hostile files refused with exit 2; slowest %.2f s (%s)", corpus.size(), slowest, slowestWhat.c_str());
  }

  // What cannot run is refused before a run record exists.
  void impossibleExperimentsAreRefusedBeforeARunExists() {
    const std::string db = m_dir.filePath("refused.db").toStdString();
    TrainingObserver quiet;
    Trainer t(db, quiet);
    json huge = {{"task", {{"family", "icl"}}}, {"icl", {{"n_dims", 4096}, {"n_points", 100000}}}, {"optim", {{"batch_size", 65536}}}};
    json cuda = tinyConfig(4);
    cuda["device"] = "cuda";
    for (const json& j : {huge, cuda}) {
      try {
        t.run(j);
        QFAIL("expected a ConfigError");
      } catch (const ConfigError& e) {
        const QString m = e.what();
        QVERIFY2(m.contains("GiB") || m.contains("cuda"), e.what());
      }
    }
    QCOMPARE(RunStore(db, true).listRuns().size(), size_t(0));
  }
};

QTEST_GUILESS_MAIN(TestReliability)
#include "test_reliability.moc"

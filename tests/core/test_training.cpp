// The engine end to end: resuming a cancelled run reproduces the uninterrupted losses exactly; a run killed
// with SIGKILL leaves a sound database, shows as interrupted, and resumes to the same final metrics; a
// reader polling during training never errs; and learning actually happens.
#include "core/store/run_groups.h"
#include "core/store/run_store.h"
#include "core/train/task_runner.h"
#include "core/train/thread_choice.h"
#include "core/train/trainer.h"

#include "tiny_experiment.h"

#include <QtTest>

#include <csignal>
#include <memory>
#include <thread>

using namespace continua::core;
using nlohmann::json;

namespace {

json tinyConfig(int steps) { return continua::test::tinyExperiment(steps, 7); }

// One step of the quick-start's model on 20-task episodes, `threads` 0: ~1.7 GFLOP per forward step, far past
// the size from which a run takes every CPU it may use (core/train/thread_choice.h).
json largeConfig() {
  json c = tinyConfig(1);
  c["threads"] = 0;
  c["model"] = {{"family", "mamba"}, {"d_model", 64}, {"layers", 2}, {"d_state", 16}};
  c["episode"] = {{"tasks", 20}, {"shots", 5}, {"test_shots", 2}};
  c["optim"]["batch_size"] = 16;
  return c;
}

// Cancels the run once it reaches a given step.
struct CancelAt : TrainingObserver {
  Trainer* trainer = nullptr;
  int64_t step = 0;
  void onProgress(const Progress& p) override {
    if (p.step >= step && trainer) trainer->cancel();
  }
};

std::vector<double> losses(const RunStore& s, int64_t id) {
  std::vector<double> v;
  for (const auto& p : s.metrics(id, "train/loss")) v.push_back(p.value);
  return v;
}

// Two (or more) `continua-cli run --distributed` processes on loopback, rank i with args[i].
struct Ranks {
  std::vector<std::unique_ptr<QProcess>> processes;
  Ranks(const std::vector<QStringList>& args, int port) {
    for (size_t r = 0; r < args.size(); ++r) {
      auto p = std::make_unique<QProcess>();
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert("MASTER_ADDR", "127.0.0.1");
      env.insert("MASTER_PORT", QString::number(port));
      env.insert("WORLD_SIZE", QString::number(args.size()));
      env.insert("RANK", QString::number(r));
      p->setProcessEnvironment(env);
      p->setProcessChannelMode(QProcess::MergedChannels);
      p->start(CONTINUA_CLI_PATH, args[r]);
      processes.push_back(std::move(p));
    }
  }
};

int loopbackPort() { return 20000 + int(::getpid() % 20000); }

void writeJsonFile(const QString& path, const json& j) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(QByteArray::fromStdString(j.dump()));
}

// The step the first run in `db` has reached once it is at least `target`, or what it reached in two minutes.
int64_t waitForStep(const QString& db, int64_t target) {
  QElapsedTimer timer;
  timer.start();
  int64_t step = 0;
  while (timer.elapsed() < 120000 && step < target) {
    QThread::msleep(50);
    try {
      RunStore r(db.toStdString(), true);
      auto runs = r.listRuns();
      if (!runs.empty()) step = runs[0].step;
    } catch (...) {  // the file may not exist yet
    }
  }
  return step;
}

// The trained weights in a checkpoint file, loaded into a fresh model of the experiment.
std::vector<torch::Tensor> checkpointWeights(const json& experiment, const std::string& path) {
  auto runner = makeTaskRunner(prepareExperiment(experiment), torch::kCPU);
  torch::serialize::InputArchive archive, model;
  archive.load_from(path);
  archive.read("model", model);
  runner->module().load(model);
  return runner->module().parameters();
}

}  // namespace

class TestTraining : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

  // `sweep run --workers 2` of `base` over `grid` and seeds 0 and 1 into `db`; returns what it printed.
  QString runSweep(const std::string& name, const json& base, const json& grid, const QString& db) {
    const QString file = m_dir.filePath(QString::fromStdString(name) + ".json");
    writeJsonFile(m_dir.filePath(QString::fromStdString(name) + "-base.json"), base);
    writeJsonFile(file, {{"name", name}, {"experiment", name + "-base.json"}, {"grid", grid}, {"seeds", {0, 1}}});  // relative to the sweep file
    QProcess child;
    child.start(CONTINUA_CLI_PATH, {"sweep", "run", file, "--workers", "2", "--db", db});
    if (!child.waitForFinished(300000)) return "timed out";
    const QString out = child.readAllStandardOutput();
    if (child.exitCode() != 0) return "failed: " + out + child.readAllStandardError();
    return out;
  }

  // The thread count the run with this configuration recorded in its environment.
  int recordedThreads(const json& config, const QString& db) {
    TrainingObserver quiet;
    Trainer trainer(db.toStdString(), quiet);
    const TrainResult r = trainer.run(config);
    return RunStore(db.toStdString(), true).getRun(r.runId)->environment["threads"].get<int>();
  }

 private slots:
  // A run records the thread count it trained with: `threads` as given, and for 0 the count chosen by the step's
  // size (core/train/thread_choice.h). Before the choice, the environment was read before the count was applied.
  void environmentRecordsTheThreadsTheRunUsed() {
    json given = tinyConfig(1);
    given["threads"] = 2;
    QCOMPARE(recordedThreads(given, m_dir.filePath("threads-given.db")), 2);
    json small = tinyConfig(1);
    small["threads"] = 0;
    QCOMPARE(recordedThreads(small, m_dir.filePath("threads-small.db")), 1);
    QCOMPARE(recordedThreads(largeConfig(), m_dir.filePath("threads-large.db")), usableCpus());
  }

  void resumeReproducesTheUninterruptedRun() {
    const std::string db = m_dir.filePath("resume.db").toStdString();
    TrainingObserver quiet;
    Trainer full(db, quiet);
    TrainResult a = full.run(tinyConfig(14));
    QCOMPARE(QString::fromStdString(a.status), QString("finished"));

    CancelAt stopper;
    Trainer partial(db, stopper);
    stopper.trainer = &partial;
    stopper.step = 7;
    TrainResult b = partial.run(tinyConfig(14));
    QCOMPARE(QString::fromStdString(b.status), QString("cancelled"));
    RunStore store(db, true);
    QCOMPARE(store.checkpoints(b.runId).back().step, int64_t(7));  // cancel keeps a checkpoint of where it stopped

    Trainer again(db, quiet);
    TrainResult c = again.resume(b.runId);
    QCOMPARE(QString::fromStdString(c.status), QString("finished"));
    RunStore after(db, true);
    const auto la = losses(after, a.runId), lc = losses(after, b.runId);
    QCOMPARE(la.size(), lc.size());
    for (size_t i = 0; i < la.size(); ++i)
      QVERIFY2(std::abs(la[i] - lc[i]) <= 1e-6 * std::max(1.0, std::abs(la[i])),
               qPrintable(QString("step %1: %2 vs %3").arg(i + 1).arg(la[i]).arg(lc[i])));
    QCOMPARE(after.getRun(a.runId)->latestValue("test/accuracy"), after.getRun(b.runId)->latestValue("test/accuracy"));
  }

  void survivesSigkillAndResumes() {
    const QString db = m_dir.filePath("kill.db");
    const QString cfg = m_dir.filePath("kill.json");
    json config = tinyConfig(60);
    QFile f(cfg);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray::fromStdString(config.dump()));
    f.close();
    QProcess child;
    child.start(CONTINUA_CLI_PATH, {"run", cfg, "--db", db});
    QVERIFY(child.waitForStarted());
    // Wait for a checkpoint past the first, then kill -9 mid-training.
    QElapsedTimer timer;
    timer.start();
    int64_t checkpointed = 0;
    while (timer.elapsed() < 120000 && checkpointed < 8) {
      QThread::msleep(50);
      try {
        RunStore r(db.toStdString(), true);
        auto runs = r.listRuns();
        if (!runs.empty() && !r.checkpoints(runs[0].id).empty()) checkpointed = r.checkpoints(runs[0].id).back().step;
      } catch (...) {
      }
    }
    QVERIFY2(checkpointed >= 8, "the child never reached a checkpoint");
    ::kill(pid_t(child.processId()), SIGKILL);
    child.waitForFinished();

    RunStore store(db.toStdString());
    QCOMPARE(QString::fromStdString(store.integrityCheck()), QString("ok"));
    QCOMPARE(store.markInterruptedRuns(), 1);
    const int64_t id = store.listRuns()[0].id;
    QCOMPARE(QString::fromStdString(store.listRuns()[0].status), QString("interrupted"));

    TrainingObserver quiet;
    Trainer resumer(db.toStdString(), quiet);
    QCOMPARE(QString::fromStdString(resumer.resume(id).status), QString("finished"));
    Trainer reference(db.toStdString(), quiet);
    TrainResult ref = reference.run(config);
    RunStore after(db.toStdString(), true);
    QCOMPARE(after.getRun(id)->latestValue("test/accuracy"), after.getRun(ref.runId)->latestValue("test/accuracy"));
    QCOMPARE(after.getRun(id)->latestValue("test/loss"), after.getRun(ref.runId)->latestValue("test/loss"));
    QCOMPARE(losses(after, id).size(), size_t(60));
  }

  // `sweep run --workers 2`: every run of the sweep finished in the database under the sweep's name, grouped by
  // configuration; running it again starts nothing.
  void sweepRunsLocallyAndCompletesOnlyWhatIsLeft() {
    const QString db = m_dir.filePath("sweep.db");
    const json grid = {{"selectivity.lambda", {0, 1}}};
    QVERIFY2(runSweep("tiny-sweep", tinyConfig(6), grid, db).contains("4 of 4 runs to do"), "first pass");
    QVERIFY2(runSweep("tiny-sweep", tinyConfig(6), grid, db).contains("0 of 4 runs to do"), "second pass");
    RunStore store(db.toStdString(), true);
    RunFilter f2;
    f2.sweep = "tiny-sweep";
    const auto runs = store.listRuns(f2);
    QCOMPARE(int(runs.size()), 4);
    for (const auto& r : runs) QCOMPARE(QString::fromStdString(r.status), QString("finished"));
    QCOMPARE(int(groupRuns(store, f2, {"test/accuracy"}).size()), 2);
  }

  // Runs a sweep starts two at a time share the CPUs: with `threads` 0 and a step past the threshold, each takes
  // half of what one run alone would (core/train/thread_choice.h).
  void sweepRunsShareTheCpus() {
    const QString db = m_dir.filePath("sweep-threads.db");
    QVERIFY(runSweep("threads-sweep", largeConfig(), {{"selectivity.lambda", {0, 1}}}, db).contains("4 of 4 runs to do"));
    RunStore store(db.toStdString(), true);
    for (const auto& r : store.listRuns())
      QCOMPARE(store.getRun(r.id)->environment["threads"].get<int>(), std::max(1, usableCpus() / 2));
  }

  // Two Gloo ranks on loopback train a few hundred steps to the parameters of one process trained on the
  // combined batch (the same two shards per step), and rank 1 writes nothing.
  void twoGlooRanksEqualOneProcessOnTheCombinedBatch() {
    json cfg = tinyConfig(240);
    cfg["optim"]["shards"] = 2;
    const QString file = m_dir.filePath("ddp.json"), two = m_dir.filePath("ddp-2.db"), one = m_dir.filePath("ddp-1.db");
    writeJsonFile(file, cfg);
    Ranks ranks({{"run", file, "--distributed", "--db", two}, {"run", file, "--distributed", "--db", m_dir.filePath("rank1.db")}},
                loopbackPort());
    for (auto& p : ranks.processes) {
      QVERIFY(p->waitForFinished(300000));
      QVERIFY2(p->exitCode() == 0, p->readAll().constData());
    }
    QVERIFY(!QFile::exists(m_dir.filePath("rank1.db")));
    QProcess alone;
    alone.start(CONTINUA_CLI_PATH, {"run", file, "--db", one});
    QVERIFY(alone.waitForFinished(300000));
    QCOMPARE(alone.exitCode(), 0);
    RunStore a(two.toStdString(), true), b(one.toStdString(), true);
    const auto la = losses(a, 1), lb = losses(b, 1);
    QCOMPARE(la.size(), size_t(240));
    QCOMPARE(lb.size(), la.size());
    for (size_t i = 0; i < la.size(); ++i) QVERIFY2(std::abs(la[i] - lb[i]) <= 1e-4 * std::max(1.0, std::abs(lb[i])), qPrintable(QString("step %1").arg(i + 1)));
    const auto wa = checkpointWeights(cfg, a.checkpoints(1).back().path), wb = checkpointWeights(cfg, b.checkpoints(1).back().path);
    QCOMPARE(wa.size(), wb.size());
    for (size_t i = 0; i < wa.size(); ++i) QVERIFY(torch::allclose(wa[i], wb[i], 1e-4, 1e-5));
    QCOMPARE(a.getRun(1)->environment["ranks"].get<int>(), 2);
  }

  // A rank killed mid-run: rank 0 ends the run as interrupted within the timeout, with a checkpoint at the last
  // whole step and the database intact; one process then resumes it to the end (another number of ranks).
  void aKilledRankEndsTheRunInterruptedAndOneProcessResumesIt() {
    json cfg = tinyConfig(1200);
    cfg["optim"]["shards"] = 2;
    const QString file = m_dir.filePath("ddp-kill.json"), db = m_dir.filePath("ddp-kill.db");
    writeJsonFile(file, cfg);
    Ranks ranks({{"run", file, "--distributed", "--rank-timeout", "20", "--db", db},
                 {"run", file, "--distributed", "--rank-timeout", "20", "--db", m_dir.filePath("unused.db")}},
                loopbackPort() + 1);
    QVERIFY2(waitForStep(db, 20) >= 20, "the ranks never trained");
    ::kill(pid_t(ranks.processes[1]->processId()), SIGKILL);
    QVERIFY(ranks.processes[1]->waitForFinished(10000));
    QVERIFY2(ranks.processes[0]->waitForFinished(60000), "rank 0 did not end after its peer died");
    QCOMPARE(ranks.processes[0]->exitCode(), 1);
    {
      RunStore store(db.toStdString(), true);
      QCOMPARE(QString::fromStdString(store.integrityCheck()), QString("ok"));
      const auto run = store.listRuns()[0];
      QCOMPARE(QString::fromStdString(run.status), QString("interrupted"));
      QVERIFY2(QString::fromStdString(run.error).contains("resumable"), run.error.c_str());
      QCOMPARE(store.checkpoints(run.id).back().step, run.step);
      QVERIFY(run.step < 1200);
    }
    QProcess resume;
    resume.start(CONTINUA_CLI_PATH, {"resume", "1", "--db", db});
    QVERIFY(resume.waitForFinished(300000));
    QVERIFY2(resume.exitCode() == 0, resume.readAllStandardOutput().constData());
    RunStore store(db.toStdString(), true);
    QCOMPARE(QString::fromStdString(store.listRuns()[0].status), QString("finished"));
    QCOMPARE(losses(store, 1).size(), size_t(1200));
  }

  void ctrlCCancelsCleanly() {
    const QString db = m_dir.filePath("sigint.db"), cfg = m_dir.filePath("sigint.json");
    QFile f(cfg);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray::fromStdString(tinyConfig(100000).dump()));
    f.close();
    QProcess child;
    child.start(CONTINUA_CLI_PATH, {"run", cfg, "--db", db});
    QVERIFY(child.waitForStarted());
    QVERIFY2(waitForStep(db, 3) >= 3, "the child never started training");
    ::kill(pid_t(child.processId()), SIGINT);
    QVERIFY(child.waitForFinished(60000));
    QCOMPARE(child.exitCode(), 130);
    RunStore store(db.toStdString(), true);
    QCOMPARE(QString::fromStdString(store.integrityCheck()), QString("ok"));
    const auto run = store.listRuns()[0];
    QCOMPARE(QString::fromStdString(run.status), QString("cancelled"));
    QVERIFY(!store.checkpoints(run.id).empty());
    QCOMPARE(store.checkpoints(run.id).back().step, run.step);  // resumable from exactly where it stopped
  }

  void readerPollingNeverErrsNorStalls() {
    const std::string db = m_dir.filePath("poll.db").toStdString();
    { RunStore create(db); }
    std::atomic<bool> done{false};
    std::atomic<int> errors{0}, reads{0};
    std::thread reader([&] {
      RunStore r(db, true);
      while (!done) {
        try {
          for (const auto& run : r.listRuns()) {
            r.metrics(run.id, "train/loss");
            r.maps(run.id, 5);
          }
          ++reads;
        } catch (...) {
          ++errors;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    TrainingObserver quiet;
    Trainer t(db, quiet);
    QElapsedTimer timer;
    timer.start();
    // 200 steps: 20 took under 50 ms on a fast host, too short for ten polls 5 ms apart (the test failed there).
    TrainResult r = t.run(tinyConfig(200));
    done = true;
    reader.join();
    QCOMPARE(QString::fromStdString(r.status), QString("finished"));
    QCOMPARE(errors.load(), 0);
    QVERIFY2(reads.load() > 10, qPrintable(QString("%1 reads in %2 ms").arg(reads.load()).arg(timer.elapsed())));
  }

  void learningHappens() {
    // Transformer + selectivity regularisation on 5-task episodes: chance is 0.2.
    json c = tinyConfig(200);
    c["model"] = {{"family", "transformer"}, {"d_model", 64}, {"layers", 2}, {"heads", 4}};
    c["episode"] = {{"tasks", 5}, {"shots", 5}, {"test_shots", 2}};
    c["eval_episode"] = {{"tasks", 5}, {"shots", 5}};
    c["data"] = {{"classes", 1000}, {"dim", 32}, {"noise", 0.3}};
    c["task"] = {{"label_vocab", 10}};
    c["optim"] = {{"steps", 200}, {"batch_size", 16}, {"lr", 3e-3}};
    c["selectivity"] = {{"lambda", 1.0}};
    c["eval"]["every"] = 100;
    c["eval"]["episodes"] = 64;
    c["checkpoint"]["every"] = 100;
    const std::string db = m_dir.filePath("learn.db").toStdString();
    TrainingObserver quiet;
    Trainer t(db, quiet);
    TrainResult r = t.run(c);
    RunStore s(db, true);
    const double acc = s.getRun(r.runId)->latestValue("test/accuracy");
    QVERIFY2(acc > 0.5, qPrintable(QString("meta-test accuracy %1, chance 0.2").arg(acc)));
  }
};

QTEST_GUILESS_MAIN(TestTraining)
#include "test_training.moc"

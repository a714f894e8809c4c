// Experiment configuration: defaults validate, every problem is reported at once with its field, unknown
// keys get a did-you-mean, overrides parse by type, and every preset is valid as shipped.
#include "core/config/experiment_schema.h"
#include "core/config/sweep.h"
#include "core/train/distributed.h"
#include "core/train/thread_choice.h"
#include "core/train/trainer.h"
#include "core/util/errors.h"

#include <QtTest>

#include <map>

using namespace continua::core;
using nlohmann::json;

// Sets an environment variable for the scope, restoring its earlier value (or its absence) after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const QByteArray& value) : m_name(name), m_had(qEnvironmentVariableIsSet(name)), m_old(qgetenv(name)) {
    qputenv(name, value);
  }
  ~ScopedEnv() { m_had ? (void)qputenv(m_name, m_old) : (void)qunsetenv(m_name); }

 private:
  const char* m_name;
  bool m_had;
  QByteArray m_old;
};

class TestConfig : public QObject {
  Q_OBJECT
 private slots:
  // `threads` 0 chooses by the training step's size; a given count is kept whatever the size.
  void threadCountFollowsTheStepSize() {
    QCOMPARE(chooseThreadCount(3, 1e3, 8), 3);
    QCOMPARE(chooseThreadCount(1, 1e12, 8), 1);
    QCOMPARE(chooseThreadCount(0, kThreadedStepFlops / 2, 8), 1);
    QCOMPARE(chooseThreadCount(0, kThreadedStepFlops * 2, 8), 8);
    QCOMPARE(chooseThreadCount(0, kThreadedStepFlops * 2, 0), 1);
    // The quick-start's Mamba at batch 8: 2 tasks x (5 shots + 2 queries) past the threshold, 1 task below it.
    QVERIFY(trainingStepFlops(14, 160896, 8) > kThreadedStepFlops);
    QVERIFY(trainingStepFlops(7, 160896, 8) < kThreadedStepFlops);
  }

  // Runs started together share the CPUs: a local sweep's CONTINUA_CONCURRENT_RUNS, else LOCAL_WORLD_SIZE.
  void concurrentRunsShareTheCpus() {
    ScopedEnv noSweep("CONTINUA_CONCURRENT_RUNS", ""), noRanks("LOCAL_WORLD_SIZE", "");
    const int all = usableCpus();
    QVERIFY(all >= 1);
    {
      ScopedEnv two("CONTINUA_CONCURRENT_RUNS", "2");
      QCOMPARE(usableCpus(), std::max(1, all / 2));
    }
    {
      ScopedEnv many("CONTINUA_CONCURRENT_RUNS", "100000");
      QCOMPARE(usableCpus(), 1);
    }
    {
      ScopedEnv junk("CONTINUA_CONCURRENT_RUNS", "two");
      QCOMPARE(usableCpus(), all);
    }
    {
      ScopedEnv ranks("LOCAL_WORLD_SIZE", QByteArray::number(all));
      QCOMPARE(usableCpus(), 1);
      ScopedEnv sweep("CONTINUA_CONCURRENT_RUNS", "1");  // the sweep's count comes first
      QCOMPARE(usableCpus(), all);
    }
  }

  void defaultsAreValid() { QVERIFY(validateExperiment(defaultExperiment()).empty()); }

  void everyPresetIsValid() {
    for (const auto& name : presetNames()) {
      auto issues = validateExperiment(presetExperiment(name));
      QVERIFY2(issues.empty(), qPrintable(QString::fromStdString(name + ":\n" + formatIssues(issues))));
    }
  }

  // A comparison is only fair when its models share one recipe: presets named <group>-<model> (mambacl-*,
  // icl-<task>-*, icl-cpu-<task>-*) must agree on every field but the model and the name.
  void comparisonPresetsShareOneRecipe() {
    // Longest first, so mambacl-linear-transformer is a linear-transformer, not a transformer.
    const std::vector<std::string> models{"linear-transformer", "transformer", "mambaformer", "performer", "mamba", "moe"};
    std::map<std::string, std::vector<std::string>> groups;
    for (const auto& name : presetNames())
      for (const auto& m : models)
        if (name.size() > m.size() + 1 && name.compare(name.size() - m.size() - 1, std::string::npos, "-" + m) == 0) {
          groups[name.substr(0, name.size() - m.size() - 1)].push_back(name);
          break;
        }
    int compared = 0;
    for (const auto& [group, names] : groups) {
      if (names.size() < 2) continue;
      auto recipe = [](const std::string& preset) {
        json c = presetExperiment(preset);
        c.erase("model");
        c.erase("name");
        return c;
      };
      const json first = recipe(names[0]);
      for (size_t i = 1; i < names.size(); ++i) {
        const json diff = json::diff(first, recipe(names[i]));
        QVERIFY2(diff.empty(), qPrintable(QString::fromStdString(names[0] + " vs " + names[i] + ": " + diff.dump())));
        ++compared;
      }
    }
    QVERIFY(groups.count("mambacl") && groups["mambacl"].size() >= 5);
    QVERIFY(compared >= 13);  // mambacl's 5 models, icl-linear-regression's 2, icl-cpu's 9 tasks x 2
  }

  // Length generalisation must reach past the training episode: 2x, 5x and 10x its tasks and its shots.
  void mclPresetsSweepPastTheTrainingLength() {
    for (const auto& name : presetNames()) {
      const json c = presetExperiment(name);
      if (c["task"]["family"] != "mcl") continue;
      const int64_t tasks = c["episode"]["tasks"], shots = c["episode"]["shots"];
      auto has = [&](const char* list, int64_t v) {
        for (const auto& x : c["eval"][list])
          if (x.get<int64_t>() == v) return true;
        return false;
      };
      for (int64_t k : {2, 5, 10}) {
        QVERIFY2(has("length_tasks", k * tasks), qPrintable(QString::fromStdString(name + ": eval.length_tasks lacks " + std::to_string(k * tasks))));
        QVERIFY2(has("length_shots", k * shots), qPrintable(QString::fromStdString(name + ": eval.length_shots lacks " + std::to_string(k * shots))));
      }
    }
  }

  void reportsEveryProblemAtOnce() {
    json c = defaultExperiment();
    c["model"]["d_state"] = 0;
    c["optim"]["lr"] = "fast";
    c["model"]["family"] = "lstm";
    c["modle"] = json::object();
    c["seed"] = -1;
    auto issues = validateExperiment(c);
    QStringList paths;
    for (const auto& i : issues) paths << QString::fromStdString(i.path);
    QVERIFY(paths.contains("model.d_state"));
    QVERIFY(paths.contains("optim.lr"));
    QVERIFY(paths.contains("model.family"));
    QVERIFY(paths.contains("modle"));
    for (const auto& i : issues) {
      if (i.path == "model.d_state") QVERIFY2(QString::fromStdString(i.message).contains("1..256"), i.message.c_str());
      if (i.path == "model.d_state") QVERIFY2(QString::fromStdString(i.message).contains("got 0"), i.message.c_str());
      if (i.path == "model.family") QVERIFY(QString::fromStdString(i.message).contains("transformer"));
      if (i.path == "seed") QVERIFY2(QString::fromStdString(i.message).contains("0..2147483647"), i.message.c_str());  // not 2.14748e+09
    }
    QVERIFY(paths.contains("seed"));
  }

  void unknownKeysSuggestTheRightOne() {
    json c = defaultExperiment();
    c["model"]["dstate"] = 16;
    auto issues = validateExperiment(c);
    QCOMPARE(int(issues.size()), 1);
    QCOMPARE(QString::fromStdString(issues[0].path), QString("model.dstate"));
    QVERIFY2(QString::fromStdString(issues[0].message).contains("did you mean 'model.d_state'"), issues[0].message.c_str());
  }

  void crossFieldRules() {
    json c = defaultExperiment();
    c["model"]["family"] = "transformer";
    c["model"]["heads"] = 7;
    c["task"]["label_vocab"] = 5;
    auto issues = validateExperiment(c);
    QStringList paths;
    for (const auto& i : issues) paths << QString::fromStdString(i.path);
    QVERIFY(paths.contains("model.heads"));
    QVERIFY(paths.contains("task.label_vocab"));
  }

  void overridesParseByType() {
    json c = defaultExperiment();
    applyOverride(c, "model.d_state=32");
    applyOverride(c, "optim.lr=0.01");
    applyOverride(c, "model.favor_redraw=true");
    applyOverride(c, "eval.length_tasks=5,10,50");
    QCOMPARE(c["model"]["d_state"].get<int>(), 32);
    QCOMPARE(c["optim"]["lr"].get<double>(), 0.01);
    QVERIFY(c["model"]["favor_redraw"].get<bool>());
    QCOMPARE(c["eval"]["length_tasks"].dump(), std::string("[5,10,50]"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, applyOverride(c, "model.d_stat=3"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, applyOverride(c, "model.d_state=many"));
  }

  // Sweeps: grid × random draws × seeds, one name per configuration (so seeds group), draws reproducible, and
  // bad keys or values refused with the file and key named before anything runs.
  void sweepsExpandGridRandomAndSeeds() {
    const json spec = {{"name", "s"}, {"preset", "quickstart"}, {"set", {{"optim.steps", 50}}},
                       {"grid", {{"model.family", {"mamba", "transformer"}}, {"selectivity.lambda", {0, 1}}}},
                       {"random", {{"count", 2}, {"seed", 7}, {"params", {{"optim.lr", {{"log_uniform", {1e-4, 1e-2}}}},
                                                                          {"model.d_state", {{"choice", {8, 16}}}}}}}},
                       {"seeds", {0, 1, 2}}};
    const Sweep sweep = expandSweep(spec, ".", "test");
    QCOMPARE(sweep.points.size(), size_t(2 * 2 * 2 * 3));
    std::map<std::string, int> seedsPerName;
    for (const auto& p : sweep.points) {
      ++seedsPerName[p.name];
      QCOMPARE(p.experiment["sweep"].get<std::string>(), std::string("s"));
      QCOMPARE(p.experiment["seed"].get<int64_t>(), p.seed);
      QCOMPARE(p.experiment["optim"]["steps"].get<int>(), 50);
      const double lr = p.experiment["optim"]["lr"];
      QVERIFY(lr >= 1e-4 && lr <= 1e-2);
      QVERIFY(p.experiment["model"]["d_state"] == 8 || p.experiment["model"]["d_state"] == 16);
      QVERIFY(validateExperiment(p.experiment).empty());
    }
    QCOMPARE(seedsPerName.size(), size_t(8));
    for (const auto& [name, n] : seedsPerName) QVERIFY2(n == 3, name.c_str());
    QVERIFY(sweep.points.front().name.rfind("s model.family=mamba selectivity.lambda=0 ", 0) == 0);
    QCOMPARE(expandSweep(spec, ".", "test").points[5].experiment, sweep.points[5].experiment);  // same draws again

    auto refused = [&](json bad, const QString& fragment) {
      try {
        expandSweep(bad, ".", "sweep.json");
        QFAIL(qPrintable("accepted: " + QString::fromStdString(bad.dump())));
      } catch (const ConfigError& e) {
        QVERIFY2(QString(e.what()).contains(fragment), e.what());
      }
    };
    refused({{"grid", {{"model.family", {"mamba"}}}}}, "\"name\"");
    refused({{"name", "s"}, {"grid", {{"model.famly", {"mamba"}}}}}, "unknown experiment key \"model.famly\"");
    refused({{"name", "s"}, {"grid", {{"model.d_state", {0}}}}}, "model.d_state: must be 1..256");
    refused({{"name", "s"}, {"grid", {{"seed", {1, 2}}}}}, "use \"seeds\"");
    refused({{"name", "s"}, {"random", {{"count", 1}, {"params", {{"optim.lr", {{"normal", {0, 1}}}}}}}}}, "unknown distribution");
    refused({{"name", "s"}, {"seeds", {-1}}}, "\"seeds\"");
    refused({{"name", "s"}, {"grids", {}}}, "unknown field \"grids\"");
  }

  // --distributed's rendezvous: torchrun's variables first, else Slurm's, and a clear error without either.
  void rendezvousFromTorchrunOrSlurmVariables() {
    QCOMPARE(firstSlurmHost("gpu[03-05,9],cpu1"), std::string("gpu03"));
    QCOMPARE(firstSlurmHost("node7,node8"), std::string("node7"));
    QCOMPARE(firstSlurmHost("solo"), std::string("solo"));
    for (const char* v : {"MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_NODELIST"}) qunsetenv(v);
    QVERIFY_THROWS_EXCEPTION(ConfigError, rendezvousFromEnvironment());
    qputenv("SLURM_PROCID", "3");
    qputenv("SLURM_NTASKS", "4");
    qputenv("SLURM_NODELIST", "cn[10-11]");
    Rendezvous r = rendezvousFromEnvironment();
    QCOMPARE(r.rank, 3);
    QCOMPARE(r.worldSize, 4);
    QCOMPARE(r.masterAddress, std::string("cn10"));
    QCOMPARE(r.port, 29500);
    qputenv("MASTER_ADDR", "10.0.0.1");
    qputenv("MASTER_PORT", "1234");
    qputenv("RANK", "1");
    qputenv("WORLD_SIZE", "2");
    r = rendezvousFromEnvironment();
    QCOMPARE(r.source, std::string("environment"));
    QCOMPARE(r.masterAddress, std::string("10.0.0.1"));
    QCOMPARE(r.port, 1234);
    qputenv("RANK", "2");
    QVERIFY_THROWS_EXCEPTION(ConfigError, rendezvousFromEnvironment());
    for (const char* v : {"MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_NODELIST"}) qunsetenv(v);
  }

  // The workbench's sweep dialog: one line per key, commas inside brackets kept, seeds as lists or ranges.
  void sweepDialogTextParses() {
    const json grid = parseGridLines("# comment\nselectivity.lambda = 0, 0.5, 1\nmodel.family = mamba, transformer\n"
                                     "eval.length_tasks = [10, 20], [10, 50]\n");
    QCOMPARE(grid["selectivity.lambda"], json({0, 0.5, 1}));
    QCOMPARE(grid["model.family"], json({"mamba", "transformer"}));
    QCOMPARE(grid["eval.length_tasks"], json({{10, 20}, {10, 50}}));
    QCOMPARE(parseSeeds("0, 1, 2"), (std::vector<int64_t>{0, 1, 2}));
    QCOMPARE(parseSeeds("3-5, 9"), (std::vector<int64_t>{3, 4, 5, 9}));
    QVERIFY_THROWS_EXCEPTION(ConfigError, parseSeeds("x"));
    QVERIFY_THROWS_EXCEPTION(ConfigError, parseSeeds(""));
    try {
      parseGridLines("selectivity.lambda = 0\nmodel.famly = mamba");
      QFAIL("accepted");
    } catch (const ConfigError& e) {
      QVERIFY2(QString(e.what()).contains("line 2") && QString(e.what()).contains("model.famly"), e.what());
    }
    QVERIFY_THROWS_EXCEPTION(ConfigError, parseGridLines("selectivity.lambda 0 1"));
  }

  void prepareRejectsWithEveryIssue() {
    json c = {{"model", {{"d_model", -1}}}, {"optim", {{"steps", 0}}}};
    try {
      prepareExperiment(c);
      QFAIL("expected ConfigError");
    } catch (const ConfigError& e) {
      QVERIFY(QString(e.what()).contains("model.d_model"));
      QVERIFY(QString(e.what()).contains("optim.steps"));
    }
  }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "test_config.moc"

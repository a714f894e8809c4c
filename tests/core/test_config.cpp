// Experiment configuration: defaults validate, every problem is reported at once with its field, unknown
// keys get a did-you-mean, overrides parse by type, and every preset is valid as shipped.
#include "core/config/experiment_schema.h"
#include "core/train/trainer.h"
#include "core/util/errors.h"

#include <QtTest>

using namespace continua::core;
using nlohmann::json;

class TestConfig : public QObject {
  Q_OBJECT
 private slots:
  void defaultsAreValid() { QVERIFY(validateExperiment(defaultExperiment()).empty()); }

  void everyPresetIsValid() {
    for (const auto& name : presetNames()) {
      auto issues = validateExperiment(presetExperiment(name));
      QVERIFY2(issues.empty(), qPrintable(QString::fromStdString(name + ":\n" + formatIssues(issues))));
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

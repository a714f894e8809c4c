// Reports: the raster canvas (lines, bands, text, PNG), axis ticks, claims checked against run groups with
// every verdict, clear errors for bad claims files and unknown runs, and a whole report written from a real
// store whose numbers, figures and shading can be read back.
#include "core/report/chart.h"
#include "core/report/claims.h"
#include "core/report/report.h"
#include "core/util/errors.h"

#include <QImage>
#include <QtTest>

#include <fstream>

using namespace continua::core;
using nlohmann::json;

namespace {

// Runs named `name` with the given final accuracies, each with a learning curve, a length sweep and maps.
void addGroup(RunStore& store, const std::string& name, const std::vector<double>& accuracies, double parameters) {
  int seed = 0;
  for (double acc : accuracies) {
    const json config = {{"seed", seed++}, {"episode", {{"tasks", 10}, {"shots", 5}}}};
    const int64_t id = store.createRun(name, config, "mamba", "mcl/synthetic", {{"commit", "abc"}, {"threads", 1}}, 100);
    std::vector<MetricPoint> m;
    for (int step = 1; step <= 100; ++step) m.push_back({"train/loss", step, 1.0 + step, 2.0 / step});
    for (int step = 50; step <= 100; step += 50) m.push_back({"test/accuracy", step, 1.0 + step, acc * step / 100});
    m.push_back({"model/parameters", 0, 1.0, parameters});
    store.logMetrics(id, m);
    std::vector<CurvePoint> c;
    for (double tasks : {5.0, 10.0, 20.0, 100.0}) c.push_back({"length_tasks/accuracy", 100, tasks, acc * 10 / (10 + tasks)});
    store.addCurve(id, c);
    StoredMap model{100, 0, "block 0", "model", 2, 3, 0.5, {0.1f, 0.2f, 0.7f, 0.3f, 0.3f, 0.4f}, json::object()};
    StoredMap truth{100, 0, "block 0", "truth", 2, 3, 0, {0, 0, 1, 0, 1, 0}, json::object()};
    store.addMaps(id, {model, truth});
    store.setProgress(id, 100);
    store.setStatus(id, "finished");
  }
}

json claim(const std::string& check, const std::string& a, const std::string& b, json extra = json::object()) {
  json c = {{"paper", "P"}, {"claim", check + " " + a + " " + b}, {"check", check},
            {"a", {{"group", a}, {"quantity", "test/accuracy"}}}, {"b", {{"group", b}, {"quantity", "test/accuracy"}}}};
  c.update(extra);
  return c;
}

bool isWhite(QRgb p) { return qRed(p) == 255 && qGreen(p) == 255 && qBlue(p) == 255; }

}  // namespace

class TestReport : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  std::string path(const char* name) { return m_dir.filePath(name).toStdString(); }

 private slots:
  void canvasDrawsLinesBandsAndTextIntoAPng() {
    Canvas c(200, 100);
    c.line({10, 50}, {190, 50}, {255, 0, 0}, 3);
    c.fillPolygon({{10, 10}, {60, 10}, {60, 30}, {10, 30}}, {0, 0, 255}, 0.5);
    c.text(100, 95, "length ± 10×", 14, {0, 0, 0}, Align::Middle, Align::End);
    QCOMPARE(int(c.pixel(100, 50).r), 255);
    QCOMPARE(int(c.pixel(100, 50).g), 0);
    QVERIFY(std::abs(int(c.pixel(30, 20).b) - 255) <= 1 && std::abs(int(c.pixel(30, 20).r) - 128) <= 2);  // half-blended blue
    QCOMPARE(int(c.pixel(100, 40).g), 255);  // off the line: untouched
    c.savePng(path("canvas.png"));
    QImage img(QString::fromStdString(path("canvas.png")));
    QCOMPARE(img.size(), QSize(200, 100));
    int inked = 0;
    for (int y = 78; y < 100; ++y)
      for (int x = 40; x < 160; ++x) inked += !isWhite(img.pixel(x, y));
    QVERIFY2(inked > 60, "the text left no ink");
    QVERIFY_THROWS_EXCEPTION(StoreError, c.savePng(path("no-such-folder/x.png")));
  }

  void axisTicksAreRoundNumbers() {
    const auto linear = axisTicks(0.03, 0.97, false);
    QCOMPARE(linear.size(), size_t(4));
    QCOMPARE(linear.front(), 0.2);
    QCOMPARE(QString::fromStdString(tickText(linear[2])), QString("0.6"));
    QCOMPARE(QString::fromStdString(tickText(100000)), QString("100 k"));
    QCOMPARE(QString::fromStdString(tickText(2500000)), QString("2.5 M"));
    const auto decades = axisTicks(3, 4000, true);
    QCOMPARE(decades, (std::vector<double>{10, 100, 1000}));
    const auto fine = axisTicks(5, 100, true);
    QCOMPARE(fine, (std::vector<double>{5, 10, 20, 50, 100}));
  }

  void claimsGiveEveryVerdict() {
    RunStore store(path("claims.db"));
    addGroup(store, "mamba", {0.70, 0.72, 0.71}, 1000);
    addGroup(store, "transformer", {0.50, 0.60, 0.40}, 2000);
    addGroup(store, "lonely", {0.9}, 10);
    const json file = {{"claims", json::array({claim("greater", "mamba", "transformer"),
                                               claim("greater", "transformer", "mamba"),
                                               claim("greater", "mamba", "lonely"),
                                               claim("greater", "mamba", "performer"),
                                               claim("close", "mamba", "transformer", {{"tolerance", 0.25}}),
                                               claim("ratio-above", "transformer", "mamba", {{"value", 0.75}}),
                                               claim("steadier", "mamba", "transformer"),
                                               claim("below", "transformer", "", {{"value", 0.6}}),
                                               claim("all-above", "transformer", "", {{"value", 0.45}})})}};
    const auto results = evaluateClaims(file, store, store.listRuns());
    std::vector<std::string> verdicts;
    for (const auto& r : results) verdicts.push_back(r.verdict);
    QCOMPARE(verdicts, (std::vector<std::string>{"reproduced", "not reproduced", "too few seeds", "not run", "reproduced",
                                                 "not reproduced", "reproduced", "reproduced", "not reproduced"}));
    QCOMPARE(results[0].a.value.count, 3);
    QVERIFY(std::abs(results[0].a.value.mean - 0.71) < 1e-9);
    QVERIFY(std::abs(results[0].b.value.std - 0.1) < 1e-9);
    QVERIFY(QString::fromStdString(results[0].evidence).contains("0.710 ± 0.010 (3)"));
  }

  // A "curve@x" quantity: the point of each run's last sweep at x, read through a cache the report shares with
  // its figures or through the claims' own; both give the same value.
  void curveClaimsReadThePointAtX() {
    RunStore store(path("curve-claims.db"));
    addGroup(store, "mamba", {0.70, 0.72, 0.71}, 1000);
    addGroup(store, "transformer", {0.50, 0.60, 0.40}, 2000);
    json c = claim("greater", "mamba", "transformer");
    c["a"]["quantity"] = c["b"]["quantity"] = "length_tasks/accuracy@20";
    const json file = {{"claims", json::array({c})}};
    CurveCache shared(store);
    for (CurveCache* curves : {static_cast<CurveCache*>(nullptr), &shared}) {
      const auto results = evaluateClaims(file, store, store.listRuns(), curves);
      QCOMPARE(results[0].verdict, std::string("reproduced"));
      QVERIFY(std::abs(results[0].a.value.mean - 0.71 * 10 / 30) < 1e-9);
      QVERIFY(std::abs(results[0].b.value.mean - 0.50 * 10 / 30) < 1e-9);
    }
  }

  void badClaimsFilesNameTheClaimAndField() {
    auto expectError = [&](const std::string& text, const QString& fragment) {
      const std::string file = path("bad.json");
      std::ofstream(file) << text;
      try {
        loadClaimsFile(file);
        QFAIL("no error");
      } catch (const ConfigError& e) {
        QVERIFY2(QString(e.what()).contains(fragment), e.what());
      }
    };
    expectError("{", "not valid JSON");
    expectError(R"({"claims": 3})", "\"claims\" array");
    expectError(R"({"claims": [{"paper": "P", "claim": "c", "check": "bigger", "a": {"group": "g", "quantity": "q"}}]})",
                "claim 1: \"check\" must be one of");
    expectError(R"({"claims": [{"paper": "P", "claim": "c", "check": "greater", "a": {"group": "g", "quantity": "q"}}]})",
                "claim 1: \"b\" must be an object");
    expectError(R"({"claims": [{"paper": "P", "claim": "c", "check": "close", "a": {"group": "g", "quantity": "q"},
                                "b": {"group": "g", "quantity": "q"}}]})",
                "\"close\" needs \"tolerance\"");
    QVERIFY_THROWS_EXCEPTION(ConfigError, loadClaimsFile(path("missing.json")));
  }

  void reportHasTablesFiguresAndShading() {
    RunStore store(path("report.db"));
    addGroup(store, "mamba", {0.70, 0.72, 0.71}, 1000);
    addGroup(store, "transformer", {0.50, 0.60, 0.40}, 2000);
    const std::string claimsFile = path("claims.json");
    std::ofstream(claimsFile) << json{{"claims", json::array({claim("greater", "mamba", "transformer")})}}.dump();
    ReportOptions options;
    options.folder = path("out");
    options.claimsFile = claimsFile;
    const ReportSummary s = writeReport(store, {}, options);
    QCOMPARE(s.runs, 6);
    QCOMPARE(s.groups, 2);
    QCOMPARE(s.claims, 1);
    QCOMPARE(s.reproduced, 1);
    std::ifstream in(s.markdownPath);
    const QString md = QString::fromStdString(std::string(std::istreambuf_iterator<char>(in), {}));
    QVERIFY(md.contains("| mamba | mamba | mcl/synthetic | 3 | accuracy 0.710 ± 0.010 |"));
    QVERIFY(md.contains("| 1 k |"));  // parameters
    QVERIFY(md.contains("**reproduced**"));
    for (const char* figure : {"figures/mcl-synthetic-learning-accuracy.png", "figures/mcl-synthetic-train-loss.png",
                               "figures/mcl-synthetic-length-tasks-accuracy.png", "figures/mcl-synthetic-maps-mamba.png"}) {
      QVERIFY2(md.contains(figure), figure);
      QImage img(m_dir.filePath(QString("out/") + figure));
      QVERIFY2(!img.isNull(), figure);
    }
    // The length sweep runs to 100 tasks, trained at 10: the right of the plot is shaded, the left is not.
    QImage length(m_dir.filePath("out/figures/mcl-synthetic-length-tasks-accuracy.png"));
    QCOMPARE(length.size(), QSize(960, 520));
    QCOMPARE(QColor(length.pixel(640, 458)), QColor(255, 236, 200));
    QVERIFY(isWhite(length.pixel(150, 458)));
  }

  void unknownRunIsAnErrorBeforeAnythingIsWritten() {
    RunStore store(path("one.db"));
    addGroup(store, "mamba", {0.7}, 1);
    ReportOptions options;
    options.folder = path("never");
    try {
      writeReport(store, {1, 42}, options);
      QFAIL("no error");
    } catch (const ConfigError& e) {
      QVERIFY(QString(e.what()).contains("run 42 does not exist"));
    }
    QVERIFY(!QFileInfo::exists(m_dir.filePath("never")));
    options.sweep = "no-such-sweep";
    QVERIFY_THROWS_EXCEPTION(ConfigError, writeReport(store, {}, options));
  }
};

QTEST_GUILESS_MAIN(TestReport)
#include "test_report.moc"

// Generators and loaders: exact identities of the ICL tasks, MCL episode structure and splits,
// reproducibility, ground-truth maps, and file loaders on small generated files (good and broken).
#include "core/tasks/data_source.h"
#include "core/tasks/data_source_impl.h"
#include "core/tasks/icl/baselines.h"
#include "core/tasks/icl/decision_tree.h"
#include "core/tasks/icl/icl_task.h"
#include "core/tasks/mcl_episode.h"
#include "core/util/errors.h"
#include "core/config/experiment_schema.h"
#include "core/util/python_random.h"
#include "core/train/task_runner.h"
#include "core/train/trainer.h"

#include <QProcess>
#include <QtTest>

#include <clocale>
#include <fstream>

using namespace continua::core;
using torch::Tensor;

namespace {
torch::Generator gen(uint64_t seed) { return at::detail::createCPUGenerator(seed); }

void writeNpy(const std::string& path, const Tensor& t, const char* descr) {
  std::string shape = "(";
  for (int64_t s : t.sizes()) shape += std::to_string(s) + ",";
  shape += ")";
  std::string header = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  f << "\x93NUMPY" << char(1) << char(0) << char(header.size() & 0xff) << char(header.size() >> 8) << header;
  Tensor c = t.contiguous();
  f.write(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}
}  // namespace

class TestTasks : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private slots:
  void linearRegressionIsExact() {
    auto t = makeIclTask(IclTaskSpec{"linear_regression", 8, 12, 3});
    auto g = gen(1);
    IclPrompts p = t->sample(4, 12, 8, g);
    // y = x^T w: least squares on 12 > 8 points recovers w, so predictions are exact.
    Tensor w = std::get<0>(torch::linalg_lstsq(p.xs, p.ys.unsqueeze(-1)));
    QVERIFY((torch::bmm(p.xs, w).squeeze(-1) - p.ys).abs().max().item<double>() < 1e-4);
    QCOMPARE(p.tokens.sizes().vec(), (std::vector<int64_t>{4, 24, 8}));
    QVERIFY(torch::equal(p.tokens.index({torch::indexing::Slice(), 1, 0}), p.ys.select(1, 0)));  // y token = (y, 0, ..., 0)
    QCOMPARE(p.tokens.index({torch::indexing::Slice(), 1, torch::indexing::Slice(1)}).abs().sum().item<double>(), 0.0);
  }

  void sparseRegressionHasExactlyKNonZeros() {
    auto t = makeIclTask(IclTaskSpec{"sparse_linear_regression", 10, 30, 3});
    auto g = gen(2);
    IclPrompts p = t->sample(6, 30, 10, g);
    Tensor w = std::get<0>(torch::linalg_lstsq(p.xs, p.ys.unsqueeze(-1))).squeeze(-1);
    Tensor nonZero = w.abs().gt(1e-4).sum(-1);
    QVERIFY(torch::all(nonZero.eq(3)).item<bool>());
  }

  void parityIsTheProductOverTheSupport() {
    auto t = makeIclTask(IclTaskSpec{"sparse_parity", 10, 40, 2});
    auto g = gen(3);
    IclPrompts p = t->sample(8, 40, 10, g);
    QVERIFY(torch::all(p.xs.abs().eq(1)).item<bool>());
    // One support shared by the batch: find the pair that explains every label.
    int found = 0;
    for (int i = 0; i < 10; ++i)
      for (int j = i + 1; j < 10; ++j)
        if (torch::equal(p.xs.select(2, i) * p.xs.select(2, j), p.ys)) ++found;
    QCOMPARE(found, 1);
  }

  void decisionTreeByHand() {
    // Root splits on coordinate 0; every inner node below splits on coordinate 1; leaf values 15..30 = 0..15.
    Tensor split = torch::ones({1, 31}, torch::kLong);
    split[0][0] = 0;
    Tensor leaf = torch::zeros({1, 31});
    for (int j = 15; j < 31; ++j) leaf[0][j] = float(j - 15);
    Tensor xs = torch::tensor({{1.0f, 1.0f}, {1.0f, -1.0f}, {-1.0f, 1.0f}, {0.0f, 0.0f}}).unsqueeze(0);
    // x = (1, 1): nodes 0, 2, 6, 14, 30 -> 15.  (1, -1): 0, 2, 5, 11, 23 -> 8.
    // (-1, 1): 0, 1, 4, 10, 22 -> 7.  (0, 0): strict '>' sends zeros left: 0, 1, 3, 7, 15 -> 0.
    Tensor y = evaluateDecisionTree(xs, split, leaf);
    QCOMPARE(y[0][0].item<float>(), 15.0f);
    QCOMPARE(y[0][1].item<float>(), 8.0f);
    QCOMPARE(y[0][2].item<float>(), 7.0f);
    QCOMPARE(y[0][3].item<float>(), 0.0f);
  }

  void undefinedGroundTruthIsAClearError() {
    auto lr = makeIclTask(IclTaskSpec{"linear_regression", 5, 10, 3});
    auto g = gen(12);
    IclPrompts p = lr->sample(2, 10, 5, g);
    try {
      lr->groundTruth(p);
      QFAIL("expected ConfigError");
    } catch (const ConfigError& e) {
      QVERIFY2(QString(e.what()).contains("linear_regression"), e.what());
    }
    auto mqar = makeIclTask(IclTaskSpec{"mqar", 8, 6, 3});
    IclPrompts q = mqar->sample(2, 6, 8, g);
    QCOMPARE(mqar->groundTruth(q).size(1), int64_t(13));
  }

  void lassoAndTreeBaselines() {
    // Lasso recovers a sparse w from enough points; a depth-4 greedy tree fits a depth-1 step function exactly.
    auto g = gen(13);
    Tensor X = torch::randn({1, 60, 10}, g), w = torch::zeros({1, 10});
    w[0][2] = 2.0f;
    w[0][7] = -1.5f;
    Tensor y = torch::bmm(X, w.unsqueeze(-1)).squeeze(-1);
    Tensor fit = icl::lassoFit(X, y, 0.001).w;
    QVERIFY2((fit - w).abs().max().item<double>() < 0.05, qPrintable(QString("lasso error %1").arg((fit - w).abs().max().item<double>())));
    Tensor Xs = torch::randn({50, 3}, g);
    Tensor ys = torch::where(Xs.select(1, 1).gt(0), torch::full({50}, 2.0f), torch::full({50}, -1.0f));
    QCOMPARE(icl::greedyTreePredict(Xs, ys, torch::tensor({0.0f, 0.5f, 0.0f}), 4), 2.0);
    QCOMPARE(icl::greedyTreePredict(Xs, ys, torch::tensor({0.0f, -0.5f, 0.0f}), 4), -1.0);
  }

  void chainOfThoughtFollowsItsDefinition() {
    auto t = makeIclTask(IclTaskSpec{"chain_of_thought", 10, 7, 3, 4});
    auto g = gen(14);
    IclPrompts p = t->sample(3, 7, 10, g);
    QCOMPARE(p.tokens.sizes().vec(), (std::vector<int64_t>{3, 21, 10 + 4 + 1 + 3}));
    // y = v^T s with s = sqrt(2/k) ReLU(W^T x) >= 0; tokens carry x, s, y in their own segments.
    QVERIFY(torch::all(p.hidden.ge(0)).item<bool>());
    QVERIFY(torch::equal(p.tokens.index({torch::indexing::Slice(), 1, torch::indexing::Slice(10, 14)}), p.hidden.select(1, 0)));
    QVERIFY(torch::equal(p.tokens.index({torch::indexing::Slice(), 2, 14}), p.ys.select(1, 0)));
    QCOMPARE(p.tokens.index({torch::indexing::Slice(), 0, torch::indexing::Slice(10, 15)}).abs().sum().item<double>(), 0.0);
    // A prediction equal to the truth at the right positions has zero loss.
    Tensor perfect = torch::zeros({3, 21, 5});
    perfect.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 3), torch::indexing::Slice(0, 4)}, p.hidden);
    perfect.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 3), 4}, p.ys);
    QVERIFY(t->loss(perfect, p).item<double>() < 1e-10);
  }

  void curriculumFollowsTheReference() {
    auto lr = makeIclTask(IclTaskSpec{"linear_regression", 20, 41, 3});
    QVERIFY((lr->curriculum(0, true) == std::pair<int64_t, int64_t>{5, 11}));
    QVERIFY((lr->curriculum(2000, true) == std::pair<int64_t, int64_t>{6, 13}));
    QVERIFY((lr->curriculum(30000, true) == std::pair<int64_t, int64_t>{20, 41}));
    QVERIFY((lr->curriculum(0, false) == std::pair<int64_t, int64_t>{20, 41}));
  }

  void outliersAreExcludedFromScoring() {
    auto t = makeIclTask(IclTaskSpec{"many_outlier_regression", 20, 200, 3});
    auto g = gen(4);
    IclPrompts p = t->sample(4, 200, 20, g);
    const double clean = p.scored.to(torch::kFloat32).mean().item<double>();
    QVERIFY2(clean > 0.03 && clean < 0.2, qPrintable(QString("clean fraction %1, expected ~0.1").arg(clean)));
    Tensor outX = p.xs.index({~p.scored});
    QVERIFY(torch::all(outX.eq(1)).item<bool>());
  }

  void mqarTargetIsTheMatchingValue() {
    auto t = makeIclTask(IclTaskSpec{"mqar", 20, 16, 3});
    auto g = gen(5);
    IclPrompts p = t->sample(32, 16, 20, g);
    QCOMPARE(p.tokens.size(1), int64_t(33));
    auto base = t->baselines(p);
    QCOMPARE(QString::fromStdString(base[0].first), QString("exact lookup"));
    QVERIFY((base[0].second - p.ys).abs().max().item<double>() < 1e-5);
    QVERIFY((p.truth.sum(-1) - 1).abs().max().item<double>() < 1e-6);
  }

  void leastSquaresBaselineIsMinimumNorm() {
    auto t = makeIclTask(IclTaskSpec{"linear_regression", 8, 20, 3});
    auto g = gen(6);
    IclPrompts p = t->sample(16, 20, 8, g);
    auto base = t->baselines(p);
    Tensor err = (base[0].second - p.ys).pow(2).mean(0);
    QVERIFY(err[12].item<double>() < 1e-6);  // more points than dims: exact
    QVERIFY(err[3].item<double>() > 1e-2);   // fewer points: it cannot be
  }

  // Outlier prompts: every baseline must see only the clean earlier examples (the dummy rows once stayed in
  // the fit with y = 0, pulling least squares toward 1^T w = 0 in many-outlier regression).
  void outlierBaselinesFitOnlyCleanExamples() {
    auto t = makeIclTask(IclTaskSpec{"many_outlier_regression", 6, 60, 3});
    auto g = gen(21);
    IclPrompts p = t->sample(5, 60, 6, g);
    auto base = t->baselines(p);
    QCOMPARE(QString::fromStdString(base[0].first), QString("least squares"));
    for (int64_t b = 0; b < 5; ++b)
      for (int64_t i : {10, 30, 59}) {
        Tensor rows = p.scored[b].slice(0, 0, i).nonzero().squeeze(-1);
        Tensor X = p.xs[b].index_select(0, rows), Y = p.ys[b].index_select(0, rows);
        const double ls = rows.numel() == 0 ? 0.0 : (torch::matmul(torch::linalg_pinv(X), Y) * p.xs[b][i]).sum().item<double>();
        const double avg = rows.numel() == 0 ? 0.0 : ((X * Y.unsqueeze(-1)).mean(0) * p.xs[b][i]).sum().item<double>();
        QVERIFY2(std::abs(base[0].second[b][i].item<double>() - ls) < 1e-3 * (1 + std::abs(ls)),
                 qPrintable(QString("prompt %1 position %2: least squares %3, on the clean rows %4").arg(b).arg(i)
                                .arg(base[0].second[b][i].item<double>()).arg(ls)));
        QVERIFY(std::abs(base[1].second[b][i].item<double>() - avg) < 1e-4 * (1 + std::abs(avg)));
        // The nearest neighbours are clean examples: their mean is a mean of clean ys.
        if (rows.numel() >= 3) {
          Tensor dist = (X - p.xs[b][i]).norm(2, -1);
          const double knn = Y.index_select(0, std::get<1>(dist.topk(3, -1, false))).mean().item<double>();
          QVERIFY(std::abs(base[2].second[b][i].item<double>() - knn) < 1e-4);
        }
      }
  }

  // Lasso on an orthogonal design (X^T X / n = I) has a closed form: w = soft_threshold(X^T y / n, alpha).
  void lassoMatchesTheClosedForm() {
    auto g = gen(22);
    const int64_t n = 40, d = 8;
    Tensor q = std::get<0>(torch::linalg_qr(torch::randn({n, d}, g)));  // orthonormal columns
    Tensor X = (q * std::sqrt(double(n))).unsqueeze(0);                 // X^T X / n = I
    Tensor y = torch::randn({1, n}, g);
    const double alpha = 0.3;
    Tensor c = torch::matmul(X.transpose(1, 2), y.unsqueeze(-1)).squeeze(-1) / double(n);
    Tensor exact = torch::sign(c) * torch::relu(c.abs() - alpha);
    auto fit = icl::lassoFit(X, y, alpha);
    QVERIFY(fit.converged);
    QVERIFY2((fit.w - exact).abs().max().item<double>() < 1e-5, qPrintable(QString("lasso off the closed form by %1")
                                                                               .arg((fit.w - exact).abs().max().item<double>())));
    // A badly conditioned design still converges (the step is 1/L with L the largest eigenvalue, not the trace).
    Tensor skew = torch::randn({1, 30, 10}, g) * torch::logspace(0, 1, 10).view({1, 1, 10});
    auto hard = icl::lassoFit(skew, torch::randn({1, 30}, g), 0.01);
    QVERIFY2(hard.converged, qPrintable(QString("not converged after %1 iterations").arg(hard.iterations)));
  }

  // MQAR's match error compares through the keys, as the reference's Retrieval.classify.
  void mqarMatchErrorComparesThroughTheKeys() {
    auto t = makeIclTask(IclTaskSpec{"mqar", 8, 6, 3});
    auto g = gen(23);
    IclPrompts p = t->sample(16, 6, 8, g);
    auto exact = t->extraMetrics(p, p.ys, {});
    QCOMPARE(QString::fromStdString(exact.at(0).name), QString("match_error"));
    QCOMPARE(exact[0].perPrompt.sum().item<double>(), 0.0);
    // Predict the value of a key that is not the best match: every prompt counts as a miss.
    Tensor best = torch::bmm(p.xs, p.ys.unsqueeze(-1)).squeeze(-1).argmax(-1);
    Tensor other = p.xs.index({torch::arange(16), (best + 1).remainder(6)});
    QCOMPARE(t->extraMetrics(p, other, {})[0].perPrompt.sum().item<double>(), 16.0);
  }

  // Chain of thought evaluated autoregressively: the model's own s goes into the prompt before y is read.
  void chainOfThoughtAutoregressiveUsesThePredictedStep() {
    auto t = makeIclTask(IclTaskSpec{"chain_of_thought", 4, 5, 3, 2});
    auto g = gen(24);
    IclPrompts p = t->sample(3, 5, 4, g);
    const int64_t d = 4, k = 2;
    // A "model" that answers y correctly exactly when the s token it is given holds the true s.
    PromptModel model = [&](const Tensor& tokens) {
      const int64_t i = (tokens.size(1) - 2) / 3;
      Tensor out = torch::zeros({tokens.size(0), tokens.size(1), k + 1});
      Tensor sGiven = tokens.index({torch::indexing::Slice(), -1, torch::indexing::Slice(d, d + k)});
      Tensor wrong = (sGiven - p.hidden.index({torch::indexing::Slice(), i})).abs().sum(-1).gt(1e-6).to(torch::kFloat32);
      out.index_put_({torch::indexing::Slice(), -1, k}, p.ys.index({torch::indexing::Slice(), i}) + wrong);
      return out;
    };
    Tensor perfect = torch::zeros({3, 15, k + 1});
    perfect.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 3), torch::indexing::Slice(0, k)}, p.hidden);
    QCOMPARE(t->extraMetrics(p, perfect, model).at(0).perPrompt.sum().item<double>(), 0.0);
    Tensor offStep = perfect.clone();
    offStep.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 3), 0}, 7.0);
    Tensor err = t->extraMetrics(p, offStep, model).at(0).perPrompt;  // every y off by 1: error 1 / d each
    QVERIFY((err - 1.0 / d).abs().max().item<double>() < 1e-6);
    QVERIFY(t->extraMetrics(p, perfect, {}).empty());  // without a model it needs no calls, so reports nothing
  }

  // A new task is one file and a registry line; the schema's choice list must name the same tasks.
  void schemaListsEveryRegisteredTask() {
    const FieldSpec* f = findField("task.icl_task");
    QVERIFY(f);
    QCOMPARE(f->choices, iclTaskNames());
    for (const auto& n : iclTaskNames()) QVERIFY(makeIclTask(IclTaskSpec{n, 4, 5, 2, 2}) != nullptr);
  }

  // CPython's random.seed(0) + random.shuffle, as cl-as-seq splits CIFAR-100 (values printed by CPython 3.11).
  void pythonRandomIsCPythons() {
    PythonRandom r(0);
    QCOMPARE(r.getrandbits(32), 3626764237u);
    QCOMPARE(r.getrandbits(32), 1654615998u);
    QCOMPARE(r.getrandbits(32), 3255389356u);
    std::vector<int> classes(100);
    for (int i = 0; i < 100; ++i) classes[size_t(i)] = i;
    PythonRandom(0).shuffle(classes);
    const std::vector<int> expected{23, 8, 11, 7, 48, 13, 1, 91, 94, 54, 16, 63, 52, 41, 80, 2, 47, 87, 78, 66,
                                    19, 6, 24, 10, 59, 30, 22, 29, 83, 37, 93, 81, 43, 99, 86, 28, 34, 88, 44, 14};
    QVERIFY(std::equal(expected.begin(), expected.end(), classes.begin()));
  }

  // CIFAR-100's held-out classes are cl-as-seq's: its classes in order of their first training record, shuffled
  // as above, the first 40 held out.
  void cifarSplitIsClAsSeqs() {
    const std::string dir = m_dir.path().toStdString() + "/cifar-order";
    QDir().mkpath(QString::fromStdString(dir));
    std::vector<int> firstSeen(100);
    for (int i = 0; i < 100; ++i) firstSeen[size_t(i)] = (i * 37 + 11) % 100;  // a first-appearance order that is not 0..99
    for (const char* name : {"train.bin", "test.bin"}) {
      std::ofstream f(dir + "/" + name, std::ios::binary);
      for (int rep = 0; rep < 2; ++rep)
        for (int label : firstSeen) f << char(0) << char(label) << std::string(3072, char(label));
    }
    DataSourceConfig c;
    c.kind = "cifar100";
    c.path = dir;
    auto src = std::dynamic_pointer_cast<InMemoryClasses>(makeDataSource(c));
    QVERIFY(src);
    std::vector<int> positions(100);
    for (int i = 0; i < 100; ++i) positions[size_t(i)] = i;
    PythonRandom(0).shuffle(positions);
    QCOMPARE(src->heldOutLabels().size(), size_t(40));
    for (size_t i = 0; i < 40; ++i) QCOMPARE(src->heldOutLabels()[i], std::to_string(firstSeen[size_t(positions[i])]));
  }

  // CSV features parse without the locale (a comma-decimal LC_NUMERIC once read 0.25 as 0), accept quoted
  // fields, and name the line and column of a bad value.
  void csvIsLocaleFreeQuotedAndChecked() {
    const std::string dir = m_dir.path().toStdString();
    { std::ofstream f(dir + "/q.csv"); f << "label,\"a\",b\n0,0.25,\"1.5\"\n0,0.25,1.5\n1,-2e-3,4\n1,3,4\n"; }
    const QString locales = m_dir.path() + "/locales";
    QDir().mkpath(locales);
    const bool haveLocale = QProcess::execute("localedef", {"-i", "de_DE", "-f", "UTF-8", locales + "/de_DE.UTF-8"}) == 0;
    if (haveLocale) {
      qputenv("LOCPATH", locales.toUtf8());
      QVERIFY(std::setlocale(LC_NUMERIC, "de_DE.UTF-8") != nullptr);
    }
    LabelledClasses c = readFeatureCsv(dir + "/q.csv");
    std::setlocale(LC_NUMERIC, "C");
    QCOMPARE(c.examples.size(), size_t(2));
    QCOMPARE(c.examples[0][0][0].item<float>(), 0.25f);
    QCOMPARE(c.examples[0][0][1].item<float>(), 1.5f);
    QCOMPARE(c.examples[1][0][0].item<float>(), -2e-3f);
    if (!haveLocale) QWARN("localedef unavailable: parsed under the C locale only");
    auto expectError = [&](const std::string& text, const QString& what) {
      { std::ofstream f(dir + "/e.csv"); f << text; }
      try {
        readFeatureCsv(dir + "/e.csv");
        QFAIL(qPrintable("expected a DataError for: " + QString::fromStdString(text)));
      } catch (const DataError& e) {
        QVERIFY2(QString(e.what()).contains(what), e.what());
      }
    };
    expectError("0,1,2\n1,1,x\n", "line 2, column 3");
    expectError("0,1,2\n1,nan,2\n", "line 2, column 2");
    expectError("0,1,\"2\n", "not closed");
  }

  // A NaN in a .npy feature file is named by file, row and column (it once surfaced as a 'diverged' run).
  void nonFiniteNpyValuesAreNamed() {
    const std::string dir = m_dir.path().toStdString();
    Tensor x = torch::randn({6, 4});
    x[3][2] = std::nanf("");
    writeNpy(dir + "/nan.npy", x, "<f4");
    writeNpy(dir + "/nan_labels.npy", torch::arange(6).remainder(2).to(torch::kInt64), "<i8");
    try {
      loadFeatureFiles(dir + "/nan.npy", dir + "/nan_labels.npy");
      QFAIL("expected a DataError");
    } catch (const DataError& e) {
      QVERIFY2(QString(e.what()).contains("nan.npy") && QString(e.what()).contains("row 3, column 2"), e.what());
    }
  }

  // Evaluation noise is in units of the data: the sources report their inputs' per-coordinate spread.
  void sourcesReportTheirInputScale() {
    DataSourceConfig c;
    c.classes = 400;
    c.dim = 32;
    c.noise = 0.3;
    auto synthetic = makeDataSource(c);
    auto g = gen(25);
    std::vector<Tensor> draws;
    for (int64_t k = 0; k < synthetic->numClasses(Split::MetaTrain); ++k) draws.push_back(synthetic->sample(Split::MetaTrain, k, 4, g));
    const double empirical = torch::cat(draws).std(0).mean().item<double>();
    QVERIFY2(std::abs(synthetic->inputScale() / empirical - 1.0) < 0.05,
             qPrintable(QString("scale %1, empirical %2").arg(synthetic->inputScale()).arg(empirical)));
    LabelledClasses two{{"a", "b"}, {torch::full({3, 2}, 1.0), torch::full({3, 2}, 3.0)}};
    InMemoryClasses mem(two, 1, "two");
    QVERIFY(std::abs(mem.inputScale() - torch::cat(two.examples).std(0).mean().item<double>()) < 1e-6);
  }

  // Every episode shape a run will ask for is checked against the data when the runner is built (before a run
  // exists), naming the field, the point and what the data holds: a trained run once failed in its final sweeps.
  void sweepsTheDataCannotServeAreRefusedUpFront() {
    const std::string dir = m_dir.path().toStdString();
    writeNpy(dir + "/few.npy", torch::randn({60, 3}), "<f4");
    writeNpy(dir + "/few_labels.npy", torch::arange(60).remainder(10).to(torch::kInt64), "<i8");  // 10 classes x 6
    nlohmann::json user = {{"data", {{"kind", "features"}, {"path", dir + "/few.npy"}, {"labels_path", dir + "/few_labels.npy"},
                                     {"meta_test_classes", 4}}},
                           {"episode", {{"tasks", 3}, {"shots", 2}, {"test_shots", 1}}},
                           {"eval_episode", {{"tasks", 3}, {"shots", 2}}},
                           {"eval", {{"length_tasks", {2, 3, 5}}, {"length_shots", {2}}}},
                           {"model", {{"d_model", 8}, {"layers", 1}}}};
    auto expectConfigError = [&](const nlohmann::json& u, const QStringList& words) {
      try {
        makeTaskRunner(prepareExperiment(u), torch::kCPU);
        QFAIL("expected a ConfigError");
      } catch (const ConfigError& e) {
        for (const auto& w : words) QVERIFY2(QString(e.what()).contains(w), e.what());
      }
    };
    expectConfigError(user, {"eval.length_tasks", "the point 5", "needs 5 meta-test classes", "has 4"});
    nlohmann::json shots = user;
    shots["eval"]["length_tasks"] = {2, 3};
    shots["eval"]["length_shots"] = {2, 9};
    expectConfigError(shots, {"eval.length_shots", "the point 9", "holds 6 examples"});
    shots["eval"]["length_shots"] = {2, 5};
    QVERIFY(makeTaskRunner(prepareExperiment(shots), torch::kCPU) != nullptr);
  }

  // Domain shift: a .npy shift file loads with its labels; a shift the data cannot take is refused up front.
  void domainShiftWorksForEverySourceOrIsRefused() {
    const std::string dir = m_dir.path().toStdString();
    writeNpy(dir + "/src.npy", torch::randn({80, 3}), "<f4");
    writeNpy(dir + "/src_labels.npy", torch::arange(80).remainder(10).to(torch::kInt64), "<i8");
    writeNpy(dir + "/shift.npy", torch::randn({80, 3}) * 2, "<f4");
    writeNpy(dir + "/wide.npy", torch::randn({80, 5}), "<f4");
    nlohmann::json user = {{"data", {{"kind", "features"}, {"path", dir + "/src.npy"}, {"labels_path", dir + "/src_labels.npy"},
                                     {"meta_test_classes", 5}}},
                           {"episode", {{"tasks", 3}, {"shots", 2}, {"test_shots", 1}}},
                           {"eval_episode", {{"tasks", 2}, {"shots", 2}}},
                           {"eval", {{"length_tasks", {2}}, {"length_shots", {2}}, {"domain_shift", "features"},
                                     {"domain_shift_path", dir + "/shift.npy"}, {"domain_shift_labels_path", dir + "/src_labels.npy"}}},
                           {"model", {{"d_model", 8}, {"layers", 1}}}};
    QVERIFY(makeTaskRunner(prepareExperiment(user), torch::kCPU) != nullptr);
    nlohmann::json noLabels = user;
    noLabels["eval"].erase("domain_shift_labels_path");
    QVERIFY(!validateExperiment(withDefaults(noLabels)).empty());
    nlohmann::json wide = user;
    wide["eval"]["domain_shift_path"] = dir + "/wide.npy";
    try {
      makeTaskRunner(prepareExperiment(wide), torch::kCPU);
      QFAIL("expected a ConfigError for a shift file of another shape");
    } catch (const ConfigError& e) {
      QVERIFY2(QString(e.what()).contains("eval.domain_shift_path") && QString(e.what()).contains("5"), e.what());
    }
    nlohmann::json synthetic = user;
    synthetic["eval"]["domain_shift"] = "synthetic-shifted";
    auto issues = validateExperiment(withDefaults(synthetic));
    QVERIFY(!issues.empty() && issues[0].path == "eval.domain_shift");
  }

  void mclEpisodeStructure() {
    DataSourceConfig c;
    c.classes = 100;
    c.dim = 16;
    auto src = makeDataSource(c);
    EpisodeShape shape;
    shape.tasks = 4;
    shape.shots = 3;
    shape.testShots = 2;
    auto g = gen(7);
    EpisodeBatch e = sampleClassEpisodes(*src, Split::MetaTrain, shape, 5, 10, 0.0, g);
    QCOMPARE(e.streamX.sizes().vec(), (std::vector<int64_t>{5, 12, 16}));
    QCOMPARE(e.queryX.sizes().vec(), (std::vector<int64_t>{5, 8, 16}));
    // Task by task, never revisited; each class has one label code, distinct within the episode.
    QVERIFY(torch::equal(e.streamTask[0], torch::arange(4).repeat_interleave(3)));
    for (int b = 0; b < 5; ++b) {
      QCOMPARE(std::get<0>(at::_unique(e.streamY[b])).numel(), int64_t(4));
      QVERIFY(torch::equal(std::get<0>(at::_unique(e.streamY[b])), std::get<0>(at::_unique(e.queryY[b]))));
    }
  }

  void splitsAreDisjointAndEpisodesReproducible() {
    DataSourceConfig c;
    c.classes = 50;
    c.dim = 8;
    c.noise = 0.0;  // examples are their prototypes, so a class is recognisable by value
    auto src = makeDataSource(c);
    QCOMPARE(src->numClasses(Split::MetaTrain) + src->numClasses(Split::MetaTest), int64_t(50));
    auto g = gen(8);
    std::set<float> trainKeys, testKeys;
    for (int64_t k = 0; k < src->numClasses(Split::MetaTrain); ++k) trainKeys.insert(src->sample(Split::MetaTrain, k, 1, g)[0][0].item<float>());
    for (int64_t k = 0; k < src->numClasses(Split::MetaTest); ++k) testKeys.insert(src->sample(Split::MetaTest, k, 1, g)[0][0].item<float>());
    for (float v : testKeys) QVERIFY(!trainKeys.count(v));
    EpisodeShape shape;
    auto g1 = gen(9), g2 = gen(9);
    EpisodeBatch a = sampleClassEpisodes(*src, Split::MetaTest, shape.tasks > 10 ? EpisodeShape{5, 2, 2, 1} : shape, 2, 20, 0.1, g1);
    EpisodeBatch b = sampleClassEpisodes(*src, Split::MetaTest, shape.tasks > 10 ? EpisodeShape{5, 2, 2, 1} : shape, 2, 20, 0.1, g2);
    QVERIFY(torch::equal(a.streamX, b.streamX));
    QVERIFY(torch::equal(a.queryY, b.queryY));
  }

  void groundTruthSumsToOneOverTheQueryClass() {
    DataSourceConfig c;
    auto src = makeDataSource(c);
    EpisodeShape shape{3, 2, 2, 1};
    auto g = gen(10);
    EpisodeBatch e = sampleClassEpisodes(*src, Split::MetaTrain, shape, 2, 3, 0.0, g);
    Tensor p = groundTruthAssociation(e, true);
    QCOMPARE(p.sizes().vec(), (std::vector<int64_t>{2, 6, 12}));
    QVERIFY((p.sum(-1) - 1).abs().max().item<double>() < 1e-6);
    // Query 0 is of class 0: its mass sits on stream tokens 0..3 (x1, y1, x2, y2).
    QVERIFY(std::abs(p[0][0].slice(0, 0, 4).sum().item<double>() - 1.0) < 1e-6);
    Tensor px = groundTruthAssociation(e, false);
    QCOMPARE(px[0][0][1].item<float>(), 0.0f);  // label tokens excluded
  }

  void sineFollowsTheFormula() {
    auto g = gen(11);
    EpisodeBatch e = sampleSineEpisodes(EpisodeShape{2, 3, 1, 1}, 1, 0.0, g);
    QCOMPARE(e.streamY.sizes().vec(), (std::vector<int64_t>{1, 6, kSineDim}));
    // Within a task the targets differ only by amplitude in [0.5, 1.5]: proportional rows.
    Tensor y0 = e.streamY[0][0], y1 = e.streamY[0][1];
    const double ratio = (y1.abs().sum() / y0.abs().sum()).item<double>();
    QVERIFY((y1 - y0 * ratio).abs().max().item<double>() < 1e-4);
    QVERIFY(ratio > 1.0 / 3.0 && ratio < 3.0);
  }

  void loadersReadSmallFiles() {
    const std::string dir = m_dir.path().toStdString();
    // .npy features + labels
    writeNpy(dir + "/f.npy", torch::randn({12, 5}), "<f4");
    writeNpy(dir + "/l.npy", torch::arange(12).remainder(4).to(torch::kInt64), "<i8");
    DataSourceConfig c;
    c.kind = "features"; c.path = dir + "/f.npy"; c.labelsPath = dir + "/l.npy"; c.metaTestClasses = 1;
    auto npy = makeDataSource(c);
    QCOMPARE(npy->numClasses(Split::MetaTrain), int64_t(3));
    QCOMPARE(npy->inputShape(), (std::vector<int64_t>{5}));
    // CSV
    {
      std::ofstream f(dir + "/f.csv");
      f << "label,a,b\n";
      for (int i = 0; i < 9; ++i) f << i % 3 << "," << i << "," << -i << "\n";
    }
    c.path = dir + "/f.csv"; c.labelsPath = "";
    QCOMPARE(makeDataSource(c)->numClasses(Split::MetaTrain), int64_t(2));
    // CIFAR-100 binary: 3 records per file.
    QDir().mkpath(QString::fromStdString(dir + "/cifar"));
    for (const char* name : {"train.bin", "test.bin"}) {
      std::ofstream f(dir + "/cifar/" + name, std::ios::binary);
      for (int r = 0; r < 3; ++r) {
        f << char(0) << char(r);
        f << std::string(3072, char(r * 40));
      }
    }
    c.kind = "cifar100"; c.path = dir + "/cifar"; c.metaTestClasses = 1;
    auto cifar = makeDataSource(c);
    QCOMPARE(cifar->inputShape(), (std::vector<int64_t>{3, 32, 32}));
    QCOMPARE(cifar->numClasses(Split::MetaTrain), int64_t(2));
    // Image folder: two classes of PNGs written by Qt.
    for (const char* cls : {"cat", "dog"}) {
      QDir().mkpath(QString::fromStdString(dir + "/img/" + cls));
      for (int i = 0; i < 2; ++i) {
        QImage img(40, 30, QImage::Format_RGB32);
        img.fill(QColor(cls[0] == 'c' ? 200 : 20, 100, 50));
        QVERIFY(img.save(QString::fromStdString(dir + "/img/" + cls + "/" + std::to_string(i) + ".png")));
      }
    }
    c.kind = "image-folder"; c.path = dir + "/img"; c.metaTestClasses = 1;
    auto folder = makeDataSource(c);
    QCOMPARE(folder->inputShape(), (std::vector<int64_t>{3, 32, 32}));
  }

  void brokenFilesNameTheFileAndTheProblem() {
    const std::string dir = m_dir.path().toStdString();
    auto expectError = [&](DataSourceConfig c, const std::string& file, const QString& what) {
      try {
        makeDataSource(c);
        QFAIL(qPrintable("expected a DataError for " + QString::fromStdString(file)));
      } catch (const DataError& e) {
        QVERIFY2(QString(e.what()).contains(QString::fromStdString(file)), e.what());
        QVERIFY2(QString(e.what()).contains(what), e.what());
      }
    };
    { std::ofstream f(dir + "/trunc.npy", std::ios::binary); f << "\x93NUMPY" << char(1) << char(0) << char(70) << char(0)
        << "{'descr': '<f4', 'fortran_order': False, 'shape': (100, 5), }                 \n" << "abcd"; }
    DataSourceConfig c;
    c.kind = "features"; c.path = dir + "/trunc.npy"; c.labelsPath = dir + "/l.npy";
    expectError(c, dir + "/trunc.npy", "truncated");
    { std::ofstream f(dir + "/bad.npy"); f << "not numpy"; }
    c.path = dir + "/bad.npy";
    expectError(c, dir + "/bad.npy", "not a .npy");
    { std::ofstream f(dir + "/bad.csv"); f << "0,1,2\n1,1\n"; }
    c.path = dir + "/bad.csv";
    expectError(c, dir + "/bad.csv", "line 2");
    QDir().mkpath(QString::fromStdString(dir + "/badcifar"));
    { std::ofstream f(dir + "/badcifar/train.bin", std::ios::binary); f << std::string(100, 'x'); }
    c.kind = "cifar100"; c.path = dir + "/badcifar";
    expectError(c, dir + "/badcifar/train.bin", "3074");
    c.kind = "features"; c.path = dir + "/missing.npy";
    expectError(c, dir + "/missing.npy", "cannot be opened");
  }
};

QTEST_MAIN(TestTasks)
#include "test_tasks.moc"

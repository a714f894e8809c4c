// Every model family against a plain reference written from the papers' code (tests/core/reference_models.h):
// for the same weights, the production model gives the same outputs and the same gradient for every
// parameter — in the parallel forward, in the query path (each query answered after the stream), when
// stepping one token at a time, inside the MCL and ICL learners, and for the ICL runner's training loss.
// Also: the Mamba initialisation is the reference's, and the Mamba and S4 association maps are what
// docs/DECISIONS.md says they are.
#include "core/models/learners.h"
#include "core/models/mamba_mixer.h"
#include "core/models/s4_mixer.h"
#include "core/models/sequence_model.h"
#include "core/config/experiment_schema.h"
#include "core/tasks/icl/icl_task.h"
#include "core/train/task_runner.h"
#include "core/train/trainer.h"
#include "tests/core/reference_models.h"
#include "kernels/cpu_dispatch.h"

#include <QtTest>
#include <torch/torch.h>

using namespace continua::core;
namespace ref = continua::reference;
using torch::Tensor;
using torch::indexing::Slice;

namespace {

// The block order of each family, written out from the papers (reference/mamba_icl.md §3.5 and
// core/models/sequence_model.h), for `layers` layers.
std::vector<std::string> blockOrder(const std::string& family, int64_t layers) {
  std::vector<std::string> k;
  auto repeat = [&](std::vector<std::string> unit) {
    for (int64_t i = 0; i < layers; ++i) k.insert(k.end(), unit.begin(), unit.end());
  };
  if (family == "mamba") repeat({"mamba"});
  else if (family == "mamba-moe") repeat({"mamba", "moe"});
  else if (family == "transformer") repeat({"attention", "mlp"});
  else if (family == "linear-transformer") repeat({"linear-attention", "mlp"});
  else if (family == "performer") repeat({"performer-attention", "mlp"});
  else if (family == "s4") repeat({"s4"});
  else if (family == "s4-mamba") repeat({"s4-mamba"});
  // Standard hybrid, n_layer 4: [MHA, Mamba, MHA, Mamba]; MambaFormer: [Mamba, MHA, Mamba, MHA, Mamba].
  else if (family == "hybrid" && layers == 4) k = {"attention", "mamba", "attention", "mamba"};
  else if (family == "mambaformer" && layers == 4) k = {"mamba", "attention", "mamba", "attention", "mamba"};
  else throw std::runtime_error("blockOrder: no order written for " + family);
  return k;
}

ModelConfig small(const std::string& family) {
  ModelConfig c;
  c.family = family;
  c.dModel = 16;
  c.layers = family == "hybrid" || family == "mambaformer" ? 4 : 2;
  c.heads = 4;
  c.dState = 6;
  c.dtRank = 3;
  c.mlpMultiple = 2;
  c.favorFeatures = 8;
  c.experts = 3;
  c.topK = 2;
  c.s4Dropout = 0.0;
  c.maxPositions = 64;
  return c;
}

ref::Sizes sizesOf(const ModelConfig& c) {
  ref::Sizes s;
  s.dModel = c.dModel; s.dState = c.dState; s.dConv = c.dConv; s.expand = c.expand;
  s.dtRank = c.dtRank > 0 ? c.dtRank : (c.dModel + 15) / 16;  // mamba_simple: dt_rank = ceil(d_model / 16)
  s.heads = c.heads; s.mlpHidden = c.mlpMultiple * c.dModel; s.topK = c.topK; s.experts = c.experts;
  s.learnedPositions = c.resolvedPositional() == "learned";
  s.sinusoidal = c.resolvedPositional() == "sinusoidal";
  return s;
}

// The module's parameters (leaves requiring grad) and buffers (Performer's features), copied by name.
ref::Weights weightsOf(torch::nn::Module& m) {
  ref::Weights w;
  for (const auto& p : m.named_parameters()) w[p.key()] = p.value().detach().clone().requires_grad_(true);
  for (const auto& b : m.named_buffers()) w[b.key()] = b.value().detach().clone();
  return w;
}

double relativeDiff(const Tensor& a, const Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(1e-6, b.abs().max().item<double>());
}

// Every parameter's gradient in the production module against the reference leaf of the same name.
void compareGradients(torch::nn::Module& m, const ref::Weights& w, double tolerance, const QString& what) {
  for (const auto& p : m.named_parameters()) {
    const Tensor& mine = p.value().grad();
    const Tensor& theirs = w.at(p.key()).grad();
    QVERIFY2(mine.defined() == theirs.defined(), qPrintable(what + ": gradient presence differs for " + p.key().c_str()));
    if (!mine.defined()) continue;
    const double d = relativeDiff(mine, theirs);
    QVERIFY2(d < tolerance, qPrintable(QString("%1: gradient of %2 differs by %3 (relative)").arg(what, p.key().c_str()).arg(d)));
  }
}

void families() {
  QTest::addColumn<QString>("family");
  for (const auto& f : ModelConfig::families()) QTest::newRow(f.c_str()) << QString::fromStdString(f);
}

constexpr double kOutputTolerance = 2e-5, kGradientTolerance = 2e-4;  // float32, relative to the largest value

}  // namespace

class TestParity : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { torch::set_num_threads(1); }

  void stackMatchesReference_data() { families(); }
  void stackMatchesReference() {
    QFETCH(QString, family);
    torch::manual_seed(11);
    const ModelConfig c = small(family.toStdString());
    auto model = makeSequenceModel(c);
    ref::Weights w = weightsOf(*model);
    Tensor x = torch::randn({2, 9, c.dModel}), probe = torch::randn({2, 9, c.dModel});
    Tensor mine = model->forward(x);
    Tensor theirs = ref::stack(blockOrder(c.family, c.layers), w, "", x, sizesOf(c));
    const double d = relativeDiff(mine, theirs);
    QVERIFY2(d < kOutputTolerance, qPrintable(QString("%1: output differs by %2").arg(family).arg(d)));
    (mine * probe).sum().backward();
    (theirs * probe).sum().backward();
    compareGradients(*model, w, kGradientTolerance, family);
  }

  // The transformer families with the other positional encodings (sinusoidal, none).
  void positionalEncodingsMatchReference_data() {
    QTest::addColumn<QString>("positional");
    QTest::newRow("sinusoidal") << "sinusoidal";
    QTest::newRow("none") << "none";
  }
  void positionalEncodingsMatchReference() {
    QFETCH(QString, positional);
    torch::manual_seed(12);
    ModelConfig c = small("transformer");
    c.positional = positional.toStdString();
    auto model = makeSequenceModel(c);
    ref::Weights w = weightsOf(*model);
    Tensor x = torch::randn({2, 7, c.dModel});
    const double d = relativeDiff(model->forward(x), ref::stack(blockOrder(c.family, c.layers), w, "", x, sizesOf(c)));
    QVERIFY2(d < kOutputTolerance, qPrintable(QString("output differs by %1").arg(d)));
  }

  // MCL's test queries: each answered after the stream, independently (cl-as-seq's block mask), which the
  // reference computes by appending the query to the stream and running the whole sequence.
  void queriesMatchAppendedReference_data() { families(); }
  void queriesMatchAppendedReference() {
    QFETCH(QString, family);
    torch::manual_seed(13);
    const ModelConfig c = small(family.toStdString());
    auto model = makeSequenceModel(c);
    ref::Weights w = weightsOf(*model);
    Tensor stream = torch::randn({2, 8, c.dModel}), queries = torch::randn({2, 3, c.dModel});
    Tensor probe = torch::randn({2, 3, c.dModel});
    Tensor mine = model->run(stream, queries).queries;
    std::vector<Tensor> answers;
    for (int64_t q = 0; q < 3; ++q) {
      Tensor seq = torch::cat({stream, queries.index({Slice(), Slice(q, q + 1)})}, 1);
      answers.push_back(ref::stack(blockOrder(c.family, c.layers), w, "", seq, sizesOf(c)).index({Slice(), -1}));
    }
    Tensor theirs = torch::stack(answers, 1);
    const double d = relativeDiff(mine, theirs);
    QVERIFY2(d < kOutputTolerance, qPrintable(QString("%1: query outputs differ by %2").arg(family).arg(d)));
    (mine * probe).sum().backward();
    (theirs * probe).sum().backward();
    compareGradients(*model, w, kGradientTolerance, family + " (queries)");
  }

  // Every build of the CPU kernels (scan, query steps, conv) against the reference: a package may run any of them.
  void mambaOnEveryCpuBuildMatchesReference_data() {
    QTest::addColumn<int>("isa");
    for (auto isa : continua::kernels::supportedCpuIsas())
      QTest::newRow(continua::kernels::cpuIsaName(isa).c_str()) << int(isa);
  }
  void mambaOnEveryCpuBuildMatchesReference() {
    QFETCH(int, isa);
    continua::kernels::CpuIsaScope scope(static_cast<continua::kernels::CpuIsa>(isa));
    torch::manual_seed(21);
    const ModelConfig c = small("mamba");
    auto model = makeSequenceModel(c);
    ref::Weights w = weightsOf(*model);
    Tensor stream = torch::randn({2, 7, c.dModel}), queries = torch::randn({2, 3, c.dModel}), probe = torch::randn({2, 3, c.dModel});
    Tensor mine = model->run(stream, queries).queries;
    std::vector<Tensor> answers;
    for (int64_t q = 0; q < 3; ++q)
      answers.push_back(ref::stack(blockOrder("mamba", c.layers), w, "",
                                   torch::cat({stream, queries.index({Slice(), Slice(q, q + 1)})}, 1), sizesOf(c)).index({Slice(), -1}));
    Tensor theirs = torch::stack(answers, 1);
    QVERIFY(relativeDiff(mine, theirs) < kOutputTolerance);
    (mine * probe).sum().backward();
    (theirs * probe).sum().backward();
    compareGradients(*model, w, kGradientTolerance, QString::fromStdString(continua::kernels::cpuIsaName(static_cast<continua::kernels::CpuIsa>(isa))));
  }

  void steppingMatchesReference_data() { families(); }
  void steppingMatchesReference() {
    QFETCH(QString, family);
    torch::manual_seed(14);
    const ModelConfig c = small(family.toStdString());
    auto model = makeSequenceModel(c);
    ref::Weights w = weightsOf(*model);
    torch::NoGradGuard g;
    Tensor x = torch::randn({2, 10, c.dModel});
    Tensor theirs = ref::stack(blockOrder(c.family, c.layers), w, "", x, sizesOf(c));
    ModelState state = model->initialState(2, torch::TensorOptions());
    for (int64_t t = 0; t < 10; ++t) {
      const double d = relativeDiff(model->step(x.select(1, t), state), theirs.select(1, t));
      QVERIFY2(d < 1e-4, qPrintable(QString("%1: step %2 differs by %3").arg(family).arg(t).arg(d)));
    }
  }

  // The Mamba block's training path twice in a row: the second call is served remembered projections and
  // must still equal the reference, in outputs and gradients.
  void mambaWithRememberedProjectionsMatchesReference() {
    torch::manual_seed(15);
    const ModelConfig c = small("mamba");
    auto model = makeSequenceModel(c);
    ref::Weights w = weightsOf(*model);
    Tensor stream = torch::randn({2, 8, c.dModel}), queries = torch::randn({2, 2, c.dModel});
    Tensor probe = torch::randn({2, 8, c.dModel});
    for (int pass = 0; pass < 2; ++pass) {
      model->zero_grad();
      for (auto& kv : w)
        if (kv.second.grad().defined()) kv.second.mutable_grad().zero_();
      auto out = model->run(stream, queries, true);  // with maps: association() and queries() share projections
      Tensor theirs = ref::stack(blockOrder("mamba", c.layers), w, "", stream, sizesOf(c));
      QVERIFY(relativeDiff(out.stream, theirs) < kOutputTolerance);
      (out.stream * probe).sum().backward();
      (theirs * probe).sum().backward();
      compareGradients(*model, w, kGradientTolerance, QString("pass %1").arg(pass));
    }
  }

  // mamba_simple's initialisation (reference/mamba_icl.md §4): dt bias = softplus^-1(log-uniform [1e-3, 0.1]),
  // dt weight U(+-R^-1/2), A_log = ln(1..N) for every channel, D = 1, conv weight and bias U(+-1/sqrt(K)),
  // in_proj U(+-1/sqrt(D)), x_proj U(+-1/sqrt(E)), out_proj U(+-1/sqrt(E)) / sqrt(layers).
  void mambaInitialisationIsTheReferences() {
    torch::manual_seed(16);
    MambaOptions o;
    o.dModel = 64;
    o.dState = 16;
    o.layersForInit = 4;
    MambaMixer m(o);
    auto p = m.named_parameters();
    const int64_t E = o.inner(), R = o.rank();
    Tensor dt = torch::log1p(torch::exp(p["dt_proj.bias"]));
    QVERIFY(dt.min().item<double>() >= 1e-3 * 0.999 && dt.max().item<double>() <= 0.1 * 1.001);
    // log-uniform: log dt spread over the whole range, not bunched at one end
    Tensor logDt = dt.log();
    QVERIFY(logDt.min().item<double>() < std::log(3e-3) && logDt.max().item<double>() > std::log(3e-2));
    auto within = [](const Tensor& t, double bound) { return t.abs().max().item<double>() <= bound * 1.0001; };
    auto spans = [](const Tensor& t, double bound) { return t.abs().max().item<double>() >= 0.9 * bound; };
    QVERIFY(within(p["dt_proj.weight"], 1.0 / std::sqrt(double(R))) && spans(p["dt_proj.weight"], 1.0 / std::sqrt(double(R))));
    QVERIFY(torch::allclose(p["A_log"], torch::log(torch::arange(1, 17, torch::kFloat32)).repeat({E, 1})));
    QVERIFY(torch::equal(p["D"], torch::ones({E})));
    QVERIFY(within(p["conv_weight"], 0.5) && spans(p["conv_weight"], 0.5));
    QVERIFY(within(p["conv_bias"], 0.5) && spans(p["conv_bias"], 0.5));
    QVERIFY(within(p["in_proj.weight"], 1.0 / 8.0) && spans(p["in_proj.weight"], 1.0 / 8.0));
    QVERIFY(within(p["x_proj.weight"], 1.0 / std::sqrt(double(E))));
    const double outBound = 1.0 / std::sqrt(double(E)) / 2.0;  // / sqrt(4 layers)
    QVERIFY(within(p["out_proj.weight"], outBound) && spans(p["out_proj.weight"], outBound));
  }

  // selectivity.mamba_association = cb-softmax: softmax over earlier tokens of C_t . B_s / sqrt(N); for a query,
  // C from the query appended to the stream, B from the stream.
  void mambaAssociationIsSoftmaxOfCAgainstB() {
    torch::manual_seed(17);
    MambaOptions o;
    o.dModel = 8;
    o.dState = 4;
    MambaMixer mixer(o);
    ref::Weights w = weightsOf(mixer);
    ref::Sizes s;
    s.dModel = 8; s.dState = 4; s.dtRank = o.rank();
    Tensor x = torch::randn({2, 7, 8}), xq = torch::randn({2, 3, 8});
    MixerCache cache;
    mixer.forward(x, &cache);
    Tensor rows = mixer.association(x, Tensor(), false), queryRows = mixer.association(x, xq, false);
    auto [B, C] = ref::mambaKeysAndQueries(w, "", x, s);
    Tensor scores = torch::matmul(C, B.transpose(1, 2)) / 2.0;  // sqrt(N) = 2
    Tensor expected = torch::softmax(scores.masked_fill(~torch::ones({7, 7}, torch::kBool).tril(), -1e30), -1);
    QVERIFY(relativeDiff(rows, expected) < 1e-5);
    for (int64_t q = 0; q < 3; ++q) {
      auto [Bq, Cq] = ref::mambaKeysAndQueries(w, "", torch::cat({x, xq.index({Slice(), Slice(q, q + 1)})}, 1), s);
      Tensor sq = torch::matmul(Cq.index({Slice(), Slice(-1)}), Bq.index({Slice(), Slice(0, 7)}).transpose(1, 2)) / 2.0;
      QVERIFY(relativeDiff(queryRows.index({Slice(), Slice(q, q + 1)}), torch::softmax(sq, -1)) < 1e-5);
    }
  }

  // S4's association: its convolution kernel as an implicit attention, mean over channels of |K[t - s]|.
  void s4AssociationIsItsKernel() {
    torch::manual_seed(18);
    S4Options o;
    o.dModel = 8;
    o.dState = 6;
    S4Mixer mixer(o);
    ref::Weights w = weightsOf(mixer);
    Tensor x = torch::randn({1, 6, 8}), xq = torch::randn({1, 2, 8});
    Tensor K = ref::s4dKernel(w, "s4d.", 7).abs().mean(0);  // lags 0..6
    Tensor rows = mixer.association(x, Tensor(), false)[0], queryRows = mixer.association(x, xq, false)[0];
    for (int64_t t = 0; t < 6; ++t) {
      Tensor expected = K.index({Slice(0, t + 1)}).flip(0);
      expected = expected / expected.sum();
      QVERIFY(relativeDiff(rows[t].index({Slice(0, t + 1)}), expected) < 1e-5);
      QVERIFY(rows[t].index({Slice(t + 1)}).abs().sum().item<double>() == 0.0);
    }
    Tensor expectedQuery = K.index({Slice(1, 7)}).flip(0);
    QVERIFY(relativeDiff(queryRows[0], expectedQuery / expectedQuery.sum()) < 1e-5);
  }

  // The MCL learner: encoder, label embedding, joint or interleaved tokens, queries after the stream, head.
  void episodeLearnerMatchesReference_data() {
    QTest::addColumn<QString>("family");
    QTest::addColumn<bool>("joint");
    for (const auto& f : ModelConfig::families()) {
      QTest::newRow((f + " interleaved").c_str()) << QString::fromStdString(f) << false;
      QTest::newRow((f + " joint").c_str()) << QString::fromStdString(f) << true;
    }
  }
  void episodeLearnerMatchesReference() {
    QFETCH(QString, family);
    QFETCH(bool, joint);
    torch::manual_seed(19);
    const ModelConfig c = small(family.toStdString());
    const int64_t dx = 5, vocab = 6;
    EpisodeLearner learner(c, {dx}, vocab, 0, joint);
    ref::Weights w = weightsOf(learner);
    EpisodeBatch e;
    e.streamX = torch::randn({2, 6, dx});
    e.streamY = torch::randint(0, vocab, {2, 6});
    e.queryX = torch::randn({2, 3, dx});
    e.queryY = torch::randint(0, vocab, {2, 3});
    Tensor mine = learner.forward(e, false).predictions;
    Tensor theirs = ref::episodeLogits(blockOrder(c.family, c.layers), w, e.streamX, e.streamY, e.queryX, joint, sizesOf(c));
    QVERIFY2(relativeDiff(mine, theirs) < kOutputTolerance, qPrintable(QString("logits differ by %1").arg(relativeDiff(mine, theirs))));
    Tensor probe = torch::randn(mine.sizes());
    (mine * probe).sum().backward();
    (theirs * probe).sum().backward();
    compareGradients(learner, w, kGradientTolerance, family);
  }

  // The ICL runner's training loss (issue: in-context learning trains): for the same weights and batch,
  // Continua's runner and the reference computation (read-in, the model, read-out at the x positions, the
  // reference's loss) give the same loss and gradients.
  void iclRunnerLossMatchesReference_data() {
    QTest::addColumn<QString>("family");
    QTest::addColumn<QString>("task");
    for (const char* f : {"transformer", "mamba", "mambaformer"})
      for (const char* t : {"linear_regression", "many_outlier_regression", "sparse_parity", "mqar"})
        QTest::newRow((std::string(f) + " " + t).c_str()) << f << t;
  }
  void iclRunnerLossMatchesReference() {
    QFETCH(QString, family);
    QFETCH(QString, task);
    nlohmann::json user = {{"task", {{"family", "icl"}, {"icl_task", task.toStdString()}}},
                           {"icl", {{"n_dims", 5}, {"n_points", 9}, {"sparsity", 2}}},
                           {"model", {{"family", family.toStdString()}, {"d_model", 16}, {"layers", family == "mambaformer" ? 4 : 2},
                                      {"heads", 4}, {"d_state", 6}}},
                           {"optim", {{"batch_size", 4}}}, {"seed", 3}};
    const nlohmann::json config = prepareExperiment(user);
    torch::manual_seed(20);
    auto runner = makeTaskRunner(config, torch::kCPU);
    ref::Weights w = weightsOf(runner->module());
    const int64_t step = 1;
    auto gen = at::detail::createCPUGenerator(99);
    TrainLoss mine = runner->trainLoss(step, gen, 0.0);
    mine.total.backward();

    // The same batch: the runner draws it from the generator it is given, at the curriculum of this step.
    auto t = makeIclTask(IclTaskSpec{task.toStdString(), 5, 9, 2, 4});
    auto [dims, points] = t->curriculum(step, true);
    auto sameGen = at::detail::createCPUGenerator(99);
    IclPrompts p = t->sample(4, points, dims, sameGen);
    ModelConfig mc = ModelConfig::fromExperiment(config);
    Tensor out = ref::promptOutputs(blockOrder(mc.family, mc.layers), w, p.tokens, sizesOf(mc));
    Tensor loss;
    if (task == "mqar") {  // read at the last token, MSE over the value's coordinates
      loss = (out.index({Slice(), -1}) - p.ys).pow(2).mean();
    } else {
      Tensor pred = out.index({Slice(), Slice(0, torch::indexing::None, 2), 0});  // prediction[:, ::2, 0]
      if (task == "sparse_parity") {  // BCE(sigmoid(pred), (y + 1) / 2)
        Tensor target = (p.ys + 1) / 2, prob = torch::sigmoid(pred);
        loss = -(target * torch::log(prob) + (1 - target) * torch::log(1 - prob)).mean();
      } else {  // mean squared error over the clean (non-outlier) positions, not divided by d
        loss = (pred - p.ys).pow(2).masked_select(p.scored).mean();
      }
    }
    const double diff = std::abs(mine.total.item<double>() - loss.item<double>()) / std::max(1e-6, std::abs(loss.item<double>()));
    QVERIFY2(diff < 1e-5, qPrintable(QString("loss %1 vs reference %2").arg(mine.total.item<double>()).arg(loss.item<double>())));
    loss.backward();
    compareGradients(runner->module(), w, kGradientTolerance, family + " " + task);
  }
};

QTEST_GUILESS_MAIN(TestParity)
#include "test_parity.moc"

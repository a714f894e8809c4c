// Every model family: causality, recurrent stepping and independent queries equal the parallel forward,
// closed-form parameter counts, Mamba's implicit attention reproduces its SSM, gradients reach every
// parameter, and save -> load round-trips exactly.
#include "core/models/learners.h"
#include "core/models/mamba_mixer.h"
#include "core/models/sequence_model.h"
#include "core/ops/selective_scan_op.h"
#include "core/ops/selective_scan_queries_op.h"
#include "kernels/cpu_dispatch.h"

#include <QtTest>
#include <torch/torch.h>

using namespace continua::core;
using torch::Tensor;

namespace {
ModelConfig small(const std::string& family) {
  ModelConfig c;
  c.family = family;
  c.dModel = 32;
  c.layers = 2;
  c.heads = 4;
  c.dState = 8;
  c.favorFeatures = 16;
  c.experts = 3;
  c.s4Dropout = 0.0;
  c.maxPositions = 256;
  return c;
}
double maxDiff(const Tensor& a, const Tensor& b) { return (a - b).abs().max().item<double>(); }
}  // namespace

class TestModels : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { torch::set_num_threads(1); }

  void families_data() {
    QTest::addColumn<QString>("family");
    for (const auto& f : ModelConfig::families()) QTest::newRow(f.c_str()) << QString::fromStdString(f);
  }

  void causality_data() { families_data(); }
  void causality() {
    QFETCH(QString, family);
    torch::manual_seed(1);
    auto m = makeSequenceModel(small(family.toStdString()));
    m->eval();
    Tensor x = torch::randn({2, 12, 32});
    Tensor y = m->forward(x);
    Tensor x2 = x.clone();
    x2.index_put_({torch::indexing::Slice(), torch::indexing::Slice(7)}, torch::randn({2, 5, 32}));
    Tensor y2 = m->forward(x2);
    const double before = maxDiff(y.slice(1, 0, 7), y2.slice(1, 0, 7));
    QVERIFY2(before < 1e-5, qPrintable(QString("output before the change moved by %1").arg(before)));
    QVERIFY(maxDiff(y.slice(1, 7), y2.slice(1, 7)) > 1e-4);
  }

  void steppingEqualsParallel_data() { families_data(); }
  void steppingEqualsParallel() {
    QFETCH(QString, family);
    torch::manual_seed(2);
    auto m = makeSequenceModel(small(family.toStdString()));
    m->eval();
    torch::NoGradGuard g;
    Tensor x = torch::randn({2, 10, 32});
    Tensor full = m->forward(x);
    ModelState s = m->initialState(2, torch::TensorOptions());
    for (int64_t t = 0; t < 10; ++t) {
      Tensor yt = m->step(x.select(1, t), s);
      const double d = maxDiff(yt, full.select(1, t));
      QVERIFY2(d < 2e-4, qPrintable(QString("%1: step %2 differs by %3").arg(family).arg(t).arg(d)));
    }
    QVERIFY(s.bytes() > 0);
  }

  void queriesEqualAppendedToken_data() { families_data(); }
  void queriesEqualAppendedToken() {
    QFETCH(QString, family);
    torch::manual_seed(3);
    auto m = makeSequenceModel(small(family.toStdString()));
    m->eval();
    torch::NoGradGuard g;
    Tensor stream = torch::randn({2, 9, 32}), queries = torch::randn({2, 3, 32});
    SequenceModel::Output out = m->run(stream, queries);
    for (int64_t q = 0; q < 3; ++q) {
      Tensor appended = m->forward(torch::cat({stream, queries.slice(1, q, q + 1)}, 1)).select(1, 9);
      const double d = maxDiff(out.queries.select(1, q), appended);
      QVERIFY2(d < 2e-4, qPrintable(QString("%1: query %2 differs from appending it by %3").arg(family).arg(q).arg(d)));
    }
  }

  // The streaming meta-test (EpisodeLearner::predictStreaming: the stream consumed one token at a time, the
  // queries answered from the final state) gives the parallel forward's predictions, for every family and both
  // token formats; a recurrent state keeps its size as the stream doubles, attention's KV cache doubles.
  void streamingPredictionsEqualParallel_data() {
    QTest::addColumn<QString>("family");
    QTest::addColumn<bool>("joint");
    for (const auto& f : ModelConfig::families()) {
      QTest::newRow((f + " interleaved").c_str()) << QString::fromStdString(f) << false;
      QTest::newRow((f + " joint").c_str()) << QString::fromStdString(f) << true;
    }
  }
  void streamingPredictionsEqualParallel() {
    QFETCH(QString, family);
    QFETCH(bool, joint);
    torch::manual_seed(23);
    EpisodeLearner learner(small(family.toStdString()), {5}, 6, 0, joint);
    learner.eval();
    torch::NoGradGuard g;
    std::vector<int64_t> bytes;
    for (int64_t examples : {6, 12}) {
      EpisodeBatch e;
      e.streamX = torch::randn({2, examples, 5});
      e.streamY = torch::randint(0, 6, {2, examples});
      e.queryX = torch::randn({2, 4, 5});
      e.queryY = torch::randint(0, 6, {2, 4});
      const Tensor parallel = learner.forward(e, false).predictions;
      int64_t b = 0;
      const Tensor streaming = learner.predictStreaming(e, &b);
      const double d = maxDiff(parallel, streaming);
      QVERIFY2(d < 2e-4, qPrintable(QString("%1, %2 examples: streaming differs by %3").arg(family).arg(examples).arg(d)));
      QVERIFY(b > 0);
      bytes.push_back(b);
    }
    if (family == "mamba" || family == "s4") QCOMPARE(bytes[1], bytes[0]);
    if (family == "transformer") QVERIFY2(bytes[1] > bytes[0] * 3 / 2, qPrintable(QString("%1 -> %2").arg(bytes[0]).arg(bytes[1])));
  }

  void gradientsReachEveryParameter_data() { families_data(); }
  void gradientsReachEveryParameter() {
    QFETCH(QString, family);
    torch::manual_seed(4);
    auto m = makeSequenceModel(small(family.toStdString()));
    Tensor stream = torch::randn({2, 8, 32}), queries = torch::randn({2, 3, 32});
    SequenceModel::Output out = m->run(stream, queries, true);
    Tensor loss = out.queries.pow(2).mean() + out.stream.pow(2).mean();
    for (const auto& map : out.maps) loss = loss + map.pow(2).mean();
    loss.backward();
    for (const auto& p : m->named_parameters()) {
      QVERIFY2(p.value().grad().defined(), qPrintable(QString("%1: no gradient for %2").arg(family, p.key().c_str())));
      if (family == "mamba-moe" && QString(p.key().c_str()).contains("fc")) continue;  // unrouted experts may get none
      QVERIFY2(p.value().grad().abs().sum().item<double>() > 0, qPrintable(QString("%1: zero gradient for %2").arg(family, p.key().c_str())));
    }
  }

  // The model path a GPU takes (the op's CUDA branch: CUDA kernels, CUDA chunk length, queries from the
  // final state, the CUDA step) run on the CPU under the SIMT emulator, against the CPU kernels.
  void mambaOnEmulatedCudaKernelsMatchesCpuKernels() {
    torch::manual_seed(5);
    auto m = makeSequenceModel(small("mamba"));
    Tensor stream = torch::randn({2, 40, 32}), queries = torch::randn({2, 3, 32});  // 40 > CUDA's chunk of 32
    auto runOnce = [&] {
      m->zero_grad();
      SequenceModel::Output out = m->run(stream, queries, true);
      Tensor loss = out.queries.pow(2).mean() + out.stream.pow(2).mean();
      for (const auto& map : out.maps) loss = loss + map.pow(2).mean();
      loss.backward();
      std::vector<Tensor> values{out.stream.detach(), out.queries.detach()};
      for (const auto& p : m->parameters()) values.push_back(p.grad().clone());
      return values;
    };
    const std::vector<Tensor> cpu = runOnce();
    std::vector<Tensor> emulated;
    Tensor stepped;
    {
      EmulatedCudaScope scope;
      emulated = runOnce();
      torch::NoGradGuard g;
      ModelState s = m->initialState(2, torch::TensorOptions());
      for (int64_t t = 0; t < stream.size(1); ++t) stepped = m->step(stream.select(1, t), s);
    }
    for (size_t i = 0; i < cpu.size(); ++i) {
      // Relative, with an absolute floor: a gradient that nearly cancels (a layer's D here: ~2e-8) keeps
      // only float32 noise (~1e-9 here), which differs between any two summation orders.
      const double diff = maxDiff(cpu[i], emulated[i]), bound = 1e-4 * cpu[i].abs().max().item<double>() + 1e-8;
      QVERIFY2(diff <= bound, qPrintable(QString("value %1 (0: stream, 1: queries, then gradients) differs by %2 > %3")
                                             .arg(i).arg(diff).arg(bound)));
    }
    QVERIFY2(maxDiff(stepped, cpu[0].select(1, 39)) < 2e-4, "emulated CUDA step differs from the parallel forward");
  }

  void mambaBlockParameterCount() {
    // One Mamba block at d_model 128, d_state 16, expand 2, d_conv 4 with its pre-norm LayerNorm: 116,736.
    ModelConfig c;
    c.family = "mamba";
    c.dModel = 128;
    c.layers = 1;
    auto m = makeSequenceModel(c);
    const int64_t finalNorm = 2 * 128;
    QCOMPARE(m->parameterCount() - finalNorm, int64_t(116736));
  }

  void attentionBlockParameterCounts() {
    // GPT-2 layer (attention + MLP, two LayerNorms) = 12 D^2 + 13 D; at D = 128: 198,272.
    ModelConfig c;
    c.family = "transformer";
    c.dModel = 128;
    c.layers = 1;
    c.positional = "none";
    auto m = makeSequenceModel(c);
    QCOMPARE(m->parameterCount() - 2 * 128, int64_t(198272));
    // Hybrid: [attention, Mamba] = (4 D^2 + 6 D) + 116,736 at D = 128.
    c.family = "hybrid";
    c.layers = 2;
    auto h = makeSequenceModel(c);
    QCOMPARE(h->parameterCount() - 2 * 128, int64_t(66304 + 116736));
  }

  void mambaImplicitAttentionReproducesSsm() {
    // Single layer, single channel (d_model 1, expand 1): y_ssm = M x_conv + D x_conv exactly.
    torch::manual_seed(5);
    MambaOptions o;
    o.dModel = 1;
    o.expand = 1;
    o.dState = 4;
    MambaMixer mixer(o);
    torch::NoGradGuard g;
    Tensor x = torch::randn({2, 11, 1});
    Tensor M = mixer.implicitAttention(x);  // (B, L, L)
    Tensor xc = mixer.convolved(x);         // (B, L, 1)
    Tensor viaMap = torch::bmm(M, xc) + xc * mixer.named_parameters()["D"];
    Tensor ssm = mixer.ssmOutput(x);
    QVERIFY2(maxDiff(viaMap, ssm) < 1e-5, qPrintable(QString("map @ x differs from the scan by %1").arg(maxDiff(viaMap, ssm))));
  }

  // The mixers remember the projections of the last input (ProjectionMemo); an optimiser step, an in-place
  // change of the input or a change of grad mode must not serve stale ones.
  void rememberedProjectionsFollowEveryChange() {
    torch::manual_seed(8);
    MambaOptions o;
    o.dModel = 8;
    o.dState = 4;
    MambaMixer mixer(o);
    Tensor x = torch::randn({2, 6, 8}), xq = torch::randn({2, 3, 8});
    auto run = [&] {
      MixerCache cache;
      Tensor y = mixer.forward(x, &cache);
      Tensor map = mixer.association(x, xq, false);
      return std::vector<Tensor>{y, map, mixer.queries(xq, cache)};
    };
    auto fresh = [&] {  // the same computation on copies: nothing can be remembered for them
      MixerCache cache;
      Tensor xc = x.clone(), xqc = xq.clone();
      Tensor y = mixer.forward(xc, &cache);
      Tensor map = mixer.association(xc, xqc, false);
      return std::vector<Tensor>{y, map, mixer.queries(xqc, cache)};
    };
    auto same = [&](const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
      for (size_t i = 0; i < a.size(); ++i)
        if (maxDiff(a[i], b[i]) > 1e-6) return false;
      return true;
    };
    const auto before = run();
    QVERIFY(same(run(), before));
    {
      torch::NoGradGuard g;
      for (auto& p : mixer.parameters()) p.add_(0.05);  // as an optimiser step does
    }
    const auto afterStep = run();
    QVERIFY2(!same(afterStep, before), "a parameter update must invalidate the remembered projections");
    QVERIFY(same(afterStep, fresh()));
    {
      torch::NoGradGuard g;
      x.mul_(1.5);
      xq.add_(0.5);
    }
    QVERIFY2(same(run(), fresh()), "an in-place change of the input must invalidate the remembered projections");
    Tensor withGrad = run()[0];
    QVERIFY(withGrad.requires_grad());
    {
      torch::NoGradGuard g;
      QVERIFY(!run()[0].requires_grad());
    }
    QVERIFY2(run()[0].requires_grad(), "projections made without grad must not be served with grad");
  }

  void associationMapsAreNormalisedAndDifferentiable_data() { families_data(); }
  void associationMapsAreNormalisedAndDifferentiable() {
    QFETCH(QString, family);
    torch::manual_seed(6);
    auto m = makeSequenceModel(small(family.toStdString()));
    Tensor stream = torch::randn({2, 8, 32}), queries = torch::randn({2, 4, 32});
    auto out = m->run(stream, queries, true);
    QVERIFY2(!out.maps.empty(), "every family has an association map (S4: its convolution kernel)");
    for (const auto& map : out.maps) {
      QCOMPARE(map.sizes().vec(), (std::vector<int64_t>{2, 4, 8}));
      QVERIFY(maxDiff(map.sum(-1), torch::ones({2, 4})) < 1e-4);
      QVERIFY(map.requires_grad());
    }
  }

  void saveLoadRoundTrips() {
    torch::manual_seed(7);
    auto a = makeSequenceModel(small("mambaformer"));
    torch::manual_seed(8);
    auto b = makeSequenceModel(small("mambaformer"));
    const QString path = QDir::temp().filePath("continua_model_roundtrip.pt");
    torch::serialize::OutputArchive out;
    a->save(out);
    out.save_to(path.toStdString());
    torch::serialize::InputArchive in;
    in.load_from(path.toStdString());
    b->load(in);
    auto pa = a->named_parameters(), pb = b->named_parameters();
    for (const auto& p : pa) QVERIFY(torch::equal(p.value(), pb[p.key()]));
    Tensor x = torch::randn({1, 5, 32});
    a->eval();
    b->eval();
    QVERIFY(torch::equal(a->forward(x), b->forward(x)));
  }

  // The fused query-step kernel against the step written out in LibTorch ops, with channel counts that are not
  // multiples of its 16 lanes (the models' own sizes all are), on every CPU build, outputs and every gradient.
  void queryStepKernelMatchesPlainSteps_data() {
    QTest::addColumn<int>("isa");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("states");
    for (auto isa : continua::kernels::supportedCpuIsas())
      for (auto [E, N] : std::vector<std::pair<int, int>>{{16, 4}, {19, 16}, {37, 5}, {3, 1}})
        QTest::newRow((continua::kernels::cpuIsaName(isa) + " E" + std::to_string(E) + " N" + std::to_string(N)).c_str())
            << int(isa) << E << N;
  }
  void queryStepKernelMatchesPlainSteps() {
    QFETCH(int, isa);
    QFETCH(int, channels);
    QFETCH(int, states);
    continua::kernels::CpuIsaScope scope(static_cast<continua::kernels::CpuIsa>(isa));
    torch::manual_seed(channels * 31 + states);
    const int64_t Bt = 2, Q = 3, E = channels, N = states;
    auto leaf = [](Tensor t) { return t.requires_grad_(true); };
    ScanInputs in;
    in.u = leaf(torch::randn({Bt, Q, E}));
    in.delta = leaf(torch::randn({Bt, Q, E}));
    in.z = leaf(torch::randn({Bt, Q, E}));
    in.B = leaf(torch::randn({Bt, Q, N}));
    in.C = leaf(torch::randn({Bt, Q, N}));
    in.A = leaf(-torch::rand({E, N}) - 0.1);
    in.D = leaf(torch::randn({E}));
    in.deltaBias = leaf(torch::randn({E}));
    Tensor state = leaf(torch::randn({Bt, E, N}));
    const std::vector<Tensor> inputs{in.u, in.delta, in.z, in.B, in.C, in.A, in.D, in.deltaBias, state};
    Tensor mine = selectiveScanQueries(in, state);
    // Plain: every query one step from the same state.
    Tensor dt = torch::softplus(in.delta + in.deltaBias);                                             // (B, Q, E)
    Tensor h = torch::exp(dt.unsqueeze(-1) * in.A) * state.unsqueeze(1) +                              // (B, Q, E, N)
               (dt * in.u).unsqueeze(-1) * in.B.unsqueeze(2);
    Tensor y = (h * in.C.unsqueeze(2)).sum(-1) + in.D * in.u;
    Tensor theirs = y * torch::silu(in.z);
    QVERIFY2(maxDiff(mine, theirs) < 1e-5 * (1 + theirs.abs().max().item<double>()), "outputs differ");
    Tensor probe = torch::randn_like(theirs);
    auto gMine = torch::autograd::grad({(mine * probe).sum()}, inputs);
    auto gTheirs = torch::autograd::grad({(theirs * probe).sum()}, inputs);
    const char* names[] = {"u", "delta", "z", "B", "C", "A", "D", "deltaBias", "state"};
    for (size_t i = 0; i < inputs.size(); ++i) {
      const double scale = 1 + gTheirs[i].abs().max().item<double>();
      QVERIFY2(maxDiff(gMine[i], gTheirs[i]) < 1e-4 * scale,
               qPrintable(QString("gradient of %1 differs by %2").arg(names[i]).arg(maxDiff(gMine[i], gTheirs[i]))));
    }
  }
};

QTEST_GUILESS_MAIN(TestModels)
#include "test_models.moc"

// The one-loop optimisers and gradient clipping (core/train/optimizer.h) against LibTorch's own, which they
// replace in the trainer: the same parameters after many steps, the same saved state, the same clipped gradients.
#include "core/train/optimizer.h"
#include "kernels/cpu_dispatch.h"

#include <QtTest>
#include <torch/torch.h>

#include <random>
#include <sstream>

using namespace continua::core;

namespace {
std::vector<torch::Tensor> freshParams(uint64_t seed) {
  torch::manual_seed(seed);
  // A scalar, a vector, a matrix and a length that is not a multiple of any vector width.
  return {torch::randn({1}), torch::randn({17}), torch::randn({33, 8}), torch::randn({1001})};
}
std::vector<torch::Tensor> copyOf(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone().requires_grad_(true));
  return out;
}
void setGrads(std::vector<torch::Tensor>& ps, const std::vector<torch::Tensor>& grads) {
  for (size_t i = 0; i < ps.size(); ++i) ps[i].mutable_grad() = grads[i].clone();
}
std::vector<torch::Tensor> randomGrads(const std::vector<torch::Tensor>& ps, double scale) {
  std::vector<torch::Tensor> g;
  for (const auto& p : ps) g.push_back(torch::randn_like(p) * scale);
  return g;
}
double maxDifference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, (a[i] - b[i]).abs().max().item<double>());
  return d;
}
uint64_t freshSeed() { return std::random_device{}(); }

// `steps` steps of both optimisers from the same random gradients.
void stepBoth(torch::optim::Optimizer& a, std::vector<torch::Tensor>& pa, torch::optim::Optimizer& b,
              std::vector<torch::Tensor>& pb, int steps, double scale) {
  for (int step = 0; step < steps; ++step) {
    const auto grads = randomGrads(pa, scale);
    setGrads(pa, grads);
    setGrads(pb, grads);
    a.step();
    b.step();
  }
}

// A checkpoint's round trip: `from`'s state saved, loaded into `to`, and `to`'s parameters set to `from`'s.
void resumeFrom(const torch::optim::Optimizer& from, const std::vector<torch::Tensor>& fromParams, torch::optim::Optimizer& to,
                std::vector<torch::Tensor>& toParams) {
  for (size_t i = 0; i < toParams.size(); ++i) toParams[i].detach().copy_(fromParams[i].detach());
  std::stringstream buffer;
  torch::serialize::OutputArchive out;
  from.save(out);
  out.save_to(buffer);
  torch::serialize::InputArchive in;
  in.load_from(buffer);
  to.load(in);
}
}  // namespace

class TestOptimizer : public QObject {
  Q_OBJECT
 private slots:
  // Every build of the loop this processor can run (kernels/cpu_dispatch.h), each way of weight decay.
  void fusedStepsEqualLibTorch_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<double>("weightDecay");
    QTest::addColumn<int>("isa");
    for (auto isa : continua::kernels::supportedCpuIsas()) {
      const std::string b = continua::kernels::cpuIsaName(isa) + ": ";
      QTest::newRow((b + "adam").c_str()) << "adam" << 0.0 << int(isa);
      QTest::newRow((b + "adam, L2 weight decay").c_str()) << "adam" << 0.1 << int(isa);
      QTest::newRow((b + "adamw, decoupled weight decay").c_str()) << "adamw" << 0.1 << int(isa);
    }
  }
  // 60 steps at lr 1e-2 from gradients of mixed scale: the loop and LibTorch's eight operations agree to float
  // rounding. The loop may round differently (fused multiply-adds, its kernels' flags), up to an ulp of a parameter
  // (~2.4e-7 at |p| ~ 3) per step, so 60 steps stay within 1e-5; a wrong formula is off by 1e-1 or more.
  void fusedStepsEqualLibTorch() {
    QFETCH(QString, name);
    QFETCH(double, weightDecay);
    QFETCH(int, isa);
    continua::kernels::CpuIsaScope build{continua::kernels::CpuIsa(isa)};
    const uint64_t seed = freshSeed();
    qInfo("seed %llu", static_cast<unsigned long long>(seed));
    auto fused = copyOf(freshParams(seed)), plain = copyOf(freshParams(seed));
    const nlohmann::json o = {{"name", name.toStdString()}, {"lr", 1e-2}, {"weight_decay", weightDecay}};
    auto ours = makeOptimizer(o, fused);
    std::unique_ptr<torch::optim::Optimizer> theirs;
    if (name == "adamw") theirs = std::make_unique<torch::optim::AdamW>(plain, torch::optim::AdamWOptions(1e-2).weight_decay(weightDecay));
    else theirs = std::make_unique<torch::optim::Adam>(plain, torch::optim::AdamOptions(1e-2).weight_decay(weightDecay));
    for (int step = 0; step < 60; ++step) stepBoth(*ours, fused, *theirs, plain, 1, step % 3 == 0 ? 1e-3 : 1.0);
    QVERIFY(maxDifference(fused, freshParams(seed)) > 0.1);  // the steps moved the parameters
    const double d = maxDifference(fused, plain);
    QVERIFY2(d < 1e-5, qPrintable(QString("max |fused - LibTorch| = %1 after 60 steps").arg(d)));
  }

  // A checkpoint written under the fused step resumes under LibTorch's and the other way round: the state is
  // LibTorch's own.
  void stateRoundTripsThroughLibTorchsAdam() {
    const uint64_t seed = freshSeed();
    auto fused = copyOf(freshParams(seed)), plain = copyOf(freshParams(seed));
    FusedAdam ours(fused, torch::optim::AdamOptions(1e-2));
    for (int step = 0; step < 5; ++step) {
      setGrads(fused, randomGrads(fused, 1.0));
      ours.step();
    }
    torch::optim::Adam theirs(plain, torch::optim::AdamOptions(1e-2));
    resumeFrom(ours, fused, theirs, plain);
    stepBoth(ours, fused, theirs, plain, 5, 1.0);
    const double d = maxDifference(fused, plain);
    QVERIFY2(d < 1e-5, qPrintable(QString("max |fused - LibTorch| = %1 after resuming").arg(d)));
  }

  // The trainer resumes a checkpoint by loading it into the fused optimiser: it must find the moments LibTorch's
  // loading created (same keys), or it would restart them silently.
  void fusedResumesLibTorchsState() {
    const uint64_t seed = freshSeed();
    auto fused = copyOf(freshParams(seed)), plain = copyOf(freshParams(seed));
    torch::optim::Adam theirs(plain, torch::optim::AdamOptions(1e-2));
    for (int step = 0; step < 5; ++step) {
      setGrads(plain, randomGrads(plain, 1.0));
      theirs.step();
    }
    FusedAdam ours(fused, torch::optim::AdamOptions(1e-2));
    resumeFrom(theirs, plain, ours, fused);
    stepBoth(ours, fused, theirs, plain, 5, 1e-3);
    const double d = maxDifference(fused, plain);
    QVERIFY2(d < 1e-5, qPrintable(QString("max |fused - LibTorch| = %1 after resuming LibTorch's state").arg(d)));
  }

  // Where the loop does not apply (here amsgrad) LibTorch's step runs: bit for bit the same.
  void amsgradFallsBackToLibTorch() {
    const uint64_t seed = freshSeed();
    auto fused = copyOf(freshParams(seed)), plain = copyOf(freshParams(seed));
    FusedAdam ours(fused, torch::optim::AdamOptions(1e-2).amsgrad(true));
    torch::optim::Adam theirs(plain, torch::optim::AdamOptions(1e-2).amsgrad(true));
    stepBoth(ours, fused, theirs, plain, 10, 1.0);
    QCOMPARE(maxDifference(fused, plain), 0.0);
  }

  void clipGradNormEqualsLibTorch() {
    const uint64_t seed = freshSeed();
    for (double maxNorm : {0.5, 1e30}) {
      auto a = copyOf(freshParams(seed)), b = copyOf(freshParams(seed));
      const auto grads = randomGrads(a, 3.0);
      setGrads(a, grads);
      setGrads(b, grads);
      const double ours = clipGradNorm(a, maxNorm);
      const double theirs = torch::nn::utils::clip_grad_norm_(b, maxNorm);
      QVERIFY2(std::abs(ours - theirs) <= 1e-5 * theirs, qPrintable(QString("norm %1 vs %2").arg(ours).arg(theirs)));
      std::vector<torch::Tensor> ga, gb;
      for (size_t i = 0; i < a.size(); ++i) { ga.push_back(a[i].grad()); gb.push_back(b[i].grad()); }
      QVERIFY(maxDifference(ga, gb) < 1e-6);
      if (maxNorm < 1) {
        double sumSq = 0;
        for (const auto& g : ga) sumSq += g.pow(2).sum().item<double>();
        QVERIFY(std::abs(std::sqrt(sumSq) - maxNorm) < 1e-4);  // clipped to the bound
      }
    }
  }
};

QTEST_GUILESS_MAIN(TestOptimizer)
#include "test_optimizer.moc"

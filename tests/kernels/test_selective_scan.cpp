// Selective scan on the CPU: every output and gradient against the float64 reference, the reference
// against LibTorch ops and against finite differences, streaming against the full scan, and bad input.
#include "core/check/kernel_check.h"
#include "core/ops/selective_scan_op.h"
#include "kernels/cpu_dispatch.h"

#include <QtTest>
#include <torch/torch.h>

#include <random>

using namespace continua::core;

namespace {
void verifyRows(const std::vector<CheckRow>& rows) {
  QVERIFY(!rows.empty());
  for (const CheckRow& r : rows) {
    const QString what = QString("%1 %2 %3 %4: error %5 > bound %6")
                             .arg(r.caseName.c_str(), r.device.c_str(), r.dtype.c_str(), r.quantity.c_str())
                             .arg(r.error, 0, 'e', 2).arg(r.bound, 0, 'e', 2);
    QVERIFY2(r.passed(), qPrintable(what));
  }
}
uint64_t freshSeed() { return std::random_device{}(); }
}  // namespace

class TestSelectiveScan : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { torch::set_num_threads(2); }

  void float32MatchesReference_data() {
    QTest::addColumn<int>("index");
    const auto cases = standardScanCases();
    for (int i = 0; i < int(cases.size()); ++i) QTest::newRow(cases[i].name.c_str()) << i;
  }
  void float32MatchesReference() {
    QFETCH(int, index);
    const uint64_t seed = freshSeed();
    qInfo("seed %llu", static_cast<unsigned long long>(seed));
    verifyRows(checkScanCase(standardScanCases()[index], "cpu", "float32", seed));
  }

  // Every build of the CPU kernels this processor can run (the dispatcher runs the widest; a package must
  // also run on machines without AVX-512 or AVX2).
  void everyCpuBuildMatchesReference_data() {
    QTest::addColumn<int>("index");
    QTest::addColumn<QString>("isa");
    const auto cases = standardScanCases();
    for (auto isa : continua::kernels::supportedCpuIsas())
      for (int i = 0; i < int(cases.size()); ++i)
        QTest::newRow((continua::kernels::cpuIsaName(isa) + " " + cases[i].name).c_str())
            << i << QString::fromStdString(continua::kernels::cpuIsaName(isa));
  }
  void everyCpuBuildMatchesReference() {
    QFETCH(int, index);
    QFETCH(QString, isa);
    const uint64_t seed = freshSeed();
    verifyRows(checkScanCase(standardScanCases()[index], "cpu/" + isa.toStdString(), "float32", seed));
    verifyRows(checkScanStreaming(standardScanCases()[index], "cpu/" + isa.toStdString(), seed));
  }

  void referenceKernelMatchesTorchOps_data() {
    QTest::addColumn<int>("index");
    const auto cases = standardScanCases();
    for (int i = 0; i < int(cases.size()); ++i)
      if (cases[i].checksReference) QTest::newRow(cases[i].name.c_str()) << i;
  }
  void referenceKernelMatchesTorchOps() {
    QFETCH(int, index);
    verifyRows(checkReferenceAgreement(standardScanCases()[index], freshSeed()));
  }

  void streamingEqualsFullScan_data() { float32MatchesReference_data(); }
  void streamingEqualsFullScan() {
    QFETCH(int, index);
    verifyRows(checkScanStreaming(standardScanCases()[index], "cpu", freshSeed()));
  }

  // Central differences of the float64 forward against its analytic gradient, for every input.
  void float64GradientMatchesFiniteDifferences() {
    torch::manual_seed(freshSeed());
    auto o = torch::TensorOptions().dtype(torch::kFloat64);
    const int64_t Bn = 2, L = 7, D = 3, N = 2;
    ScanInputs in{torch::randn({Bn, L, D}, o), torch::randn({Bn, L, D}, o) * 0.5 - 1.0,
                  -torch::exp(torch::randn({D, N}, o) * 0.3), torch::randn({Bn, L, 1, N}, o),
                  torch::randn({Bn, L, 1, N}, o), torch::randn({D}, o), torch::randn({Bn, L, D}, o),
                  torch::randn({D}, o) * 0.1, torch::randn({Bn, D, N}, o), true};
    std::vector<torch::Tensor*> leaves{&in.u, &in.delta, &in.A, &in.B, &in.C, &in.D, &in.z, &in.deltaBias,
                                       &in.initialState};
    const char* names[] = {"u", "delta", "A", "B", "C", "D", "z", "deltaBias", "initialState"};
    for (auto* t : leaves) t->requires_grad_(true);
    torch::Tensor weights = torch::randn({Bn, L, D}, o);
    auto loss = [&] { return (selectiveScan(in).out * weights).sum(); };
    loss().backward();
    const double eps = 1e-6;
    for (size_t i = 0; i < leaves.size(); ++i) {
      torch::Tensor grad = leaves[i]->grad().clone();
      torch::Tensor flat = leaves[i]->detach().view(-1);
      for (int64_t j = 0; j < flat.numel(); j += std::max<int64_t>(1, flat.numel() / 7)) {
        const double orig = flat[j].item<double>();
        torch::NoGradGuard g;
        flat[j] = orig + eps;
        const double up = loss().item<double>();
        flat[j] = orig - eps;
        const double down = loss().item<double>();
        flat[j] = orig;
        const double numeric = (up - down) / (2 * eps), analytic = grad.view(-1)[j].item<double>();
        QVERIFY2(std::abs(numeric - analytic) <= 1e-6 * std::max(1.0, std::abs(numeric)),
                 qPrintable(QString("%1[%2]: finite difference %3 vs analytic %4")
                                .arg(names[i]).arg(j).arg(numeric, 0, 'g', 10).arg(analytic, 0, 'g', 10)));
      }
    }
  }

  // The op hands views with contiguous rows to the kernels without copying them (Mamba's z, B and C are splits of
  // a projection; here u also has its batch and time axes swapped): outputs and gradients equal those of
  // contiguous copies of the same values, exactly, in float32 and float64.
  void stridedRowsEqualContiguous_data() {
    QTest::addColumn<bool>("float64");
    QTest::newRow("float32") << false;
    QTest::newRow("float64") << true;
  }
  void stridedRowsEqualContiguous() {
    QFETCH(bool, float64);
    torch::manual_seed(freshSeed());
    const auto o = torch::TensorOptions().dtype(float64 ? torch::kFloat64 : torch::kFloat32);
    const int64_t Bn = 3, L = 70, D = 37, N = 16;
    torch::Tensor uT = torch::randn({L, Bn, D}, o);                   // u = uT.transpose(0, 1)
    torch::Tensor xz = torch::randn({Bn, L, 2 * D}, o);               // (x, z) of an in_proj
    torch::Tensor dbc = torch::randn({Bn, L, 5 + 2 * N}, o);          // (dt, B, C) of an x_proj
    torch::Tensor delta2 = torch::randn({Bn, L, 2 * D}, o) * 0.5 - 1.0; // delta = its first half
    const torch::Tensor A = -torch::exp(torch::randn({D, N}, o) * 0.5), Dskip = torch::randn({D}, o);
    const torch::Tensor bias = torch::randn({D}, o) * 0.1;
    auto leaf = [](const torch::Tensor& t) { return t.detach().requires_grad_(true); };
    auto inputs = [&](bool contiguous) {
      auto v = [&](const torch::Tensor& t) { return leaf(contiguous ? t.contiguous() : t); };
      return ScanInputs{v(uT.transpose(0, 1)), v(delta2.narrow(2, 0, D)), leaf(A), v(dbc.narrow(2, 5, N)),
                        v(dbc.narrow(2, 5 + N, N)), leaf(Dskip), v(xz.narrow(2, D, D)), leaf(bias), {}, true};
    };
    ScanInputs strided = inputs(false), dense = inputs(true);
    QVERIFY(!strided.u.is_contiguous() && !strided.delta.is_contiguous() && !strided.z.is_contiguous() &&
            !strided.B.is_contiguous() && !strided.C.is_contiguous());
    torch::Tensor weights = torch::randn({Bn, L, D}, o);
    ScanOutputs a = selectiveScan(strided), b = selectiveScan(dense);
    (a.out * weights).sum().backward();
    (b.out * weights).sum().backward();
    QVERIFY(torch::equal(a.out, b.out));
    QVERIFY(torch::equal(a.finalState, b.finalState));
    const char* names[] = {"u", "delta", "B", "C", "z"};
    torch::Tensor* gotGrads[] = {&strided.u, &strided.delta, &strided.B, &strided.C, &strided.z};
    torch::Tensor* wantGrads[] = {&dense.u, &dense.delta, &dense.B, &dense.C, &dense.z};
    for (int i = 0; i < 5; ++i)
      QVERIFY2(torch::equal(gotGrads[i]->grad(), wantGrads[i]->grad()), names[i]);
  }

  // A diverged parameter must show, not train on silently: a NaN in one channel's A, or in one delta, reaches that
  // channel's outputs and gradients and no other channel's, in every CPU build. (The exp clamps its argument with
  // max/min instructions, which drop a NaN in one operand order and keep it in the other.)
  void nanReachesItsChannelOnly_data() {
    QTest::addColumn<int>("isa");
    QTest::addColumn<bool>("inA");
    for (auto isa : continua::kernels::supportedCpuIsas()) {
      const std::string name = continua::kernels::cpuIsaName(isa);
      QTest::newRow((name + " A").c_str()) << int(isa) << true;
      QTest::newRow((name + " delta").c_str()) << int(isa) << false;
    }
  }
  void nanReachesItsChannelOnly() {
    QFETCH(int, isa);
    QFETCH(bool, inA);
    continua::kernels::CpuIsaScope scope(static_cast<continua::kernels::CpuIsa>(isa));
    torch::manual_seed(freshSeed());
    const int64_t Bn = 2, L = 40, D = 35, N = 16, bad = 20;
    torch::Tensor A = -torch::exp(torch::randn({D, N}) * 0.5), delta = torch::randn({Bn, L, D}) * 0.5 - 1.0;
    if (inA) A[bad][3] = std::nan("");
    else delta[1][7][bad] = std::nan("");
    auto leaf = [](const torch::Tensor& t) { return t.detach().requires_grad_(true); };
    ScanInputs in{leaf(torch::randn({Bn, L, D})), leaf(delta), leaf(A), leaf(torch::randn({Bn, L, N})),
                  leaf(torch::randn({Bn, L, N})), leaf(torch::randn({D})), leaf(torch::randn({Bn, L, D})),
                  leaf(torch::randn({D}) * 0.1), {}, true};
    ScanOutputs o = selectiveScan(in);
    (o.out * torch::randn_like(o.out)).sum().backward();
    auto nanIn = [&](const torch::Tensor& t) { return t.select(-1, bad).isnan().any().item<bool>(); };
    auto othersFinite = [&](const torch::Tensor& t) {
      return torch::cat({t.narrow(-1, 0, bad), t.narrow(-1, bad + 1, D - bad - 1)}, -1).isfinite().all().item<bool>();
    };
    QVERIFY2(nanIn(o.out) && othersFinite(o.out), "out");
    QVERIFY2(nanIn(in.u.grad()) && othersFinite(in.u.grad()), "du");
    QVERIFY2(nanIn(in.delta.grad()) && othersFinite(in.delta.grad()), "ddelta");
    QVERIFY2(in.A.grad()[bad].isnan().any().item<bool>(), "dA");
  }

  void badShapeNamesTheField() {
    ScanInputs in{torch::randn({2, 5, 4}), torch::randn({2, 5, 3}), -torch::ones({4, 2}), torch::randn({2, 5, 2}),
                  torch::randn({2, 5, 2}), {}, {}, {}, {}, true};
    try {
      selectiveScan(in);
      QFAIL("expected an error for a delta of the wrong shape");
    } catch (const std::invalid_argument& e) {
      QVERIFY2(QString(e.what()).contains("delta"), e.what());
    }
    in.delta = torch::randn({2, 5, 4});
    in.A = -torch::ones({4, 300});
    try {
      selectiveScan(in);
      QFAIL("expected an error for 300 states");
    } catch (const std::invalid_argument& e) {
      QVERIFY2(QString(e.what()).contains("states must be 1..256"), e.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestSelectiveScan)
#include "test_selective_scan.moc"

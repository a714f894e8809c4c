// The CUDA kernels against the float64 reference: forward, every gradient and streaming, float32 and
// bfloat16. Built twice (tests/kernels/CMakeLists.txt):
// - test_selective_scan_cuda, on a GPU (skips without one);
// - test_selective_scan_cuda_emulated, the same kernel source run on the CPU by the SIMT emulator
//   (kernels/emulation), so the CUDA indexing, tiling, chunk recomputation and warp reductions are
//   checked on every machine, this project's CI included.
#include "core/check/kernel_check.h"

#include <QtTest>

#include <random>
#include <stdexcept>

#ifndef CONTINUA_TEST_DEVICE
#error "define CONTINUA_TEST_DEVICE as \"cuda\" or \"cuda-emulated\""
#endif

using namespace continua::core;

namespace {
const std::string kDevice = CONTINUA_TEST_DEVICE;

void verifyRows(const std::vector<CheckRow>& rows) {
  for (const CheckRow& r : rows)
    QVERIFY2(r.passed(), qPrintable(QString("%1: %2 > %3").arg(r.quantity.c_str()).arg(r.error).arg(r.bound)));
}

uint64_t freshSeed() {
  const uint64_t seed = std::random_device{}();
  qInfo("seed %llu", static_cast<unsigned long long>(seed));
  return seed;
}
}  // namespace

class TestSelectiveScanCuda : public QObject {
  Q_OBJECT
 private slots:
  void init() {
    if (kDevice == "cuda" && !cudaAvailable())
      QSKIP("no CUDA GPU visible to LibTorch (CPU-only LibTorch or no device): CUDA kernel parity not checked "
            "here; test_selective_scan_cuda_emulated checks their source on the CPU");
  }

  void matchesReference_data() {
    QTest::addColumn<int>("index");
    QTest::addColumn<QString>("dtype");
    const auto cases = standardScanCases();
    for (int i = 0; i < int(cases.size()); ++i)
      for (const char* dt : {"float32", "bfloat16"})
        QTest::newRow((cases[i].name + " " + dt).c_str()) << i << QString(dt);
  }
  void matchesReference() {
    QFETCH(int, index);
    QFETCH(QString, dtype);
    verifyRows(checkScanCase(standardScanCases()[index], kDevice, dtype.toStdString(), freshSeed()));
  }

  void streamingEqualsFullScan_data() {
    QTest::addColumn<int>("index");
    const auto cases = standardScanCases();
    for (int i = 0; i < int(cases.size()); ++i) QTest::newRow(cases[i].name.c_str()) << i;
  }
  void streamingEqualsFullScan() {
    QFETCH(int, index);
    verifyRows(checkScanStreaming(standardScanCases()[index], kDevice, freshSeed()));
  }

  void unknownDeviceIsNamed() {
    try {
      checkScanCase(standardScanCases()[0], "tpu", "float32", 1);
      QFAIL("expected an error");
    } catch (const std::invalid_argument& e) {
      QVERIFY2(QString(e.what()).contains("tpu"), e.what());
    }
  }
};

QTEST_GUILESS_MAIN(TestSelectiveScanCuda)
#include "test_selective_scan_cuda.moc"

// The CUDA kernels' own source, run on the CPU by the SIMT emulator (kernels/emulation), against the
// float64 reference: forward, every gradient and streaming, float32 and bfloat16. Runs on every machine,
// so the CUDA indexing, tiling, chunk recomputation and warp reductions are checked without a GPU.
#include "core/check/kernel_check.h"

#include <QtTest>

#include <random>

using namespace continua::core;

class TestSelectiveScanCudaEmulated : public QObject {
  Q_OBJECT
 private slots:
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
    const uint64_t seed = std::random_device{}();
    qInfo("seed %llu", static_cast<unsigned long long>(seed));
    for (const CheckRow& r : checkScanCase(standardScanCases()[index], "cuda-emulated", dtype.toStdString(), seed))
      QVERIFY2(r.passed(), qPrintable(QString("%1: %2 > %3").arg(r.quantity.c_str()).arg(r.error).arg(r.bound)));
  }

  void streamingEqualsFullScan_data() {
    QTest::addColumn<int>("index");
    const auto cases = standardScanCases();
    for (int i = 0; i < int(cases.size()); ++i) QTest::newRow(cases[i].name.c_str()) << i;
  }
  void streamingEqualsFullScan() {
    QFETCH(int, index);
    for (const CheckRow& r : checkScanStreaming(standardScanCases()[index], "cuda-emulated", std::random_device{}()))
      QVERIFY2(r.passed(), qPrintable(QString("%1: %2 > %3").arg(r.quantity.c_str()).arg(r.error).arg(r.bound)));
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

QTEST_GUILESS_MAIN(TestSelectiveScanCudaEmulated)
#include "test_selective_scan_cuda_emulated.moc"

// Selective scan on CUDA (float32 and bfloat16) against the float64 reference. Skips without a GPU.
#include "core/check/kernel_check.h"

#include <QtTest>

#include <random>

using namespace continua::core;

class TestSelectiveScanCuda : public QObject {
  Q_OBJECT
 private slots:
  void init() {
    if (!cudaAvailable())
      QSKIP("no CUDA GPU visible to LibTorch (CPU-only LibTorch or no device): CUDA kernel parity not checked");
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
    for (const CheckRow& r : checkScanCase(standardScanCases()[index], "cuda", dtype.toStdString(), std::random_device{}()))
      QVERIFY2(r.passed(), qPrintable(QString("%1: %2 > %3").arg(r.quantity.c_str()).arg(r.error).arg(r.bound)));
  }
  void streamingEqualsFullScan() {
    for (const ScanCase& c : standardScanCases())
      for (const CheckRow& r : checkScanStreaming(c, "cuda", std::random_device{}()))
        QVERIFY2(r.passed(), qPrintable(QString("%1 %2: %3").arg(c.name.c_str(), r.quantity.c_str()).arg(r.error)));
  }
};

QTEST_GUILESS_MAIN(TestSelectiveScanCuda)
#include "test_selective_scan_cuda.moc"

// The workbench under its own application class: an exception thrown by an event handler is reported and
// the event loop goes on (Qt alone would terminate the program); a run database damaged under an open window
// shows an error in the log instead of killing the window. Its own main(): Qt Test's QTEST_MAIN would create a
// plain QApplication.
#include "core/store/run_store.h"
#include "ui/curves_view.h"
#include "ui/guarded_application.h"
#include "ui/main_window.h"
#include "ui/run_browser.h"

#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTextEdit>
#include <QtTest>

#include <stdexcept>

using namespace continua;

namespace {
struct Thrower : QObject {
  bool event(QEvent* e) override {
    if (e->type() == QEvent::User) throw std::runtime_error("handler failed on purpose");
    return QObject::event(e);
  }
};
}  // namespace

class TestGuardedApplication : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;

 private slots:
  void anExceptionInAHandlerIsReportedAndTheLoopGoesOn() {
    auto* app = ui::GuardedApplication::instance();
    QVERIFY(app);
    QSignalSpy failed(app, &ui::GuardedApplication::handlerFailed);
    Thrower thrower;
    QCoreApplication::postEvent(&thrower, new QEvent(QEvent::User));
    bool later = false;
    QTimer::singleShot(10, [&] { later = true; });
    QTRY_VERIFY(later);
    QCOMPARE(failed.count(), 1);
    QCOMPARE(failed.at(0).at(0).toString(), QString("handler failed on purpose"));
  }

  // The live curves poll the database every half second. Overwritten with garbage while the window is open,
  // the database fails every poll: the window stays, says so once in its log, and keeps running.
  void aDatabaseDamagedUnderAnOpenWindowIsReportedNotFatal() {
    const QString db = m_dir.filePath("runs.db");
    int64_t id = 0;
    {
      core::RunStore store(db.toStdString());
      id = store.createRun("damaged later", nlohmann::json::object(), "mamba", "mcl/synthetic", nlohmann::json::object(), 10);
      store.logMetrics(id, {{"train/loss", 1, 0.0, 2.0}, {"train/loss", 2, 1.0, 1.5}});
    }
    ui::MainWindow w;
    w.setCloseChoice(ui::MainWindow::CloseChoice::CancelRun);
    QVERIFY(w.openDatabase(db));
    w.show();
    w.runBrowser()->selectRun(id);
    w.curves()->setMetric("train/loss");
    QTRY_COMPARE(w.curves()->pointCount(), 2);

    QSignalSpy failed(ui::GuardedApplication::instance(), &ui::GuardedApplication::handlerFailed);
    for (const QString& f : {db, db + "-wal", db + "-shm"}) {
      QFile file(f);
      if (!file.exists()) continue;
      const qint64 size = file.size();
      QVERIFY(file.open(QIODevice::WriteOnly));  // truncates, then the same size of garbage
      file.write(QByteArray(size, '\x5a'));
    }
    QTRY_VERIFY_WITH_TIMEOUT(failed.count() >= 2, 10000);  // at least two polls failed, and we are still here
    const QString log = w.findChild<QTextEdit*>("log")->toPlainText();
    QVERIFY2(log.count(failed.at(0).at(0).toString()) == 1, qPrintable(log));
    QVERIFY(w.isVisible());
  }
};

int main(int argc, char** argv) {
  ui::GuardedApplication app(argc, argv);
  TestGuardedApplication test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_guarded_application.moc"

#include "ui/engine_bridge.h"

#include "core/config/experiment_text.h"
#include "core/train/trainer.h"

namespace continua::ui {

EngineBridge::EngineBridge(QObject* parent) : QObject(parent) {}

EngineBridge::~EngineBridge() { stopAndWait(); }

void EngineBridge::launch(const QString& databasePath, std::function<void(core::Trainer&)> work) {
  if (m_busy) {
    emit finished(0, "failed", "a run is already training in this window; cancel it or wait for it to finish");
    return;
  }
  m_busy = true;
  // Only now, with no worker running, may the previous Trainer go.
  m_trainer = std::make_unique<core::Trainer>(databasePath.toStdString(), *this);
  core::Trainer* trainer = m_trainer.get();
  m_thread = QThread::create([this, trainer, work = std::move(work)] {
    try {
      work(*trainer);
    } catch (const std::exception& e) {
      emit finished(m_activeRun, "failed", QString::fromStdString(e.what()));
    }
    m_busy = false;
  });
  connect(m_thread, &QThread::finished, m_thread, &QObject::deleteLater);
  m_thread->start();
}

void EngineBridge::start(const QString& databasePath, const QString& configJson) {
  if (!m_busy) m_activeRun = 0;
  const std::string cfg = configJson.toStdString();
  launch(databasePath, [cfg](core::Trainer& t) { t.run(core::parseExperimentText(cfg, "the editor's experiment")); });
}

void EngineBridge::resume(const QString& databasePath, qint64 runId) {
  if (!m_busy) m_activeRun = runId;
  launch(databasePath, [runId](core::Trainer& t) { t.resume(runId); });
}

void EngineBridge::cancel() {
  if (m_trainer) m_trainer->cancel();
}

void EngineBridge::setPaused(bool paused) {
  if (m_trainer) m_trainer->setPaused(paused);
}

void EngineBridge::stopAndWait() {
  if (!m_thread) return;  // no worker, or it has finished and deleted itself
  cancel();
  m_thread->wait();
}

void EngineBridge::onRunCreated(int64_t id, const std::string& db) {
  m_activeRun = id;
  emit runCreated(id, QString::fromStdString(db));
}
void EngineBridge::onProgress(const core::Progress& p) {
  emit progress(p.step, p.totalSteps, p.elapsedSeconds, p.etaSeconds, p.lastLoss);
}
void EngineBridge::onMetrics(int64_t id, const std::vector<core::MetricPoint>&) { emit metricsWritten(id); }
void EngineBridge::onLog(const std::string& line) { emit logLine(QString::fromStdString(line)); }
void EngineBridge::onStatus(int64_t id, const std::string& status, const std::string& message) {
  if (status != "running") emit finished(id, QString::fromStdString(status), QString::fromStdString(message));
}

}  // namespace continua::ui

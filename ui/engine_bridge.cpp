#include "ui/engine_bridge.h"

#include "core/train/trainer.h"

namespace continua::ui {

EngineBridge::EngineBridge(QObject* parent) : QObject(parent) {}

EngineBridge::~EngineBridge() { stopAndWait(); }

void EngineBridge::launch(std::function<void()> work) {
  if (m_busy) {
    emit finished(0, "failed", "a run is already training in this window");
    return;
  }
  m_busy = true;
  m_thread = QThread::create([this, work = std::move(work)] {
    try {
      work();
    } catch (const std::exception& e) {
      emit finished(m_activeRun, "failed", QString::fromStdString(e.what()));
    }
    m_busy = false;
  });
  connect(m_thread, &QThread::finished, m_thread, &QObject::deleteLater);
  m_thread->start();
}

void EngineBridge::start(const QString& databasePath, const QString& configJson) {
  const std::string db = databasePath.toStdString(), cfg = configJson.toStdString();
  m_activeRun = 0;
  m_trainer = std::make_unique<core::Trainer>(db, *this);
  launch([this, cfg] {
    auto j = nlohmann::json::parse(cfg);
    m_trainer->run(j);
  });
}

void EngineBridge::resume(const QString& databasePath, qint64 runId) {
  m_activeRun = runId;
  m_trainer = std::make_unique<core::Trainer>(databasePath.toStdString(), *this);
  launch([this, runId] { m_trainer->resume(runId); });
}

void EngineBridge::cancel() {
  if (m_trainer) m_trainer->cancel();
}

void EngineBridge::setPaused(bool paused) {
  if (m_trainer) m_trainer->setPaused(paused);
}

void EngineBridge::stopAndWait() {
  if (!m_busy || !m_thread) return;
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

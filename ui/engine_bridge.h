#pragma once
// The one place where the engine meets Qt: runs a core::Trainer on a worker thread and turns the engine's
// observer calls into queued signals. No exception crosses into the event loop: failures arrive as
// finished(runId, "failed", message).
#include "core/train/observer.h"

#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>

namespace continua::core {
class Trainer;
}

namespace continua::ui {

class EngineBridge : public QObject, public core::TrainingObserver {
  Q_OBJECT
 public:
  explicit EngineBridge(QObject* parent = nullptr);
  ~EngineBridge() override;

  bool busy() const { return m_busy; }
  int64_t activeRun() const { return m_activeRun; }

 public slots:
  void start(const QString& databasePath, const QString& configJson);
  void resume(const QString& databasePath, qint64 runId);
  void cancel();
  void setPaused(bool paused);
  // Cancels and waits for the worker (used when the window closes).
  void stopAndWait();

 signals:
  void runCreated(qint64 runId, const QString& databasePath);
  void progress(qint64 step, qint64 total, double elapsed, double eta, double loss);
  void metricsWritten(qint64 runId);
  void logLine(const QString& line);
  void finished(qint64 runId, const QString& status, const QString& message);

 private:
  // Starts work on a new worker thread with a new Trainer, unless a run is already training here (then the
  // running Trainer is left alone and finished(0, "failed", ...) explains why).
  void launch(const QString& databasePath, std::function<void(core::Trainer&)> work);
  void onRunCreated(int64_t id, const std::string& db) override;
  void onProgress(const core::Progress& p) override;
  void onMetrics(int64_t id, const std::vector<core::MetricPoint>&) override;
  void onLog(const std::string& line) override;
  void onStatus(int64_t id, const std::string& status, const std::string& message) override;

  QPointer<QThread> m_thread;  // cleared by Qt when the finished thread deletes itself
  std::unique_ptr<core::Trainer> m_trainer;
  std::atomic<bool> m_busy{false};
  std::atomic<int64_t> m_activeRun{0};
};

}  // namespace continua::ui

#pragma once
// The workbench window: dock widgets for the experiment editor, run browser, live curves, selectivity maps,
// length generalisation and compare view. Layout, geometry and recent databases are remembered with QSettings.
#include <QMainWindow>
#include <QPalette>

#include <memory>

class QLabel;
class QProcess;
class QProgressBar;
class QPushButton;
class QTimer;
class QTextEdit;

namespace continua::core {
class RunStore;
}

namespace continua::ui {

class EngineBridge;
class ExperimentEditor;
class RunBrowser;
class CurvesView;
class SelectivityView;
class EvalCurvesView;
class ForgettingView;
class CompareView;
class SweepView;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  bool openDatabase(const QString& path);
  QString databasePath() const { return m_dbPath; }

  ExperimentEditor* editor() const { return m_editor; }
  RunBrowser* runBrowser() const { return m_browser; }
  CurvesView* curves() const { return m_curves; }
  SelectivityView* selectivity() const { return m_selectivity; }
  EvalCurvesView* evalCurves() const { return m_evalCurves; }
  ForgettingView* forgetting() const { return m_forgetting; }
  CompareView* compare() const { return m_compare; }
  SweepView* sweep() const { return m_sweep; }
  EngineBridge* engine() const { return m_engine; }
  // What to do when closing during training: ask (default), or a fixed answer for tests and scripts.
  enum class CloseChoice { Ask, CancelRun, KeepWindow };
  void setCloseChoice(CloseChoice c) { m_closeChoice = c; }
  // theme: "system" (the desktop's palette), "light" or "dark"; kept in QSettings.
  void setTheme(const QString& theme);
  static QString themeSetting();
  void setDarkTheme(bool dark, bool followDesktop = false);
  // Raises each view in turn and saves the window as <dir>/<view>.png (documentation screenshots).
  bool saveScreenshots(const QString& dir);

 public slots:
  void showError(const QString& message);
  void exportReport();  // File > Export report
  // Reopens a database opened read-only (an older schema) for writing, which upgrades it (with a backup).
  void upgradeStore();
  void startSweep();    // Run > Start sweep: the editor's experiment over lists of values
  void launchSweep(const QString& sweepFile, int workers, int runs);
  QProcess* sweepProcess() const { return m_sweepProcess; }
  // An error nobody asked for by a click — a view's poll of the database, or a handler's exception caught by
  // GuardedApplication: into the log and status bar, without a dialog, and once while it repeats (a view that
  // polls a broken database fails every half second; a modal dialog each time would pile up).
  void reportBackgroundError(const QString& message);

 protected:
  void closeEvent(QCloseEvent* e) override;
  void dragEnterEvent(QDragEnterEvent* e) override;
  void dropEvent(QDropEvent* e) override;

 private:
  void buildDocks();
  void buildMenus();
  void giveViewsTheStore();
  void onSelection(const std::vector<int64_t>& runs);
  void onRunRequested(const QString& configJson);
  void onResumeRequested(qint64 runId);
  bool prepareToTrain();  // false (with a message) while a run trains; otherwise shows progress, Pause, Cancel
  void onProgress(qint64 step, qint64 total, double elapsed, double eta, double loss);
  void onFinished(qint64 runId, const QString& status, const QString& message);
  void poll();
  void rememberDatabase(const QString& path);
  void updateRecentMenu();

  QString m_dbPath;
  QString m_lastBackgroundError;  // reportBackgroundError says a repeating error once
  std::shared_ptr<core::RunStore> m_store;
  EngineBridge* m_engine;
  ExperimentEditor* m_editor;
  RunBrowser* m_browser;
  CurvesView* m_curves;
  SelectivityView* m_selectivity;
  EvalCurvesView* m_evalCurves;
  ForgettingView* m_forgetting;
  QPalette m_desktopPalette;  // the platform's palette at start: what "follow the desktop" restores
  CompareView* m_compare;
  SweepView* m_sweep;
  QTextEdit* m_log;
  QProgressBar* m_progress;
  QLabel* m_eta;
  QPushButton *m_pause, *m_cancel;
  QTimer* m_pollTimer;
  QMenu* m_recentMenu = nullptr;
  QProcess* m_sweepProcess = nullptr;
  CloseChoice m_closeChoice = CloseChoice::Ask;
};

}  // namespace continua::ui

#include "ui/main_window.h"

#include "core/store/run_store.h"
#include "ui/about_box.h"
#include "ui/compare_view.h"
#include "ui/curves_view.h"
#include "ui/engine_bridge.h"
#include "ui/eval_curves_view.h"
#include "ui/forgetting_view.h"
#include "ui/guarded_application.h"
#include "ui/experiment_editor.h"
#include "ui/plot_style.h"
#include "ui/report_dialog.h"
#include "ui/run_browser.h"
#include "ui/selectivity_view.h"
#include "ui/sweep_dialog.h"
#include "ui/sweep_view.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QDesktopServices>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QStatusBar>
#include <QStyleFactory>
#include <QTextEdit>
#include <QThread>
#include <QActionGroup>
#include <QTimer>
#include <QUndoStack>
#include <QUrl>

namespace continua::ui {

namespace {
QDockWidget* dock(QMainWindow* w, const QString& title, const QString& name, QWidget* content, Qt::DockWidgetArea area) {
  auto* d = new QDockWidget(title, w);
  d->setObjectName(name);  // saveState() needs unique object names
  d->setWidget(content);
  w->addDockWidget(area, d);
  return d;
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), m_desktopPalette(qApp->palette()) {
  setWindowTitle("Continua");
  setWindowIcon(applicationIcon());
  if (auto* app = GuardedApplication::instance())
    connect(app, &GuardedApplication::handlerFailed, this, &MainWindow::reportBackgroundError);
  setAcceptDrops(true);
  setDockNestingEnabled(true);
  m_engine = new EngineBridge(this);
  m_editor = new ExperimentEditor;
  m_browser = new RunBrowser;
  m_curves = new CurvesView;
  m_selectivity = new SelectivityView;
  m_evalCurves = new EvalCurvesView;
  m_forgetting = new ForgettingView;
  m_compare = new CompareView;
  m_sweep = new SweepView;
  m_log = new QTextEdit;
  m_log->setObjectName("log");
  m_log->setReadOnly(true);
  buildDocks();
  buildMenus();

  m_progress = new QProgressBar;
  m_progress->setMaximumWidth(260);
  m_progress->hide();
  m_eta = new QLabel;
  m_pause = new QPushButton("Pause");
  m_pause->setCheckable(true);
  m_pause->hide();
  m_cancel = new QPushButton("Cancel run");
  m_cancel->hide();
  statusBar()->addPermanentWidget(m_eta);
  statusBar()->addPermanentWidget(m_progress);
  statusBar()->addPermanentWidget(m_pause);
  statusBar()->addPermanentWidget(m_cancel);

  connect(m_browser, &RunBrowser::selectionChanged, this, &MainWindow::onSelection);
  connect(m_browser, &RunBrowser::errorOccurred, this, &MainWindow::showError);
  connect(m_browser, &RunBrowser::refreshFailed, this, &MainWindow::reportBackgroundError);
  connect(m_browser, &RunBrowser::resumeRequested, this, &MainWindow::onResumeRequested);
  connect(m_editor, &ExperimentEditor::runRequested, this, &MainWindow::onRunRequested);
  connect(m_browser, &RunBrowser::writableStoreNeeded, this, &MainWindow::upgradeStore, Qt::DirectConnection);
  connect(m_editor, &ExperimentEditor::errorOccurred, this, &MainWindow::showError);
  connect(m_engine, &EngineBridge::runCreated, this, [this](qint64 id) {
    m_browser->refresh();
    m_browser->selectRun(id);
    statusBar()->showMessage(QString("run %1 training").arg(id), 5000);  // replaces the empty-database hint
    m_log->append(QString("run %1 started").arg(id));
  });
  connect(m_engine, &EngineBridge::progress, this, &MainWindow::onProgress);
  connect(m_engine, &EngineBridge::logLine, m_log, &QTextEdit::append);
  connect(m_engine, &EngineBridge::finished, this, &MainWindow::onFinished);
  connect(m_pause, &QPushButton::toggled, this, [this](bool p) {
    m_engine->setPaused(p);
    m_pause->setText(p ? "Resume" : "Pause");
  });
  connect(m_cancel, &QPushButton::clicked, m_engine, &EngineBridge::cancel);
  // Readers poll the database: new metric points, maps and run states, coalesced into one replot.
  m_pollTimer = new QTimer(this);
  m_pollTimer->setInterval(500);
  connect(m_pollTimer, &QTimer::timeout, this, &MainWindow::poll);
  m_pollTimer->start();

  QSettings s;
  restoreGeometry(s.value("window/geometry").toByteArray());
  restoreState(s.value("window/state").toByteArray());
  const QString theme = themeSetting();
  setDarkTheme(theme == "dark", theme == "system");
}

MainWindow::~MainWindow() = default;

void MainWindow::buildDocks() {
  // Left: the experiment above the run list; right: the plots, full height, one tab each.
  auto* editorDock = dock(this, "Experiment", "dockExperiment", m_editor, Qt::LeftDockWidgetArea);
  auto* runsDock = dock(this, "Runs", "dockRuns", m_browser, Qt::LeftDockWidgetArea);
  auto* logDock = dock(this, "Log", "dockLog", m_log, Qt::LeftDockWidgetArea);
  auto* curvesDock = dock(this, "Live curves", "dockCurves", m_curves, Qt::RightDockWidgetArea);
  auto* mapsDock = dock(this, "Selectivity maps", "dockSelectivity", m_selectivity, Qt::RightDockWidgetArea);
  auto* evalDock = dock(this, "Length generalisation", "dockLength", m_evalCurves, Qt::RightDockWidgetArea);
  auto* forgettingDock = dock(this, "Forgetting", "dockForgetting", m_forgetting, Qt::RightDockWidgetArea);
  auto* compareDock = dock(this, "Compare", "dockCompare", m_compare, Qt::RightDockWidgetArea);
  auto* sweepDock = dock(this, "Sweep", "dockSweep", m_sweep, Qt::RightDockWidgetArea);
  splitDockWidget(editorDock, runsDock, Qt::Vertical);
  tabifyDockWidget(runsDock, logDock);
  tabifyDockWidget(curvesDock, mapsDock);
  tabifyDockWidget(mapsDock, evalDock);
  tabifyDockWidget(evalDock, forgettingDock);
  tabifyDockWidget(forgettingDock, compareDock);
  tabifyDockWidget(compareDock, sweepDock);
  curvesDock->raise();
  runsDock->raise();
  resizeDocks({editorDock, curvesDock}, {560, 1000}, Qt::Horizontal);
  resizeDocks({editorDock, runsDock}, {560, 380}, Qt::Vertical);
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu("&File");
  file->addAction("&Open database...", QKeySequence::Open, this, [this] {
    const QString p = QFileDialog::getOpenFileName(this, "Open run database", QFileInfo(m_dbPath).path(), "Run databases (*.db);;All files (*)");
    if (!p.isEmpty()) openDatabase(p);
  });
  m_recentMenu = file->addMenu("Recent databases");
  updateRecentMenu();
  file->addSeparator();
  file->addAction("&Load experiment...", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), m_editor, &ExperimentEditor::openDialog);
  file->addAction("&Save experiment...", QKeySequence::Save, m_editor, &ExperimentEditor::saveDialog);
  file->addSeparator();
  file->addAction("Export &report...", QKeySequence(Qt::CTRL | Qt::Key_E), this, &MainWindow::exportReport);
  file->addSeparator();
  file->addAction("&Quit", QKeySequence::Quit, this, &QWidget::close);
  QMenu* edit = menuBar()->addMenu("&Edit");
  QAction* undo = m_editor->undoStack()->createUndoAction(this, "&Undo");
  undo->setShortcut(QKeySequence::Undo);
  QAction* redo = m_editor->undoStack()->createRedoAction(this, "&Redo");
  redo->setShortcut(QKeySequence::Redo);
  edit->addAction(undo);
  edit->addAction(redo);
  QMenu* run = menuBar()->addMenu("&Run");
  run->addAction("&Start experiment", QKeySequence(Qt::CTRL | Qt::Key_R), this, [this] {
    if (m_editor->isValid()) onRunRequested(QString::fromStdString(m_editor->config().dump()));
  });
  run->addAction("Start s&weep...", QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R), this, &MainWindow::startSweep);
  run->addAction("&Cancel run", QKeySequence(Qt::CTRL | Qt::Key_Period), m_engine, &EngineBridge::cancel);
  run->addAction("Stop s&weep", this, [this] {
    if (m_sweepProcess && m_sweepProcess->state() != QProcess::NotRunning) m_sweepProcess->terminate();  // runs checkpoint
  });
  run->addAction("&Refresh", QKeySequence::Refresh, this, [this] { m_browser->refresh(); onSelection(m_browser->selectedRuns()); });
  run->addAction("&Tags...", QKeySequence(Qt::CTRL | Qt::Key_T), m_browser, &RunBrowser::editTags);
  run->addAction("&Delete runs...", QKeySequence::Delete, m_browser, &RunBrowser::deleteSelected);
  QMenu* view = menuBar()->addMenu("&View");
  for (QDockWidget* d : findChildren<QDockWidget*>()) view->addAction(d->toggleViewAction());
  view->addSeparator();
  // The desktop's light or dark palette unless the user picks one here (kept in QSettings).
  QMenu* theme = view->addMenu("&Theme");
  auto* themes = new QActionGroup(this);
  for (const auto& [label, key] : std::vector<std::pair<QString, QString>>{{"Follow the &desktop", "system"}, {"&Light", "light"}, {"&Dark", "dark"}}) {
    QAction* a = theme->addAction(label);
    a->setCheckable(true);
    a->setChecked(key == themeSetting());
    a->setObjectName("theme-" + key);
    themes->addAction(a);
    connect(a, &QAction::triggered, this, [this, key] { setTheme(key); });
  }
  QMenu* help = menuBar()->addMenu("&Help");
  help->addAction("&About Continua", this, [this] {
    QMessageBox* about = makeAboutBox(this);
    about->setAttribute(Qt::WA_DeleteOnClose);
    about->open();
  });
}

bool MainWindow::saveScreenshots(const QString& dir) {
  QDir().mkpath(dir);
  const std::vector<std::pair<const char*, const char*>> views{{"dockCurves", "workbench"}, {"dockSelectivity", "selectivity-maps"},
                                                               {"dockLength", "length-generalisation"},
                                                               {"dockForgetting", "forgetting"}, {"dockCompare", "compare"},
                                                               {"dockSweep", "sweep"}};
  bool ok = true;
  for (const auto& [dockName, file] : views) {
    auto* d = findChild<QDockWidget*>(dockName);
    if (!d) continue;
    d->raise();
    for (int i = 0; i < 20; ++i) QApplication::processEvents();  // let coalesced replots run
    QThread::msleep(100);
    QApplication::processEvents();
    ok = grab().save(dir + "/" + file + ".png") && ok;
  }
  std::unique_ptr<QMessageBox> about(makeAboutBox(this));
  about->show();
  for (int i = 0; i < 20; ++i) QApplication::processEvents();
  ok = about->grab().save(dir + "/about.png") && ok;
  return ok;
}

QString MainWindow::themeSetting() {
  QSettings s;
  if (s.contains("window/theme")) return s.value("window/theme").toString();
  return s.value("window/dark", false).toBool() ? "dark" : "system";  // the setting of earlier versions
}

void MainWindow::setTheme(const QString& theme) {
  QSettings().setValue("window/theme", theme);
  setDarkTheme(theme == "dark", theme == "system");
}

void MainWindow::setDarkTheme(bool dark, bool followDesktop) {
  QPalette p = m_desktopPalette;
  if (!followDesktop) qApp->setStyle(QStyleFactory::create("Fusion"));
  if (dark) {
    p.setColor(QPalette::Window, QColor(45, 45, 48));
    p.setColor(QPalette::WindowText, QColor(220, 220, 220));
    p.setColor(QPalette::Base, QColor(30, 30, 32));
    p.setColor(QPalette::AlternateBase, QColor(45, 45, 48));
    p.setColor(QPalette::Text, QColor(220, 220, 220));
    p.setColor(QPalette::Button, QColor(55, 55, 58));
    p.setColor(QPalette::ButtonText, QColor(220, 220, 220));
    p.setColor(QPalette::Highlight, QColor(42, 130, 218));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::ToolTipBase, QColor(55, 55, 58));
    p.setColor(QPalette::ToolTipText, QColor(220, 220, 220));
  } else if (!followDesktop) {
    p = qApp->style()->standardPalette();
  }
  qApp->setPalette(p);
  for (QCustomPlot* plot : findChildren<QCustomPlot*>()) {
    stylePlot(plot);
    plot->replot();
  }
}

bool MainWindow::openDatabase(const QString& path) {
  try {
    // A database of an older Continua is read as it is, so that Continua can still use it, until a change is
    // asked for (upgradeStore); looking at it changes nothing.
    int fileVersion = core::kSchemaVersion;
    if (QFileInfo(path).size() > 0) fileVersion = core::RunStore(path.toStdString(), true).schemaVersion();
    const bool older = fileVersion >= 1 && fileVersion < core::kSchemaVersion;
    auto store = std::make_shared<core::RunStore>(path.toStdString(), older);
    if (older)
      m_log->append(QString("%1 is from an older Continua (schema %2): opened read-only and left as it is until you change "
                            "something (a run, tag, note, rename or delete), which upgrades it to schema %3 and keeps a copy "
                            "of the file as it was.").arg(path.toHtmlEscaped()).arg(fileVersion).arg(core::kSchemaVersion));
    store->markInterruptedRuns();  // (an older file is opened read-only, so nothing is migrated here)
    m_store = store;
    m_dbPath = path;
  } catch (const std::exception& e) {
    showError(e.what());
    return false;
  }
  setWindowTitle("Continua - " + QFileInfo(path).fileName());
  m_lastBackgroundError.clear();
  m_browser->setStore(m_store);
  giveViewsTheStore();
  rememberDatabase(path);
  statusBar()->showMessage("database " + path, 5000);
  const auto runs = m_store->listRuns();
  if (!runs.empty()) m_browser->selectRun(runs.back().id);  // show the newest run straight away
  else statusBar()->showMessage("No runs in " + path + " yet: press Run (Ctrl+R) to train the experiment in the editor.");
  onSelection(m_browser->selectedRuns());
  return true;
}

// Every view but the run list reads the store it is given (the list is given it by openDatabase or upgradeStore).
void MainWindow::giveViewsTheStore() {
  m_curves->setStore(m_store);
  m_selectivity->setStore(m_store);
  m_evalCurves->setStore(m_store);
  m_forgetting->setStore(m_store);
  m_compare->setStore(m_store);
  m_sweep->setStore(m_store);
}

void MainWindow::upgradeStore() {
  if (!m_store || !m_store->readOnly()) return;
  try {
    auto store = std::make_shared<core::RunStore>(m_dbPath.toStdString());
    if (!store->migrationBackup().empty())
      m_log->append("Upgraded " + m_dbPath.toHtmlEscaped() + " to schema " + QString::number(core::kSchemaVersion) +
                    "; the file as it was is kept at " + QString::fromStdString(store->migrationBackup()).toHtmlEscaped());
    m_store = store;
    m_browser->replaceStore(m_store);
    giveViewsTheStore();
  } catch (const std::exception& e) {
    showError(e.what());
  }
}

void MainWindow::rememberDatabase(const QString& path) {
  QSettings s;
  QStringList recent = s.value("recentDatabases").toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > 8) recent.removeLast();
  s.setValue("recentDatabases", recent);
  updateRecentMenu();
}

void MainWindow::updateRecentMenu() {
  if (!m_recentMenu) return;
  m_recentMenu->clear();
  for (const QString& p : QSettings().value("recentDatabases").toStringList())
    m_recentMenu->addAction(p, this, [this, p] { openDatabase(p); });
}

void MainWindow::reportBackgroundError(const QString& message) {
  if (message == m_lastBackgroundError) return;  // cleared by openDatabase
  m_lastBackgroundError = message;
  qWarning("continua: %s", qPrintable(message));  // also on stderr, for a workbench started from a terminal
  m_log->append("<span style='color:#c62828'>" + message.toHtmlEscaped() + "</span>");
  statusBar()->showMessage(message, 10000);
}

void MainWindow::startSweep() {
  if (!m_store) return showError("Open a run database first (File > Open database).");
  if (!m_editor->isValid()) return showError("The experiment in the editor has problems (marked at their fields); fix them first.");
  if (m_sweepProcess && m_sweepProcess->state() != QProcess::NotRunning)
    return showError("A sweep is already running from this window; wait for it or stop it with Run > Stop sweep.");
  SweepDialog dialog(m_editor->config(), m_dbPath, this);
  if (dialog.exec() != QDialog::Accepted) return;
  upgradeStore();
  launchSweep(dialog.sweepFile(), dialog.workers(), dialog.runCount());
}

// `continua-cli sweep run` beside this executable (or on PATH); its lines go to the log, its runs appear in
// the run list as they are created.
void MainWindow::launchSweep(const QString& sweepFile, int workers, int runs) {
  QString cli = qEnvironmentVariable("CONTINUA_CLI");  // else the one installed beside this program, else PATH's
  if (cli.isEmpty()) cli = QCoreApplication::applicationDirPath() + "/continua-cli";
  if (!QFileInfo(cli).isExecutable()) cli = "continua-cli";
  if (!m_sweepProcess) {
    m_sweepProcess = new QProcess(this);
    m_sweepProcess->setProcessChannelMode(QProcess::MergedChannels);
    connect(m_sweepProcess, &QProcess::readyRead, this, [this] {
      while (m_sweepProcess->canReadLine()) m_log->append(QString::fromUtf8(m_sweepProcess->readLine()).trimmed().toHtmlEscaped());
    });
    connect(m_sweepProcess, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
      if (error == QProcess::FailedToStart)
        showError("The sweep could not start: " + m_sweepProcess->program() + " was not found (set CONTINUA_CLI to continua-cli's path).");
    });
    connect(m_sweepProcess, &QProcess::finished, this, [this](int code) {
      m_log->append(QString("sweep ended (exit %1)").arg(code));
      statusBar()->showMessage(code == 0 ? "Sweep finished" : QString("Sweep ended with exit code %1 (see the log)").arg(code), 10000);
      m_browser->refresh();
    });
  }
  m_log->append(QString("starting a sweep of %1 runs, %2 at a time: %3").arg(runs).arg(workers).arg(sweepFile.toHtmlEscaped()));
  m_sweepProcess->start(cli, {"sweep", "run", sweepFile, "--workers", QString::number(workers), "--db", m_dbPath});
  statusBar()->showMessage(QString("Sweep of %1 runs started").arg(runs), 10000);
}

void MainWindow::exportReport() {
  if (!m_store) return showError("Open a run database first (File > Open database).");
  ReportDialog dialog(*m_store, m_browser->selectedRuns(), this);
  if (dialog.exec() != QDialog::Accepted) return;
  const QString path = dialog.markdownPath();
  m_log->append("report written to " + path.toHtmlEscaped());
  statusBar()->showMessage("Report written to " + path, 10000);
  QMessageBox box(QMessageBox::Information, "Export report", "The report is in " + path, QMessageBox::Close, this);
  QPushButton* open = box.addButton("Open", QMessageBox::AcceptRole);
  box.exec();
  if (box.clickedButton() == open) QDesktopServices::openUrl(QUrl::fromLocalFile(path));
}

void MainWindow::showError(const QString& message) {
  qWarning("continua: %s", qPrintable(message));
  m_log->append("<span style='color:#c62828'>" + message.toHtmlEscaped() + "</span>");
  statusBar()->showMessage(message, 10000);
  QMessageBox::warning(this, "Continua", message);
}

void MainWindow::onSelection(const std::vector<int64_t>& runs) {
  m_curves->setRuns(runs);
  m_selectivity->setRun(runs.empty() ? 0 : runs.back());
  m_evalCurves->setRuns(runs);
  m_forgetting->setRun(runs.empty() ? 0 : runs.back());
  m_compare->setRuns(runs);
  m_sweep->setRuns(runs);
}

bool MainWindow::prepareToTrain() {
  if (m_engine->busy()) {
    showError("A run is already training in this window; cancel it or wait for it to finish.");
    return false;
  }
  m_progress->setValue(0);
  m_progress->show();
  m_pause->show();
  m_cancel->show();
  return true;
}

void MainWindow::onRunRequested(const QString& configJson) {
  upgradeStore();  // the run writes the database, which upgrades an older one: the views follow
  if (prepareToTrain()) m_engine->start(m_dbPath, configJson);
}

void MainWindow::onResumeRequested(qint64 runId) {
  upgradeStore();
  if (prepareToTrain()) m_engine->resume(m_dbPath, runId);
}

void MainWindow::onProgress(qint64 step, qint64 total, double, double eta, double loss) {
  m_progress->setMaximum(int(total));
  m_progress->setValue(int(step));
  m_eta->setText(QString("step %1/%2  loss %3  ETA %4:%5")
                     .arg(step).arg(total).arg(loss, 0, 'f', 4).arg(int(eta) / 60).arg(int(eta) % 60, 2, 10, QChar('0')));
}

void MainWindow::onFinished(qint64 runId, const QString& status, const QString& message) {
  m_progress->hide();
  m_pause->hide();
  m_pause->setChecked(false);
  m_cancel->hide();
  m_eta->setText(QString("run %1 %2").arg(runId).arg(status));
  m_log->append(QString("run %1: %2 %3").arg(runId).arg(status, message));
  m_browser->refresh();
  onSelection(m_browser->selectedRuns());
  if (status == "failed" || status == "diverged") showError(QString("Run %1 %2: %3").arg(runId).arg(status, message));
}

void MainWindow::poll() {
  if (!m_store) return;
  m_browser->refresh();
  m_curves->pollNewPoints();
  if (m_engine->busy()) m_selectivity->reload();
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (m_sweepProcess && m_sweepProcess->state() != QProcess::NotRunning) {
    // SIGTERM: the sweep's runs checkpoint and end cancelled (a destroyed QProcess would SIGKILL it).
    m_sweepProcess->terminate();
    m_sweepProcess->waitForFinished(30000);
  }
  if (m_engine->busy()) {
    CloseChoice choice = m_closeChoice;
    if (choice == CloseChoice::Ask) {
      const auto answer = QMessageBox::question(
          this, "A run is training",
          "A run is still training. Cancel it (it keeps a checkpoint and can be resumed) and quit?",
          QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
      choice = answer == QMessageBox::Yes ? CloseChoice::CancelRun : CloseChoice::KeepWindow;
    }
    if (choice == CloseChoice::KeepWindow) {
      e->ignore();
      return;
    }
    m_engine->stopAndWait();  // the engine checkpoints and marks the run cancelled before we go
  }
  QSettings s;
  s.setValue("window/geometry", saveGeometry());
  s.setValue("window/state", saveState());
  e->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* e) {
  if (e->mimeData()->hasUrls()) e->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* e) {
  for (const QUrl& url : e->mimeData()->urls()) {
    const QString p = url.toLocalFile();
    if (p.endsWith(".json")) m_editor->loadFile(p);
    else openDatabase(p);
  }
}

}  // namespace continua::ui

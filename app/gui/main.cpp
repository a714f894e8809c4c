// continua: the workbench. Parses arguments, opens the database, loads the experiment, shows the window.
#include "continua_version.h"
#include "core/util/environment.h"
#include "core/util/paths.h"
#include "ui/about_box.h"
#include "ui/experiment_editor.h"
#include "ui/guarded_application.h"
#include "ui/main_window.h"
#include "ui/run_browser.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTableView>

#include <cstring>

namespace {

struct Options {
  QCommandLineOption db{"db", "Run database to open (default: $CONTINUA_DB, settings file, XDG data directory).", "path"};
  QCommandLineOption preset{"preset", "Load this experiment preset into the editor.", "name"};
  QCommandLineOption shots{"screenshots", "Save a screenshot of each view into this folder, then quit (for docs).", "dir"};
  QCommandLineOption select{"select", "Run ids to select at start, comma separated.", "ids"};
};

void describe(QCoreApplication& app, QCommandLineParser& cli, Options& o) {
  QCoreApplication::setApplicationName("continua");
  QCoreApplication::setOrganizationName("continua");
  QCoreApplication::setApplicationVersion(QString(CONTINUA_VERSION) + " (" CONTINUA_GIT_COMMIT ")");
  cli.setApplicationDescription("Continua workbench: meta-learn sequence models as continual and in-context learners");
  cli.addHelpOption();
  cli.addVersionOption();
  cli.addOptions({o.db, o.preset, o.shots, o.select});
  cli.addPositionalArgument("file", "An experiment .json to load or a run database to open.", "[file]");
  cli.process(app);
}

// --help and --version must work without a display, so they are answered before any GUI exists.
bool onlyWantsText(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    for (const char* flag : {"--help", "-h", "--help-all", "--version", "-v"})
      if (std::strcmp(argv[i], flag) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  continua::core::keepFreedMemoryForReuse();
  Options o;
  if (onlyWantsText(argc, argv)) {
    QCoreApplication app(argc, argv);
    QCommandLineParser cli;
    describe(app, cli, o);  // prints and exits
    return 0;
  }
  continua::ui::GuardedApplication app(argc, argv);
  QCommandLineParser cli;
  describe(app, cli, o);
  QApplication::setWindowIcon(continua::ui::applicationIcon());
  // Lets Wayland compositors and docks match the window to the installed desktop entry and its icon.
  QGuiApplication::setDesktopFileName("org.continua.Continua");

  continua::ui::MainWindow window;
  QString dbPath = cli.value(o.db);
  QString experiment;
  for (const QString& f : cli.positionalArguments()) (f.endsWith(".json") ? experiment : dbPath) = f;
  try {
    dbPath = QString::fromStdString(continua::core::resolveDatabasePath(dbPath.toStdString()).path);
  } catch (const std::exception& e) {
    window.showError(e.what());
  }
  window.openDatabase(dbPath);
  if (cli.isSet(o.preset)) window.editor()->loadPreset(cli.value(o.preset));
  if (!experiment.isEmpty()) window.editor()->loadFile(experiment);
  window.resize(1500, 950);
  window.show();
  if (cli.isSet(o.select)) {
    auto* table = window.runBrowser()->table();
    table->clearSelection();
    table->setSelectionMode(QAbstractItemView::MultiSelection);
    for (const QString& id : cli.value(o.select).split(',')) window.runBrowser()->selectRun(id.toLongLong());
    table->setSelectionMode(QAbstractItemView::ExtendedSelection);
  }
  if (cli.isSet(o.shots)) return window.saveScreenshots(cli.value(o.shots)) ? 0 : 1;
  return app.exec();
}

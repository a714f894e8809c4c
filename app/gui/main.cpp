// continua: the workbench. Parses arguments, opens the database, loads the experiment, shows the window.
#include "continua_version.h"
#include "core/util/paths.h"
#include "ui/main_window.h"
#include "ui/experiment_editor.h"
#include "ui/run_browser.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTableView>

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName("continua");
  QApplication::setOrganizationName("continua");
  QApplication::setApplicationVersion(QString(CONTINUA_VERSION) + " (" CONTINUA_GIT_COMMIT ")");
  QCommandLineParser cli;
  cli.setApplicationDescription("Continua workbench: meta-learn sequence models as continual and in-context learners");
  cli.addHelpOption();
  cli.addVersionOption();
  QCommandLineOption db("db", "Run database to open (default: $CONTINUA_DB, settings file, XDG data directory).", "path");
  QCommandLineOption preset("preset", "Load this experiment preset into the editor.", "name");
  QCommandLineOption shots("screenshots", "Save a screenshot of each view into this folder, then quit (for docs).", "dir");
  QCommandLineOption select("select", "Run ids to select, comma separated (with --screenshots).", "ids");
  cli.addOption(db);
  cli.addOption(shots);
  cli.addOption(select);
  cli.addOption(preset);
  cli.addPositionalArgument("file", "An experiment .json to load or a run database to open.", "[file]");
  cli.process(app);

  continua::ui::MainWindow window;
  QString dbPath = cli.value(db);
  QString experiment;
  for (const QString& f : cli.positionalArguments()) (f.endsWith(".json") ? experiment : dbPath) = f;
  try {
    dbPath = QString::fromStdString(continua::core::resolveDatabasePath(dbPath.toStdString()).path);
  } catch (const std::exception& e) {
    window.showError(e.what());
  }
  window.openDatabase(dbPath);
  if (cli.isSet(preset)) window.editor()->loadPreset(cli.value(preset));
  if (!experiment.isEmpty()) window.editor()->loadFile(experiment);
  window.resize(1500, 950);
  window.show();
  if (cli.isSet(shots)) {
    if (cli.isSet(select)) {
      auto* browser = window.runBrowser();
      browser->table()->clearSelection();
      browser->table()->setSelectionMode(QAbstractItemView::MultiSelection);
      for (const QString& id : cli.value(select).split(',')) browser->selectRun(id.toLongLong());
      browser->table()->setSelectionMode(QAbstractItemView::ExtendedSelection);
    }
    return window.saveScreenshots(cli.value(shots)) ? 0 : 1;
  }
  return app.exec();
}

#include "ui/sweep_dialog.h"

#include "core/config/sweep.h"
#include "core/util/errors.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>

namespace continua::ui {
using nlohmann::json;

namespace {

bool writeText(const QString& path, const std::string& text) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(QByteArray::fromStdString(text)) == qint64(text.size());
}

QString safeName(QString name) {
  for (QChar& c : name)
    if (!c.isLetterOrNumber() && c != '-' && c != '_') c = '_';
  return name.isEmpty() ? "sweep" : name;
}

}  // namespace

SweepDialog::SweepDialog(json experiment, QString databasePath, QWidget* parent)
    : QDialog(parent), m_experiment(std::move(experiment)), m_database(std::move(databasePath)) {
  setWindowTitle("Start sweep");
  setMinimumWidth(620);
  m_name = new QLineEdit(QString::fromStdString(m_experiment.value("name", "experiment")) + "-sweep", this);
  m_grid = new QPlainTextEdit(this);
  m_grid->setObjectName("sweepGrid");
  m_grid->setPlaceholderText("one line per field: key = value, value, ...\n"
                             "selectivity.lambda = 0, 0.5, 1\nmodel.family = mamba, transformer");
  m_grid->setPlainText("selectivity.lambda = 0, 1\n");
  m_seeds = new QLineEdit("0, 1, 2", this);
  m_workers = new QSpinBox(this);
  m_workers->setRange(1, 256);
  m_workers->setValue(std::max(1, QThread::idealThreadCount() / std::max(1, m_experiment.value("threads", 1))));
  auto* form = new QFormLayout(this);
  auto* intro = new QLabel("Every combination of the values below runs once per seed, starting from the experiment in the editor. "
                           "Any field can take a list: one line per field.", this);
  intro->setWordWrap(true);
  form->addRow(intro);
  form->addRow("Sweep name", m_name);
  form->addRow("Values", m_grid);
  form->addRow("Seeds", m_seeds);
  form->addRow("Runs at once", m_workers);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText("Start sweep");
  form->addRow(buttons);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    if (prepare()) accept();
    else QMessageBox::warning(this, "Start sweep", m_error);
  });
}

void SweepDialog::setName(const QString& name) { m_name->setText(name); }
void SweepDialog::setGrid(const QString& lines) { m_grid->setPlainText(lines); }
void SweepDialog::setSeeds(const QString& seeds) { m_seeds->setText(seeds); }
void SweepDialog::setWorkers(int workers) { m_workers->setValue(workers); }
int SweepDialog::workers() const { return m_workers->value(); }

bool SweepDialog::prepare() {
  try {
    const QString name = m_name->text().trimmed();
    if (name.isEmpty()) throw core::ConfigError("the sweep needs a name");
    json spec = {{"name", name.toStdString()}, {"grid", core::parseGridLines(m_grid->toPlainText().toStdString())},
                 {"seeds", core::parseSeeds(m_seeds->text().toStdString())}};
    const QString folder = m_database + ".sweeps";
    QDir().mkpath(folder);
    const QString base = folder + "/" + safeName(name) + ".experiment.json";
    json experiment = m_experiment;
    experiment.erase("name");
    experiment.erase("seed");
    experiment.erase("sweep");
    spec["experiment"] = QFileInfo(base).fileName().toStdString();  // beside the sweep file
    if (!writeText(base, experiment.dump(2))) throw core::ConfigError("cannot write " + base.toStdString());
    m_runs = int(core::expandSweep(spec, folder.toStdString(), "the sweep").points.size());
    m_sweepFile = folder + "/" + safeName(name) + ".sweep.json";
    if (!writeText(m_sweepFile, spec.dump(2))) throw core::ConfigError("cannot write " + m_sweepFile.toStdString());
    m_error.clear();
    return true;
  } catch (const std::exception& e) {
    m_error = e.what();
    return false;
  }
}

}  // namespace continua::ui

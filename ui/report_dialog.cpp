#include "ui/report_dialog.h"

#include "core/report/report.h"

#include <QApplication>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>

#include <functional>

namespace continua::ui {

namespace {

QWidget* withBrowse(QLineEdit* edit, const std::function<QString()>& choose, QWidget* parent) {
  auto* row = new QWidget(parent);
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(edit);
  auto* browse = new QPushButton("Browse...", row);
  QObject::connect(browse, &QPushButton::clicked, row, [edit, choose] {
    const QString picked = choose();
    if (!picked.isEmpty()) edit->setText(picked);
  });
  layout->addWidget(browse);
  return row;
}

}  // namespace

ReportDialog::ReportDialog(const core::RunStore& store, std::vector<int64_t> selected, QWidget* parent)
    : QDialog(parent), m_store(store), m_selected(std::move(selected)) {
  setWindowTitle("Export report");
  setMinimumWidth(600);
  QSettings settings;
  m_folder = new QLineEdit(settings.value("report/folder", QDir::home().filePath("continua-report")).toString(), this);
  m_claims = new QLineEdit(settings.value("report/claims").toString(), this);
  m_claims->setPlaceholderText("optional: a claims file (docs/experiments/claims-*.json)");
  m_title = new QLineEdit("Continua report", this);
  m_selectedOnly = new QCheckBox(QString("Only the %1 selected runs").arg(m_selected.size()), this);
  m_selectedOnly->setChecked(!m_selected.empty());
  m_selectedOnly->setEnabled(!m_selected.empty());
  auto* form = new QFormLayout(this);
  form->addRow("Folder", withBrowse(m_folder, [this] { return QFileDialog::getExistingDirectory(this, "Report folder", m_folder->text()); }, this));
  form->addRow("Claims", withBrowse(m_claims, [this] {
    return QFileDialog::getOpenFileName(this, "Claims file", QFileInfo(m_claims->text()).path(), "Claims (*.json);;All files (*)");
  }, this));
  form->addRow("Title", m_title);
  form->addRow("", m_selectedOnly);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText("Write report");
  form->addRow(buttons);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    if (writeReport()) accept();
    else QMessageBox::warning(this, "Export report", m_error);
  });
}

void ReportDialog::setFolder(const QString& folder) { m_folder->setText(folder); }
void ReportDialog::setClaimsFile(const QString& path) { m_claims->setText(path); }
void ReportDialog::setSelectedOnly(bool only) { m_selectedOnly->setChecked(only && !m_selected.empty()); }

bool ReportDialog::writeReport() {
  core::ReportOptions options;
  options.folder = m_folder->text().trimmed().toStdString();
  options.claimsFile = m_claims->text().trimmed().toStdString();
  options.title = m_title->text().trimmed().isEmpty() ? "Continua report" : m_title->text().trimmed().toStdString();
  QApplication::setOverrideCursor(Qt::WaitCursor);
  try {
    const auto summary = core::writeReport(m_store, m_selectedOnly->isChecked() ? m_selected : std::vector<int64_t>{}, options);
    m_markdown = QString::fromStdString(summary.markdownPath);
    QSettings settings;
    settings.setValue("report/folder", m_folder->text());
    settings.setValue("report/claims", m_claims->text());
    m_error.clear();
  } catch (const std::exception& e) {
    m_error = e.what();
  }
  QApplication::restoreOverrideCursor();
  return m_error.isEmpty();
}

}  // namespace continua::ui

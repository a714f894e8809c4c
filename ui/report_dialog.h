#pragma once
// File > Export report: the same report as `continua-cli report` (core/report/report.h) for the selected
// runs, or every run, into a folder the user picks, with an optional claims file; then offers to open it.
#include <QDialog>

#include <cstdint>
#include <vector>

class QCheckBox;
class QLineEdit;

namespace continua::core {
class RunStore;
}

namespace continua::ui {

class ReportDialog : public QDialog {
  Q_OBJECT
 public:
  ReportDialog(const core::RunStore& store, std::vector<int64_t> selected, QWidget* parent = nullptr);
  void setFolder(const QString& folder);
  void setClaimsFile(const QString& path);
  void setSelectedOnly(bool only);
  // Writes the report; on failure the message is in lastError() and the dialog stays open.
  bool writeReport();
  QString lastError() const { return m_error; }
  QString markdownPath() const { return m_markdown; }

 private:
  const core::RunStore& m_store;
  std::vector<int64_t> m_selected;
  QLineEdit *m_folder, *m_claims, *m_title;
  QCheckBox* m_selectedOnly;
  QString m_error, m_markdown;
};

}  // namespace continua::ui

#pragma once
// Run > Start sweep: the editor's experiment as the base, a list of values for any field (one line per key),
// seeds and parallel workers. The sweep is checked as `continua-cli sweep run` checks it (every run validated)
// before anything starts, written beside the database, and run there by `continua-cli sweep run`.
#include <QDialog>

#include <nlohmann/json.hpp>

class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace continua::ui {

class SweepDialog : public QDialog {
  Q_OBJECT
 public:
  SweepDialog(nlohmann::json experiment, QString databasePath, QWidget* parent = nullptr);
  void setName(const QString& name);
  void setGrid(const QString& lines);
  void setSeeds(const QString& seeds);
  void setWorkers(int workers);
  // Validates and writes <db>.sweeps/<name>.sweep.json (and its base experiment); false with lastError() set.
  bool prepare();
  QString sweepFile() const { return m_sweepFile; }
  int workers() const;
  int runCount() const { return m_runs; }
  QString lastError() const { return m_error; }

 private:
  nlohmann::json m_experiment;
  QString m_database, m_sweepFile, m_error;
  int m_runs = 0;
  QLineEdit *m_name, *m_seeds;
  QPlainTextEdit* m_grid;
  QSpinBox* m_workers;
};

}  // namespace continua::ui

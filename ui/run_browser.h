#pragma once
// Run browser: every run in the database with search, status filter, multi-select, rename (edit the name),
// tags, notes and delete (with confirmation). Emits the selection for the other views.
#include "ui/run_table_model.h"

#include <QWidget>

class QLineEdit;
class QComboBox;
class QTableView;
class QSortFilterProxyModel;

namespace continua::ui {

class RunBrowser : public QWidget {
  Q_OBJECT
 public:
  explicit RunBrowser(QWidget* parent = nullptr);
  void setStore(std::shared_ptr<core::RunStore> store);
  // The same database reopened (e.g. for writing): keeps the selection and the list as they are.
  void replaceStore(std::shared_ptr<core::RunStore> store) { m_store = std::move(store); }
  std::vector<int64_t> selectedRuns() const;
  void selectRun(int64_t id);
  QTableView* table() const { return m_table; }

 public slots:
  void refresh();
  void editTags();
  void applyTags(const QString& commaSeparated);  // "a, b, -c" on the selected runs
  void editNotes();
  void deleteSelected();

 signals:
  void selectionChanged(const std::vector<int64_t>& runs);
  void resumeRequested(qint64 runId);
  void errorOccurred(const QString& message);  // an action the user asked for failed
  void refreshFailed(const QString& message);  // reading the run list failed (refresh runs on a timer)
  // The store is read-only (an older schema, kept as it is until a change is asked for): whoever owns the
  // store reopens it for writing and calls setStore before this returns (a direct connection).
  void writableStoreNeeded();

 private:
  void showContextMenu(const QPoint& pos);
  bool writable();  // asks for a writable store when needed; false when there is none
  std::shared_ptr<core::RunStore> m_store;
  RunTableModel* m_model;
  QSortFilterProxyModel* m_proxy;
  QTableView* m_table;
  QLineEdit* m_search;
  QComboBox* m_status;
};

}  // namespace continua::ui

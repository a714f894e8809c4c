#pragma once
// Table model over the run store's run list: name, status, model, task, progress, key metrics, tags,
// created, duration. Refreshed from the database on request (cheap: it reads the latest-value table).
#include "core/store/run_store.h"

#include <QAbstractTableModel>

namespace continua::ui {

class RunTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Id, Name, Status, Model, Task, Progress, TestAccuracy, TestLoss, Tags, Created, Duration, Sweep, ColumnCount };
  using QAbstractTableModel::QAbstractTableModel;

  void setRuns(std::vector<core::RunSummary> runs);   // keeps selection when the rows are the same runs
  void resetRuns(std::vector<core::RunSummary> runs);  // always a full reset (a different database)
  const core::RunSummary* runAt(int row) const;
  int rowOf(int64_t id) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;

 signals:
  void renameRequested(qint64 runId, const QString& name);

 private:
  std::vector<core::RunSummary> m_runs;
};

}  // namespace continua::ui

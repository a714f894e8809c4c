#include "ui/run_table_model.h"

#include <QColor>
#include <QDateTime>

#include <cmath>

namespace continua::ui {

void RunTableModel::setRuns(std::vector<core::RunSummary> runs) {
  // Same rows as before: update in place so selection and scrolling survive the periodic refresh.
  bool sameIds = runs.size() == m_runs.size();
  for (size_t i = 0; sameIds && i < runs.size(); ++i) sameIds = runs[i].id == m_runs[i].id;
  if (sameIds) {
    m_runs = std::move(runs);
    if (!m_runs.empty()) emit dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
    return;
  }
  beginResetModel();
  m_runs = std::move(runs);
  endResetModel();
}

void RunTableModel::resetRuns(std::vector<core::RunSummary> runs) {
  beginResetModel();
  m_runs = std::move(runs);
  endResetModel();
}

const core::RunSummary* RunTableModel::runAt(int row) const {
  return row >= 0 && row < int(m_runs.size()) ? &m_runs[size_t(row)] : nullptr;
}

int RunTableModel::rowOf(int64_t id) const {
  for (size_t i = 0; i < m_runs.size(); ++i)
    if (m_runs[i].id == id) return int(i);
  return -1;
}

int RunTableModel::rowCount(const QModelIndex& p) const { return p.isValid() ? 0 : int(m_runs.size()); }
int RunTableModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : ColumnCount; }

namespace {
QString number(double v) { return std::isnan(v) ? QString("-") : QString::number(v, 'g', 4); }
QString duration(const core::RunSummary& r) {
  if (r.started <= 0) return "-";
  const double end = r.finished > 0 ? r.finished : QDateTime::currentSecsSinceEpoch();
  const int s = int(end - r.started);
  return QString("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}
QColor statusColor(const std::string& s) {
  if (s == "running") return QColor(30, 120, 220);
  if (s == "finished") return QColor(40, 150, 60);
  if (s == "failed" || s == "diverged") return QColor(200, 40, 40);
  if (s == "interrupted" || s == "cancelled") return QColor(200, 130, 20);
  return {};
}
}  // namespace

QVariant RunTableModel::data(const QModelIndex& index, int role) const {
  const core::RunSummary* r = runAt(index.row());
  if (!r) return {};
  if (role == Qt::ForegroundRole && index.column() == Status) return statusColor(r->status);
  if (role == Qt::ToolTipRole) return QString::fromStdString(r->error.empty() ? r->notes : r->error);
  if (role == Qt::UserRole) return qint64(r->id);
  if (role != Qt::DisplayRole && role != Qt::EditRole) return {};
  switch (index.column()) {
    case Id: return qint64(r->id);
    case Name: return QString::fromStdString(r->name);
    case Status: return QString::fromStdString(r->status);
    case Model: return QString::fromStdString(r->model);
    case Task: return QString::fromStdString(r->task);
    case Progress: return QString("%1/%2").arg(r->step).arg(r->totalSteps);
    case TestAccuracy: return number(r->keyMetric().second);
    case TestLoss: return number(r->latestValue("test/loss"));
    case Tags: {
      QStringList t;
      for (const auto& g : r->tags) t << QString::fromStdString(g);
      return t.join(", ");
    }
    case Created: return QDateTime::fromSecsSinceEpoch(qint64(r->created)).toString("yyyy-MM-dd hh:mm");
    case Duration: return duration(*r);
    case Sweep: return QString::fromStdString(r->sweep);  // the search box filters on it too
  }
  return {};
}

QVariant RunTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"Id", "Name", "Status", "Model", "Task", "Step", "Test acc./error", "Test loss", "Tags", "Created", "Duration", "Sweep"};
  return names[section];
}

Qt::ItemFlags RunTableModel::flags(const QModelIndex& index) const {
  auto f = QAbstractTableModel::flags(index);
  return index.column() == Name ? f | Qt::ItemIsEditable : f;
}

bool RunTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  const core::RunSummary* r = runAt(index.row());
  if (!r || role != Qt::EditRole || index.column() != Name) return false;
  emit renameRequested(r->id, value.toString());
  return true;
}

}  // namespace continua::ui

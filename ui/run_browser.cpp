#include "ui/run_browser.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace continua::ui {

RunBrowser::RunBrowser(QWidget* parent) : QWidget(parent) {
  m_model = new RunTableModel(this);
  m_proxy = new QSortFilterProxyModel(this);
  m_proxy->setSourceModel(m_model);
  m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
  m_proxy->setFilterKeyColumn(-1);
  m_table = new QTableView(this);
  m_table->setObjectName("runTable");
  m_table->setModel(m_proxy);
  m_table->setSortingEnabled(true);
  m_table->sortByColumn(RunTableModel::Id, Qt::DescendingOrder);
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
  m_table->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
  m_table->horizontalHeader()->setStretchLastSection(true);
  m_table->verticalHeader()->hide();
  m_table->setContextMenuPolicy(Qt::CustomContextMenu);
  m_search = new QLineEdit(this);
  m_search->setPlaceholderText("Search name, model, task, tags...");
  m_search->setClearButtonEnabled(true);
  m_status = new QComboBox(this);
  m_status->addItems({"all", "running", "finished", "failed", "cancelled", "interrupted", "diverged"});
  auto* top = new QHBoxLayout;
  top->addWidget(m_search, 1);
  top->addWidget(m_status);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(2, 2, 2, 2);
  lay->addLayout(top);
  lay->addWidget(m_table);

  connect(m_search, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
  connect(m_status, &QComboBox::currentTextChanged, this, &RunBrowser::refresh);
  connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] { emit selectionChanged(selectedRuns()); });
  connect(m_table, &QWidget::customContextMenuRequested, this, &RunBrowser::showContextMenu);
  connect(m_model, &RunTableModel::renameRequested, this, [this](qint64 id, const QString& name) {
    if (!writable()) return;
    try {
      m_store->rename(id, name.toStdString());
      refresh();
    } catch (const std::exception& e) {
      emit errorOccurred(e.what());
    }
  });
}

void RunBrowser::setStore(std::shared_ptr<core::RunStore> store) {
  m_store = std::move(store);
  // Another database: run ids may coincide with the old ones, so never carry the selection over.
  m_table->clearSelection();
  m_model->resetRuns({});
  refresh();
}

void RunBrowser::refresh() {
  if (!m_store) return;
  try {
    core::RunFilter f;
    if (m_status->currentText() != "all") f.status = m_status->currentText().toStdString();
    m_model->setRuns(m_store->listRuns(f));
  } catch (const std::exception& e) {
    emit refreshFailed(e.what());
  }
}

std::vector<int64_t> RunBrowser::selectedRuns() const {
  std::vector<int64_t> ids;
  for (const QModelIndex& i : m_table->selectionModel()->selectedRows()) ids.push_back(i.data(Qt::UserRole).toLongLong());
  std::sort(ids.begin(), ids.end());
  return ids;
}

void RunBrowser::selectRun(int64_t id) {
  const int row = m_model->rowOf(id);
  if (row < 0) return;
  m_table->selectRow(m_proxy->mapFromSource(m_model->index(row, 0)).row());
}

void RunBrowser::editTags() {
  auto ids = selectedRuns();
  if (ids.empty() || !m_store) return;
  bool ok = false;
  const QString text = QInputDialog::getText(this, "Tags", "Tags (comma separated; prefix with - to remove):",
                                             QLineEdit::Normal, {}, &ok);
  if (ok) applyTags(text);
}

bool RunBrowser::writable() {
  if (m_store && m_store->readOnly()) emit writableStoreNeeded();
  return m_store && !m_store->readOnly();
}

void RunBrowser::applyTags(const QString& text) {
  const auto ids = selectedRuns();
  if (ids.empty() || !writable()) return;
  try {
    for (int64_t id : ids)
      for (QString t : text.split(',', Qt::SkipEmptyParts)) {
        t = t.trimmed();
        if (t.startsWith('-')) m_store->removeTag(id, t.mid(1).toStdString());
        else m_store->addTag(id, t.toStdString());
      }
  } catch (const std::exception& e) {
    emit errorOccurred(e.what());
  }
  refresh();
}

void RunBrowser::editNotes() {
  auto ids = selectedRuns();
  if (ids.size() != 1 || !m_store) return;
  const core::RunSummary* r = m_model->runAt(m_model->rowOf(ids[0]));
  bool ok = false;
  const QString text = QInputDialog::getMultiLineText(this, "Notes", "Notes for run " + QString::number(ids[0]) + ":",
                                                      r ? QString::fromStdString(r->notes) : QString(), &ok);
  if (!ok || !writable()) return;
  try {
    m_store->setNotes(ids[0], text.toStdString());
  } catch (const std::exception& e) {
    emit errorOccurred(e.what());
  }
  refresh();
}

void RunBrowser::deleteSelected() {
  auto ids = selectedRuns();
  if (ids.empty() || !m_store) return;
  if (QMessageBox::question(this, "Delete runs",
                            QString("Delete %1 run(s) with their metrics, maps and checkpoint files?").arg(ids.size())) !=
      QMessageBox::Yes)
    return;
  if (!writable()) return;
  try {
    for (int64_t id : ids) m_store->deleteRun(id);
  } catch (const std::exception& e) {
    emit errorOccurred(e.what());
  }
  refresh();
}

void RunBrowser::showContextMenu(const QPoint& pos) {
  QMenu menu(this);
  menu.addAction("Rename", this, [this] { m_table->edit(m_table->currentIndex().siblingAtColumn(RunTableModel::Name)); });
  menu.addAction("Tags...", this, &RunBrowser::editTags);
  menu.addAction("Notes...", this, &RunBrowser::editNotes);
  auto ids = selectedRuns();
  if (ids.size() == 1) {
    const core::RunSummary* r = m_model->runAt(m_model->rowOf(ids[0]));
    if (r && (r->status == "interrupted" || r->status == "cancelled"))
      menu.addAction("Resume", this, [this, id = ids[0]] { emit resumeRequested(id); });
  }
  menu.addSeparator();
  menu.addAction("Delete...", this, &RunBrowser::deleteSelected);
  menu.exec(m_table->viewport()->mapToGlobal(pos));
}

}  // namespace continua::ui

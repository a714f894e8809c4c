#include "ui/compare_view.h"

#include "core/store/run_groups.h"
#include "ui/plot_bands.h"
#include "ui/plot_controls.h"
#include "ui/plot_export.h"
#include "ui/plot_style.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>

#include <cmath>
#include <map>

namespace continua::ui {

namespace {
void fillTable(QTableWidget* t, const std::vector<int64_t>& runs, const std::vector<std::vector<std::string>>& rows) {
  t->clear();
  t->setColumnCount(int(runs.size()) + 1);
  t->setRowCount(int(rows.size()));
  QStringList header{"key"};
  for (int64_t id : runs) header << QString("run %1").arg(id);
  t->setHorizontalHeaderLabels(header);
  for (int r = 0; r < int(rows.size()); ++r)
    for (int c = 0; c < int(rows[size_t(r)].size()); ++c)
      t->setItem(r, c, new QTableWidgetItem(QString::fromStdString(rows[size_t(r)][size_t(c)])));
  t->resizeColumnsToContents();
}
}  // namespace

CompareView::CompareView(QWidget* parent) : QWidget(parent) {
  m_config = new QTableWidget(this);
  m_config->setObjectName("compareConfigTable");
  m_metrics = new QTableWidget(this);
  m_metrics->setObjectName("compareMetricsTable");
  for (auto* t : {m_config, m_metrics}) {
    t->setEditTriggers(QAbstractItemView::NoEditTriggers);
    t->verticalHeader()->hide();
  }
  m_showAll = new QCheckBox("show all keys", this);
  m_groupSeeds = new QCheckBox("group runs that differ only by seed (mean +- std)", this);
  m_metric = new QComboBox(this);
  m_metric->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  m_plot = newLinePlot(this, "comparePlot");
  m_controls = new PlotControls(m_plot, "compare", "compare", this);
  m_groupSeeds->setChecked(m_controls->setting("groupSeeds", false).toBool());
  auto* bar = new QHBoxLayout;
  bar->addWidget(m_showAll);
  bar->addWidget(m_groupSeeds);
  bar->addStretch();
  bar->addWidget(new QLabel("Metric:"));
  bar->addWidget(m_metric);
  m_controls->addTo(bar);
  auto* tables = new QSplitter(Qt::Horizontal, this);
  tables->addWidget(m_config);
  tables->addWidget(m_metrics);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(tables);
  split->addWidget(m_plot);
  layOutBelowToolbar(this, bar, split);
  connect(m_showAll, &QCheckBox::toggled, this, &CompareView::reload);
  connect(m_groupSeeds, &QCheckBox::toggled, this, [this](bool on) {
    m_controls->setSetting("groupSeeds", on);
    drawCurves();
  });
  connect(m_metric, &QComboBox::currentTextChanged, this, [this] {
    m_controls->resetView();
    drawCurves();
  });
  connect(m_controls, &PlotControls::scalesChanged, this, &CompareView::drawCurves);
  m_controls->hoverOverNamedGraphs("step");
}

void CompareView::setStore(std::shared_ptr<core::RunStore> store) {
  m_store = std::move(store);
  m_runs.clear();
  reload();
}

void CompareView::setRuns(const std::vector<int64_t>& runs) {
  m_runs = runs;
  reload();
}

QStringList CompareView::shownConfigKeys() const {
  QStringList keys;
  for (int r = 0; r < m_config->rowCount(); ++r) keys << m_config->item(r, 0)->text();
  return keys;
}

void CompareView::reload() {
  if (!m_store || m_runs.size() < 2) {
    m_config->clear();
    m_config->setRowCount(0);
    m_metrics->clear();
    m_metrics->setRowCount(0);
    m_plot->clearGraphs();
    m_plot->replot();
    return;
  }
  try {
    core::RunComparison c = core::compareRuns(*m_store, m_runs, m_showAll->isChecked());
    fillTable(m_config, m_runs, c.config);
    fillTable(m_metrics, m_runs, c.metrics);
    const QString keep = m_metric->currentText();
    QSignalBlocker block(m_metric);
    m_metric->clear();
    for (const auto& row : c.metrics) m_metric->addItem(QString::fromStdString(row[0]));
    m_metric->setCurrentText(m_metric->findText(keep) >= 0 ? keep : "test/accuracy");
  } catch (const std::exception& e) {
    m_config->clear();
  }
  drawCurves();
}

void CompareView::drawCurves() {
  m_plot->clearGraphs();
  m_plot->clearPlottables();
  if (!m_store || m_runs.size() < 2) { m_plot->replot(); return; }
  const std::string key = m_metric->currentText().toStdString();
  std::vector<std::vector<int64_t>> groups;
  if (m_groupSeeds->isChecked()) groups = core::groupIgnoringSeed(*m_store, m_runs);
  else
    for (int64_t id : m_runs) groups.push_back({id});
  int colour = 0;
  for (const auto& ids : groups) {
    std::vector<std::map<double, double>> series;
    for (int64_t id : ids) {
      std::map<double, double> s;
      for (const auto& p : m_store->metrics(id, key)) s[double(p.step)] = p.value;
      series.push_back(std::move(s));
    }
    QString label;
    for (int64_t id : ids) label += (label.isEmpty() ? "run " : ", ") + QString::number(id);
    if (ids.size() > 1) label += QString(" (mean +- std of %1)").arg(ids.size());
    addMeanBand(m_plot, meanAndSpread(series), seriesColor(colour++), label);
  }
  m_plot->xAxis->setLabel("step");
  m_plot->yAxis->setLabel(QString::fromStdString(key));
  m_controls->finishReplot();
  m_plot->replot();
}

}  // namespace continua::ui

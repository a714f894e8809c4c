#include "ui/compare_view.h"

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
#include <QVBoxLayout>

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
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName("comparePlot");
  m_plot->legend->setVisible(true);
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  auto* exportButton = new QPushButton("Export...", this);
  auto* bar = new QHBoxLayout;
  bar->addWidget(m_showAll);
  bar->addWidget(m_groupSeeds);
  bar->addStretch();
  bar->addWidget(new QLabel("Metric:"));
  bar->addWidget(m_metric);
  bar->addWidget(exportButton);
  auto* tables = new QSplitter(Qt::Horizontal, this);
  tables->addWidget(m_config);
  tables->addWidget(m_metrics);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(tables);
  split->addWidget(m_plot);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(2, 2, 2, 2);
  lay->addLayout(bar);
  lay->addWidget(split, 1);
  connect(m_showAll, &QCheckBox::toggled, this, &CompareView::reload);
  connect(m_groupSeeds, &QCheckBox::toggled, this, &CompareView::drawCurves);
  connect(m_metric, &QComboBox::currentTextChanged, this, &CompareView::drawCurves);
  connect(exportButton, &QPushButton::clicked, this, [this] { exportPlotInteractively(this, m_plot, "compare"); });
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
  // Group runs whose configs are equal except for the seed (and name).
  std::map<std::string, std::vector<int64_t>> groups;
  for (int64_t id : m_runs) {
    std::string signature = std::to_string(id);
    if (m_groupSeeds->isChecked()) {
      auto rec = m_store->getRun(id);
      nlohmann::json cfg = rec ? rec->config : nlohmann::json();
      cfg.erase("seed");
      cfg.erase("name");
      signature = cfg.dump();
    }
    groups[signature].push_back(id);
  }
  int colour = 0;
  for (const auto& [sig, ids] : groups) {
    std::map<int64_t, std::vector<double>> byStep;
    for (int64_t id : ids)
      for (const auto& p : m_store->metrics(id, key))
        if (std::isfinite(p.value)) byStep[p.step].push_back(p.value);
    QVector<double> x, mean, lo, hi;
    for (const auto& [step, vals] : byStep) {
      double m = 0, v = 0;
      for (double d : vals) m += d;
      m /= vals.size();
      for (double d : vals) v += (d - m) * (d - m);
      const double sd = vals.size() > 1 ? std::sqrt(v / (vals.size() - 1)) : 0.0;
      x << double(step); mean << m; lo << m - sd; hi << m + sd;
    }
    const QColor col = seriesColor(colour++);
    QString label;
    for (int64_t id : ids) label += (label.isEmpty() ? "run " : ", ") + QString::number(id);
    if (ids.size() > 1) {
      QCPGraph* low = m_plot->addGraph();
      low->setData(x, lo, true);
      low->setPen(Qt::NoPen);
      low->removeFromLegend();
      QCPGraph* high = m_plot->addGraph();
      high->setData(x, hi, true);
      high->setPen(Qt::NoPen);
      QColor band = col;
      band.setAlpha(50);
      high->setBrush(band);
      high->setChannelFillGraph(low);
      high->removeFromLegend();
      label += QString(" (mean of %1)").arg(ids.size());
    }
    QCPGraph* g = m_plot->addGraph();
    g->setData(x, mean, true);
    g->setPen(QPen(col, 2));
    g->setName(label);
  }
  m_plot->xAxis->setLabel("step");
  m_plot->yAxis->setLabel(QString::fromStdString(key));
  m_plot->rescaleAxes();
  m_plot->replot();
}

}  // namespace continua::ui

#include "ui/sweep_view.h"

#include "core/report/canvas.h"
#include "core/store/run_export.h"
#include "core/store/run_store.h"
#include "ui/plot_controls.h"
#include "ui/plot_style.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace continua::ui {

namespace {

// One axis: a parameter's value in each run, placed on [0, 1] (numbers linearly, text by sorted category).
struct ParallelAxis {
  QString name;
  std::vector<double> position;  // per run, in [0, 1]; NaN when the run lacks it
  QString low, high;             // the labels at the bottom and the top
  std::vector<std::pair<double, QString>> categories;  // text values and where they sit
};

ParallelAxis axisOf(const QString& name, const std::vector<QString>& values) {
  ParallelAxis a{name, {}, {}, {}, {}};
  bool numeric = true;
  std::vector<double> numbers;
  for (const auto& v : values) {
    bool ok = false;
    numbers.push_back(v.toDouble(&ok));
    numeric = numeric && (ok || v.isEmpty() || v == "-");
  }
  if (numeric) {
    double lo = INFINITY, hi = -INFINITY;
    for (double v : numbers)
      if (std::isfinite(v)) { lo = std::min(lo, v); hi = std::max(hi, v); }
    for (double v : numbers) a.position.push_back(!std::isfinite(v) ? NAN : hi > lo ? (v - lo) / (hi - lo) : 0.5);
    a.low = QString::number(lo, 'g', 4);
    a.high = QString::number(hi, 'g', 4);
    return a;
  }
  std::set<QString> unique(values.begin(), values.end());
  std::map<QString, double> where;
  int i = 0;
  for (const auto& u : unique) where[u] = unique.size() > 1 ? double(i++) / double(unique.size() - 1) : 0.5;
  for (const auto& v : values) a.position.push_back(where[v]);
  for (const auto& [text, pos] : where) a.categories.emplace_back(pos, text);
  return a;
}

}  // namespace

SweepView::SweepView(QWidget* parent) : QWidget(parent) {
  m_title = new QLabel("Select a run of a sweep (continua-cli sweep run / slurm) to see its parameters against the final metric.", this);
  m_title->setWordWrap(true);
  m_metric = new QComboBox(this);
  m_metric->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName("sweepPlot");
  m_plot->setMinimumHeight(260);
  m_controls = new PlotControls(m_plot, "sweep", "sweep", this, false);
  m_table = new QTableWidget(this);
  m_table->setObjectName("sweepTable");
  m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_table->verticalHeader()->hide();
  auto* bar = new QHBoxLayout;
  bar->addWidget(m_title, 1);
  bar->addWidget(new QLabel("Metric:"));
  bar->addWidget(m_metric);
  m_controls->addTo(bar);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(m_plot);
  split->addWidget(m_table);
  layOutBelowToolbar(this, bar, split);
  connect(m_metric, &QComboBox::currentTextChanged, this, &SweepView::draw);
}

void SweepView::setStore(std::shared_ptr<core::RunStore> store) {
  m_store = std::move(store);
  m_sweep.clear();
  reload();
}

void SweepView::setRuns(const std::vector<int64_t>& runs) {
  QString sweep;
  if (m_store && !runs.empty()) {
    core::RunFilter only;
    only.id = runs.back();
    const auto found = m_store->listRuns(only);
    if (!found.empty()) sweep = QString::fromStdString(found.front().sweep);
  }
  if (sweep == m_sweep && !sweep.isEmpty()) return;
  m_sweep = sweep;
  reload();
}

void SweepView::reload() {
  m_runIds.clear();
  m_runs.clear();
  if (m_store && !m_sweep.isEmpty()) {
    core::RunFilter f;
    f.sweep = m_sweep.toStdString();
    f.status = "finished";
    m_runs = m_store->listRuns(f);
    for (const auto& r : m_runs) m_runIds.push_back(r.id);
  }
  const QString keep = m_metric->currentText();
  m_metric->blockSignals(true);
  m_metric->clear();
  std::set<QString> keys;
  if (m_store)
    for (int64_t id : m_runIds)
      for (const auto& k : m_store->metricKeys(id))
        if (k.rfind("test/", 0) == 0) keys.insert(QString::fromStdString(k));
  for (const auto& k : keys) m_metric->addItem(k);
  const int keepAt = m_metric->findText(keep), accuracyAt = m_metric->findText("test/accuracy");
  m_metric->setCurrentIndex(keepAt >= 0 ? keepAt : accuracyAt >= 0 ? accuracyAt : 0);
  m_metric->blockSignals(false);
  draw();
}

void SweepView::draw() {
  m_plot->clearPlottables();
  m_plot->clearItems();
  m_axes.clear();
  m_table->clear();
  m_table->setRowCount(0);
  stylePlot(m_plot);
  if (m_sweep.isEmpty() || m_runIds.size() < 1 || !m_store) {
    m_title->setText(m_sweep.isEmpty() ? "Select a run of a sweep (continua-cli sweep run / slurm) to see its parameters against the final metric."
                                       : "Sweep " + m_sweep + ": no finished runs yet.");
    m_plot->replot();
    return;
  }
  const std::string metric = m_metric->currentText().toStdString();
  // The parameters that vary across the sweep's runs (its identity fields aside), then the metric.
  const core::RunComparison cmp = m_runIds.size() > 1 ? core::compareRuns(*m_store, m_runIds, false) : core::RunComparison{};
  std::vector<ParallelAxis> axes;
  for (const auto& row : cmp.config) {
    const QString key = QString::fromStdString(row[0]);
    if (key == "name" || key == "seed" || key == "sweep") continue;
    std::vector<QString> values;
    for (size_t i = 1; i < row.size(); ++i) values.push_back(QString::fromStdString(row[i]));
    axes.push_back(axisOf(key, values));
  }
  std::vector<double> scores;
  std::vector<QString> scoreText;
  for (const auto& r : m_runs) {  // the summaries reload() read: their latest metrics are all a score needs
    scores.push_back(r.latestValue(metric));
    scoreText.push_back(QString::number(scores.back(), 'g', 6));
  }
  axes.push_back(axisOf(QString::fromStdString(metric), scoreText));
  for (const auto& a : axes) m_axes << a.name;
  m_title->setText(QString("Sweep %1: %2 finished runs, %3 parameters vary").arg(m_sweep).arg(m_runIds.size()).arg(axes.size() - 1));

  // Lines coloured by the metric (viridis, low to high: the reports' colour map).
  const ParallelAxis& score = axes.back();
  for (size_t run = 0; run < m_runIds.size(); ++run) {
    auto* line = new QCPCurve(m_plot->xAxis, m_plot->yAxis);
    line->setName(QString("run %1").arg(m_runIds[run]));
    for (size_t a = 0; a < axes.size(); ++a) line->addData(double(a), axes[a].position[run]);
    const double t = std::isfinite(score.position[run]) ? score.position[run] : 0.0;
    const core::Rgb c = core::colourMap(t);
    line->setPen(QPen(QColor(c.r, c.g, c.b), 2));
  }
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  const QColor ink = palette().color(QPalette::WindowText);
  for (size_t a = 0; a < axes.size(); ++a) {
    ticker->addTick(double(a), axes[a].name);
    auto* axisLine = new QCPItemStraightLine(m_plot);
    axisLine->point1->setCoords(double(a), 0);
    axisLine->point2->setCoords(double(a), 1);
    axisLine->setPen(QPen(ink, 1));
    auto label = [&](double y, const QString& text, Qt::Alignment align) {
      auto* t = new QCPItemText(m_plot);
      t->position->setCoords(double(a), y);
      t->setPositionAlignment(align);
      t->setText(text);
      t->setColor(ink);
    };
    if (axes[a].categories.empty()) {
      label(1.0, axes[a].high, Qt::AlignHCenter | Qt::AlignBottom);
      label(0.0, axes[a].low, Qt::AlignHCenter | Qt::AlignTop);
    } else {
      for (const auto& [pos, text] : axes[a].categories) label(pos, text, Qt::AlignLeft | Qt::AlignVCenter);
    }
  }
  m_plot->xAxis->setTicker(ticker);
  m_plot->xAxis->setRange(-0.3, double(axes.size()) - 0.7);
  m_plot->yAxis->setRange(-0.12, 1.12);
  m_plot->yAxis->setTicks(false);
  m_plot->yAxis->setTickLabels(false);
  m_plot->replot();

  // The runs, best first (lowest first for errors and losses).
  std::vector<size_t> order(m_runIds.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const bool lowerIsBetter = metric.find("error") != std::string::npos || metric.find("loss") != std::string::npos ||
                             metric.find("mse") != std::string::npos;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (!std::isfinite(scores[a])) return false;
    if (!std::isfinite(scores[b])) return true;
    return lowerIsBetter ? scores[a] < scores[b] : scores[a] > scores[b];
  });
  QStringList header{"run", QString::fromStdString(metric)};
  for (size_t a = 0; a + 1 < axes.size(); ++a) header << axes[a].name;
  m_table->setColumnCount(header.size());
  m_table->setHorizontalHeaderLabels(header);
  m_table->setRowCount(int(order.size()));
  for (int row = 0; row < int(order.size()); ++row) {
    const size_t i = order[size_t(row)];
    m_table->setItem(row, 0, new QTableWidgetItem(QString::number(m_runIds[i])));
    m_table->setItem(row, 1, new QTableWidgetItem(scoreText[i]));
    for (size_t a = 0; a + 1 < axes.size(); ++a) {
      QString value;
      for (const auto& r : cmp.config)
        if (QString::fromStdString(r[0]) == axes[a].name) value = QString::fromStdString(r[i + 1]);
      bool number = false;
      const double v = value.toDouble(&number);
      m_table->setItem(row, int(a) + 2, new QTableWidgetItem(number ? QString::number(v, 'g', 6) : value));
    }
  }
  m_table->resizeColumnsToContents();
}

}  // namespace continua::ui

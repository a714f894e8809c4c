#include "ui/curves_view.h"

#include "ui/plot_export.h"
#include "ui/plot_style.h"
#include "ui/smoothing.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QTimer>
#include <QVBoxLayout>

namespace continua::ui {

CurvesView::CurvesView(QWidget* parent) : QWidget(parent) {
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName("curvesPlot");
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  m_plot->legend->setVisible(true);
  m_plot->xAxis->setLabel("step");
  m_key = new QComboBox(this);
  m_key->setMinimumContentsLength(18);
  m_key->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  m_xAxis = new QComboBox(this);
  m_xAxis->addItems({"step", "wall time (s)"});
  m_smoothing = new QSlider(Qt::Horizontal, this);
  m_smoothing->setRange(0, 99);
  m_smoothing->setValue(60);
  m_smoothing->setToolTip("Smoothing (TensorBoard EMA weight); the raw curve stays faintly behind");
  m_logY = new QCheckBox("log y", this);
  m_info = new QLabel(this);
  auto* exportButton = new QPushButton("Export...", this);
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel("Metric:"));
  bar->addWidget(m_key);
  bar->addWidget(new QLabel("x:"));
  bar->addWidget(m_xAxis);
  bar->addWidget(new QLabel("Smoothing:"));
  bar->addWidget(m_smoothing);
  bar->addWidget(m_logY);
  bar->addStretch();
  bar->addWidget(m_info);
  bar->addWidget(exportButton);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(2, 2, 2, 2);
  lay->addLayout(bar);
  lay->addWidget(m_plot, 1);
  m_replotTimer = new QTimer(this);
  m_replotTimer->setSingleShot(true);
  m_replotTimer->setInterval(40);
  connect(m_replotTimer, &QTimer::timeout, this, &CurvesView::replot);
  connect(m_key, &QComboBox::currentTextChanged, this, &CurvesView::reloadAll);
  connect(m_xAxis, &QComboBox::currentIndexChanged, this, &CurvesView::scheduleReplot);
  connect(m_smoothing, &QSlider::valueChanged, this, &CurvesView::scheduleReplot);
  connect(m_logY, &QCheckBox::toggled, this, &CurvesView::scheduleReplot);
  connect(exportButton, &QPushButton::clicked, this, [this] { exportPlotInteractively(this, m_plot, "curves"); });
}

void CurvesView::setStore(std::shared_ptr<core::RunStore> store) {
  m_store = std::move(store);
  m_runs.clear();
  reloadAll();
}

QString CurvesView::metric() const { return m_key->currentText(); }

void CurvesView::setMetric(const QString& key) {
  if (m_key->findText(key) < 0) m_key->addItem(key);
  m_key->setCurrentText(key);
}

int CurvesView::pointCount() const {
  int n = 0;
  for (const auto& [id, s] : m_series) n += s.values.size();
  return n;
}

void CurvesView::setRuns(const std::vector<int64_t>& runs) {
  m_runs = runs;
  m_names.clear();
  for (int64_t id : runs) {
    auto rec = m_store ? m_store->getRun(id) : std::nullopt;
    m_names[id] = QString("run %1 %2").arg(id).arg(rec ? QString::fromStdString(rec->name) : QString());
  }
  rebuildKeys();
  reloadAll();
}

void CurvesView::rebuildKeys() {
  if (!m_store) return;
  QStringList keys;
  for (int64_t id : m_runs)
    for (const auto& k : m_store->metricKeys(id))
      if (!keys.contains(QString::fromStdString(k))) keys << QString::fromStdString(k);
  keys.sort();
  const QString current = m_key->currentText();
  QSignalBlocker block(m_key);
  m_key->clear();
  m_key->addItems(keys);
  if (keys.contains(current)) m_key->setCurrentText(current);
  else if (keys.contains("train/loss")) m_key->setCurrentText("train/loss");
}

void CurvesView::reloadAll() {
  m_series.clear();
  pollNewPoints();
  scheduleReplot();
}

void CurvesView::pollNewPoints() {
  if (!m_store) return;
  // A run that has just started has written no metric yet when it is selected: look for its keys again
  // until some appear (the metric box was once left empty for the whole of a new database's first run).
  if (m_key->count() == 0) rebuildKeys();
  if (m_key->currentText().isEmpty()) return;
  const std::string key = m_key->currentText().toStdString();
  bool changed = false;
  for (int64_t id : m_runs) {
    Series& s = m_series[id];
    for (const auto& p : m_store->metrics(id, key, s.lastStep)) {
      s.steps.push_back(double(p.step));
      s.wall.push_back(p.wallTime);
      s.values.push_back(p.value);
      s.lastStep = p.step;
      changed = true;
    }
  }
  if (changed) scheduleReplot();
}

void CurvesView::scheduleReplot() {
  if (!m_replotTimer->isActive()) m_replotTimer->start();
}

void CurvesView::replot() {
  m_plot->clearGraphs();
  const bool byWall = m_xAxis->currentIndex() == 1;
  const double weight = m_smoothing->value() / 100.0;
  int colour = 0;
  for (int64_t id : m_runs) {
    const Series& s = m_series[id];
    if (s.values.isEmpty()) { ++colour; continue; }
    QVector<double> x = byWall ? s.wall : s.steps;
    if (byWall) {
      const double t0 = x.front();
      for (double& v : x) v -= t0;
    }
    const QColor c = seriesColor(colour++);
    QCPGraph* raw = m_plot->addGraph();
    raw->setData(x, s.values, true);
    QColor faint = c;
    faint.setAlpha(60);
    raw->setPen(QPen(faint, 1));
    raw->removeFromLegend();
    QCPGraph* smooth = m_plot->addGraph();
    smooth->setData(x, smoothTensorBoard(s.values, weight), true);
    smooth->setPen(QPen(c, 2));
    smooth->setName(m_names[id]);
  }
  m_plot->legend->setVisible(m_plot->graphCount() > 0);
  m_plot->xAxis->setLabel(byWall ? "wall time (s)" : "step");
  m_plot->yAxis->setLabel(m_key->currentText());
  if (m_logY->isChecked()) {
    m_plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  } else {
    m_plot->yAxis->setScaleType(QCPAxis::stLinear);
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }
  m_plot->rescaleAxes();
  m_info->setText(QString("%1 points").arg(pointCount()));
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace continua::ui

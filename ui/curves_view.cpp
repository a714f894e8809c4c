#include "ui/curves_view.h"

#include "core/store/run_groups.h"
#include "ui/plot_bands.h"
#include "ui/plot_controls.h"
#include "ui/plot_style.h"
#include "ui/smoothing.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QTimer>

#include <algorithm>

namespace continua::ui {

namespace {
constexpr int kMaxDrawnPerSeries = 2000;  // about two points per pixel column of a wide plot
}

CurvesView::CurvesView(QWidget* parent) : QWidget(parent) {
  m_plot = newLinePlot(this, "curvesPlot");
  m_plot->xAxis->setLabel("step");
  m_controls = new PlotControls(m_plot, "curves", "curves", this);
  m_key = new QComboBox(this);
  m_key->setObjectName("curvesMetric");
  m_key->setMinimumContentsLength(18);
  m_key->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  m_xAxis = new QComboBox(this);
  m_xAxis->addItems({"step", "wall time (s)"});
  m_xAxis->setCurrentIndex(m_controls->setting("x", 0).toInt());
  m_smoothing = new QSlider(Qt::Horizontal, this);
  m_smoothing->setObjectName("curvesSmoothing");
  m_smoothing->setRange(0, 99);
  m_smoothing->setValue(m_controls->setting("smoothing", 60).toInt());
  m_smoothing->setToolTip("Smoothing (TensorBoard EMA weight); the raw curve stays faintly behind");
  m_groupSeeds = new QCheckBox("group seeds", this);
  m_groupSeeds->setObjectName("curvesGroupSeeds");
  m_groupSeeds->setToolTip("Runs that differ only by seed drawn as their mean +- 1 std");
  m_groupSeeds->setChecked(m_controls->setting("groupSeeds", false).toBool());
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel("Metric:"));
  bar->addWidget(m_key);
  bar->addWidget(new QLabel("x:"));
  bar->addWidget(m_xAxis);
  bar->addWidget(new QLabel("Smoothing:"));
  bar->addWidget(m_smoothing);
  bar->addWidget(m_groupSeeds);
  bar->addStretch();
  m_controls->addTo(bar);
  layOutBelowToolbar(this, bar, m_plot);
  m_replotTimer = new QTimer(this);
  m_replotTimer->setSingleShot(true);
  m_replotTimer->setInterval(40);
  connect(m_replotTimer, &QTimer::timeout, this, &CurvesView::replot);
  connect(m_key, &QComboBox::currentTextChanged, this, [this](const QString& k) {
    if (!k.isEmpty()) m_controls->setSetting("metric", k);
    m_controls->resetView();  // another metric: another scale
    reloadAll();
  });
  connect(m_xAxis, &QComboBox::currentIndexChanged, this, [this](int i) {
    m_controls->setSetting("x", i);
    m_controls->resetView();
    scheduleReplot();
  });
  connect(m_smoothing, &QSlider::valueChanged, this, [this](int v) {
    m_controls->setSetting("smoothing", v);
    scheduleReplot();
  });
  connect(m_groupSeeds, &QCheckBox::toggled, this, [this](bool on) {
    m_controls->setSetting("groupSeeds", on);
    setRuns(m_runs);
  });
  connect(m_controls, &PlotControls::scalesChanged, this, &CurvesView::scheduleReplot);
  m_controls->setHoverText([this](double x, double) { return hoverText(x); });
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

void CurvesView::setGroupSeeds(bool on) { m_groupSeeds->setChecked(on); }

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
  m_groups.clear();
  if (m_store && m_groupSeeds->isChecked()) m_groups = core::groupIgnoringSeed(*m_store, runs);
  else
    for (int64_t id : runs) m_groups.push_back({id});
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
  const QString current = m_key->currentText().isEmpty() ? m_controls->setting("metric", "").toString() : m_key->currentText();
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

QVector<double> CurvesView::xOf(const Series& s) const {
  if (m_xAxis->currentIndex() == 0) return s.steps;
  QVector<double> x = s.wall;
  if (!x.isEmpty()) {
    const double t0 = x.front();
    for (double& v : x) v -= t0;
  }
  return x;
}

void CurvesView::replot() {
  m_plot->clearGraphs();
  const double weight = m_smoothing->value() / 100.0;
  int colour = 0, drawn = 0, total = 0;
  for (const auto& group : m_groups) {
    const QColor c = seriesColor(colour++);
    if (group.size() > 1) {  // seed repeats: mean +- std of the smoothed curves
      std::vector<std::map<double, double>> smoothed;
      for (int64_t id : group) {
        const Series& s = m_series[id];
        const QVector<double> x = xOf(s), y = smoothTensorBoard(s.values, weight);
        std::map<double, double> m;
        for (int i = 0; i < x.size(); ++i) m[x[i]] = y[i];
        smoothed.push_back(std::move(m));
        total += s.values.size();
      }
      const MeanBand band = meanAndSpread(smoothed);
      drawn += band.x.size();
      addMeanBand(m_plot, band, c, QString("%1 (mean +- std of %2 seeds)").arg(m_names[group.front()]).arg(group.size()));
      continue;
    }
    const Series& s = m_series[group.front()];
    if (s.values.isEmpty()) continue;
    const QVector<double> x = xOf(s);
    QVector<double> tx, ty;
    thinForDisplay(x, s.values, kMaxDrawnPerSeries, tx, ty);
    QCPGraph* raw = m_plot->addGraph();
    raw->setData(tx, ty, true);
    QColor faint = c;
    faint.setAlpha(60);
    raw->setPen(QPen(faint, 1));
    raw->removeFromLegend();
    thinForDisplay(x, smoothTensorBoard(s.values, weight), kMaxDrawnPerSeries, tx, ty);
    QCPGraph* smooth = m_plot->addGraph();
    smooth->setData(tx, ty, true);
    smooth->setPen(QPen(c, 2));
    smooth->setName(m_names[group.front()]);
    drawn += tx.size();
    total += s.values.size();
  }
  m_plot->legend->setVisible(m_plot->graphCount() > 0);
  m_plot->xAxis->setLabel(m_xAxis->currentIndex() == 1 ? "wall time (s)" : "step");
  m_plot->yAxis->setLabel(m_key->currentText());
  m_controls->setPointCount(drawn, total);
  m_controls->finishReplot();
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QString CurvesView::hoverText(double x) const {
  const double weight = m_smoothing->value() / 100.0;
  QString rows;
  for (int64_t id : m_runs) {
    auto it = m_series.find(id);
    if (it == m_series.end() || it->second.values.isEmpty()) continue;
    const Series& s = it->second;
    const QVector<double> xs = xOf(s);
    const int i = int(std::lower_bound(xs.begin(), xs.end(), x) - xs.begin());
    int best = std::clamp(i, 0, int(xs.size()) - 1);
    if (best > 0 && std::abs(xs[best - 1] - x) < std::abs(xs[best] - x)) --best;
    const QVector<double> smooth = smoothTensorBoard(s.values, weight);
    rows += QString("<tr><td>%1</td><td align=right>%2</td><td align=right>%3</td><td align=right>%4</td><td align=right>%5</td></tr>")
                .arg(m_names.at(id).toHtmlEscaped()).arg(qint64(s.steps[best])).arg(s.wall[best] - s.wall.front(), 0, 'f', 1)
                .arg(s.values[best], 0, 'g', 5).arg(smooth[best], 0, 'g', 5);
  }
  if (rows.isEmpty()) return {};
  return "<table><tr><th>run</th><th>step</th><th>wall s</th><th>raw</th><th>smoothed</th></tr>" + rows + "</table>";
}

}  // namespace continua::ui

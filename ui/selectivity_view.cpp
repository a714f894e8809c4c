#include "ui/selectivity_view.h"

#include "ui/plot_export.h"
#include "ui/plot_style.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QToolTip>
#include <QVBoxLayout>

#include <cmath>
#include <map>

namespace continua::ui {

namespace {
QCPColorMap* makeMap(QCustomPlot* plot) {
  plot->axisRect()->setupFullAxesBox(true);
  plot->xAxis->setLabel("earlier token");
  plot->yAxis->setLabel("query");
  plot->yAxis->setRangeReversed(true);  // row 0 at the top, like a matrix
  auto* map = new QCPColorMap(plot->xAxis, plot->yAxis);
  map->setGradient(QCPColorGradient::gpThermal);
  map->setInterpolate(false);
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  return map;
}
}  // namespace

SelectivityView::SelectivityView(QWidget* parent) : QWidget(parent) {
  m_modelPlot = new QCustomPlot(this);
  m_modelPlot->setObjectName("selectivityModelPlot");
  m_truthPlot = new QCustomPlot(this);
  m_truthPlot->setObjectName("selectivityTruthPlot");
  m_modelMap = makeMap(m_modelPlot);
  m_truthMap = makeMap(m_truthPlot);
  auto* scale = new QCPColorScale(m_truthPlot);  // one scale: both maps use the same data range
  m_truthPlot->plotLayout()->addElement(0, 1, scale);
  scale->setGradient(QCPColorGradient::gpThermal);
  scale->axis()->setLabel("association weight");
  m_truthMap->setColorScale(scale);
  m_layer = new QComboBox(this);
  m_layer->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  m_step = new QSlider(Qt::Horizontal, this);
  m_stepLabel = new QLabel(this);
  m_kl = new QLabel(this);
  auto* exportModel = new QPushButton("Export model map...", this);
  auto* exportTruth = new QPushButton("Export truth map...", this);
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel("Layer:"));
  bar->addWidget(m_layer);
  bar->addWidget(new QLabel("Evaluation step:"));
  bar->addWidget(m_step, 1);
  bar->addWidget(m_stepLabel);
  bar->addWidget(m_kl);
  bar->addWidget(exportModel);
  bar->addWidget(exportTruth);
  m_klPlot = new QCustomPlot(this);
  m_klPlot->setObjectName("selectivityKlPlot");
  m_klPlot->setMinimumHeight(150);
  m_klPlot->setMaximumHeight(220);
  m_klPlot->xAxis->setLabel("training step");
  m_klPlot->yAxis->setLabel("KL(p || q)");
  m_klPlot->legend->setVisible(true);
  m_klPlot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  auto* plots = new QHBoxLayout;
  plots->addWidget(m_modelPlot);
  plots->addWidget(m_truthPlot);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(2, 2, 2, 2);
  lay->addLayout(bar);
  lay->addLayout(plots, 1);
  lay->addWidget(m_klPlot);
  connect(m_klPlot, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
    selectStep(int64_t(std::llround(m_klPlot->xAxis->pixelToCoord(e->pos().x()))));
  });
  for (QCustomPlot* p : {m_modelPlot, m_truthPlot})
    connect(p, &QCustomPlot::mouseMove, this, [this, p](QMouseEvent* e) {
      const int col = int(std::lround(p->xAxis->pixelToCoord(e->pos().x())));
      const int row = int(std::lround(p->yAxis->pixelToCoord(e->pos().y())));
      const QString text = hoverText(col, row);
      if (text.isEmpty()) QToolTip::hideText();
      else QToolTip::showText(e->globalPosition().toPoint(), text, p);
    });
  connect(m_step, &QSlider::valueChanged, this, &SelectivityView::showStep);
  connect(m_layer, &QComboBox::currentIndexChanged, this, &SelectivityView::showStep);
  connect(exportModel, &QPushButton::clicked, this, [this] { exportPlotInteractively(this, m_modelPlot, "model-map"); });
  connect(exportTruth, &QPushButton::clicked, this, [this] { exportPlotInteractively(this, m_truthPlot, "truth-map"); });
}

void SelectivityView::setStore(std::shared_ptr<core::RunStore> store) {
  m_store = std::move(store);
  m_run = 0;
  reload();
}

void SelectivityView::setRun(int64_t run) {
  m_run = run;
  reload();
}

void SelectivityView::reload() {
  m_steps = (m_store && m_run) ? m_store->mapSteps(m_run) : std::vector<int64_t>();
  QSignalBlocker block(m_step);
  m_step->setRange(0, std::max<int>(0, int(m_steps.size()) - 1));
  m_step->setValue(m_step->maximum());
  drawKlCurves();
  showStep();
}

int64_t SelectivityView::currentStep() const {
  return m_steps.empty() ? 0 : m_steps[size_t(std::clamp(m_step->value(), 0, int(m_steps.size()) - 1))];
}

void SelectivityView::selectStep(int64_t step) {
  if (m_steps.empty()) return;
  size_t best = 0;
  for (size_t i = 0; i < m_steps.size(); ++i)
    if (std::llabs(m_steps[i] - step) < std::llabs(m_steps[best] - step)) best = i;
  m_step->setValue(int(best));
}

// KL(p || q) of every layer against the training step, from the stored maps' KLs (no map is read).
void SelectivityView::drawKlCurves() {
  m_klPlot->clearGraphs();
  std::map<std::string, std::pair<QVector<double>, QVector<double>>> byLayer;
  std::vector<std::string> order;
  if (m_store && m_run)
    for (const auto& k : m_store->mapKls(m_run)) {
      if (!byLayer.count(k.layerName)) order.push_back(k.layerName);
      byLayer[k.layerName].first << double(k.step);
      byLayer[k.layerName].second << k.kl;
    }
  int colour = 0;
  for (const auto& name : order) {
    QCPGraph* g = m_klPlot->addGraph();
    g->setData(byLayer[name].first, byLayer[name].second, true);
    g->setPen(QPen(seriesColor(colour++), 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
    g->setName(QString::fromStdString(name));
  }
  m_klPlot->setVisible(!order.empty());
  m_klPlot->rescaleAxes();
  m_klPlot->yAxis->setRange(0, std::max(1e-3, m_klPlot->yAxis->range().upper * 1.15));  // room above a flat curve
}

void SelectivityView::markStepOnKl() {
  m_klPlot->clearItems();
  if (m_steps.empty() || m_klPlot->graphCount() == 0) return m_klPlot->replot();
  auto* line = new QCPItemStraightLine(m_klPlot);
  line->point1->setCoords(double(currentStep()), 0);
  line->point2->setCoords(double(currentStep()), 1);
  line->setPen(QPen(QColor(200, 40, 40), 1, Qt::DashLine));
  m_klPlot->replot();
}

QString SelectivityView::hoverText(int col, int row) const {
  if (!m_shownModel || col < 0 || row < 0 || col >= m_shownModel->cols || row >= m_shownModel->rows) return {};
  const size_t i = size_t(row) * m_shownModel->cols + col;
  QString text = QString("query %1, token %2<br>model q = %3").arg(row).arg(col).arg(m_shownModel->values[i], 0, 'g', 4);
  if (m_shownTruth && m_shownTruth->rows == m_shownModel->rows && m_shownTruth->cols == m_shownModel->cols)
    text += QString("<br>ground truth p = %1").arg(m_shownTruth->values[i], 0, 'g', 4);
  return text;
}

QSize SelectivityView::modelMapSize() const {
  return QSize(m_modelMap->data()->keySize(), m_modelMap->data()->valueSize());
}

QSize SelectivityView::truthMapSize() const {
  return QSize(m_truthMap->data()->keySize(), m_truthMap->data()->valueSize());
}

void SelectivityView::drawMap(QCustomPlot* plot, QCPColorMap* map, const core::StoredMap* m, const QString& title, double maxValue) {
  for (int i = plot->itemCount() - 1; i >= 0; --i) plot->removeItem(i);
  if (plot->plotLayout()->rowCount() > 1) plot->plotLayout()->removeAt(0), plot->plotLayout()->simplify();
  if (!m) {
    map->data()->clear();
    map->data()->setSize(0, 0);
    plot->replot();
    return;
  }
  map->data()->setSize(m->cols, m->rows);
  map->data()->setRange(QCPRange(0, m->cols - 1), QCPRange(0, m->rows - 1));
  for (int r = 0; r < m->rows; ++r)
    for (int c = 0; c < m->cols; ++c) map->data()->setCell(c, r, m->values[size_t(r) * m->cols + c]);
  map->setDataRange(QCPRange(0, std::max(maxValue, 1e-6)));  // one colour scale for both maps
  // Task boundaries along the token axis (and the query axis for MCL probes).
  const int perTask = m->meta.value("tokens_per_task", 0), queriesPerTask = m->meta.value("queries_per_task", 0);
  if (perTask > 0) {
    for (int x = perTask; x < m->cols; x += perTask) {
      auto* line = new QCPItemStraightLine(plot);
      line->point1->setCoords(x - 0.5, 0);
      line->point2->setCoords(x - 0.5, 1);
      line->setPen(QPen(QColor(255, 255, 255, 140), 1, Qt::DashLine));
    }
    for (int y = queriesPerTask; queriesPerTask > 0 && y < m->rows; y += queriesPerTask) {
      auto* line = new QCPItemStraightLine(plot);
      line->point1->setCoords(0, y - 0.5);
      line->point2->setCoords(1, y - 0.5);
      line->setPen(QPen(QColor(255, 255, 255, 140), 1, Qt::DashLine));
    }
  }
  plot->plotLayout()->insertRow(0);
  plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, title, QFont("sans", 10, QFont::Bold)));
  plot->xAxis->setRange(-0.5, m->cols - 0.5);
  plot->yAxis->setRange(-0.5, m->rows - 0.5);
  plot->replot();
}

void SelectivityView::showStep() {
  std::vector<core::StoredMap> maps;
  int64_t step = 0;
  if (!m_steps.empty()) {
    step = m_steps[size_t(std::clamp(m_step->value(), 0, int(m_steps.size()) - 1))];
    maps = m_store->maps(m_run, step);
  }
  // Layer (and head) list from the maps at this step; maps are matched by name.
  QStringList layers;
  for (const auto& m : maps)
    if (m.kind == "model") layers << QString::fromStdString(m.layerName);
  const QString keep = m_layer->currentText();
  {
    QSignalBlocker block(m_layer);
    m_layer->clear();
    m_layer->addItems(layers);
    if (layers.contains(keep)) m_layer->setCurrentText(keep);
  }
  const std::string layer = m_layer->currentText().toStdString();
  const core::StoredMap *model = nullptr, *truth = nullptr;
  for (const auto& m : maps)
    if (m.layerName == layer) (m.kind == "model" ? model : truth) = &m;
  double maxValue = 0;
  for (const auto* m : {model, truth})
    if (m) for (float v : m->values) maxValue = std::max(maxValue, double(v));
  m_shownModel = model ? std::optional<core::StoredMap>(*model) : std::nullopt;
  m_shownTruth = truth ? std::optional<core::StoredMap>(*truth) : std::nullopt;
  drawMap(m_modelPlot, m_modelMap, model, "model association q", maxValue);
  drawMap(m_truthPlot, m_truthMap, truth, truth ? "ground truth p" : "ground truth: not defined for this task", maxValue);
  m_stepLabel->setText(m_steps.empty() ? "no maps saved" : QString("step %1").arg(step));
  m_kl->setText(model && truth ? QString("KL(p || q) = %1").arg(model->kl, 0, 'f', 3) : QString());
  markStepOnKl();
}

}  // namespace continua::ui

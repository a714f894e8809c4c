#include "ui/eval_curves_view.h"

#include "ui/plot_export.h"
#include "ui/plot_style.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include <map>
#include <set>

namespace continua::ui {

namespace {
QString axisLabel(const QString& curve) {
  if (curve.startsWith("length_tasks")) return "tasks in the meta-test stream";
  if (curve.startsWith("length_shots")) return "shots per class in the meta-test stream";
  if (curve.startsWith("noise")) return "input noise sigma";
  if (curve.startsWith("domain_shift")) return "0: meta-test source, 1: shifted source";
  if (curve.startsWith("per_task")) return "task position in the stream (0 = first, most forgotten)";
  if (curve.startsWith("examples") || curve.startsWith("baseline")) return "in-context examples";
  return "x";
}
}  // namespace

EvalCurvesView::EvalCurvesView(QWidget* parent) : QWidget(parent) {
  m_plot = new QCustomPlot(this);
  m_plot->setObjectName("evalCurvesPlot");
  m_plot->legend->setVisible(true);
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  m_curve = new QComboBox(this);
  m_curve->setMinimumContentsLength(22);
  auto* exportButton = new QPushButton("Export...", this);
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel("Curve:"));
  bar->addWidget(m_curve);
  bar->addStretch();
  bar->addWidget(exportButton);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(2, 2, 2, 2);
  lay->addLayout(bar);
  lay->addWidget(m_plot, 1);
  connect(m_curve, &QComboBox::currentTextChanged, this, &EvalCurvesView::draw);
  connect(exportButton, &QPushButton::clicked, this, [this] { exportPlotInteractively(this, m_plot, "evaluation"); });
}

void EvalCurvesView::setStore(std::shared_ptr<core::RunStore> store) {
  m_store = std::move(store);
  m_runs.clear();
  reload();
}

void EvalCurvesView::setRuns(const std::vector<int64_t>& runs) {
  m_runs = runs;
  reload();
}

QStringList EvalCurvesView::curveNames() const {
  QStringList n;
  for (int i = 0; i < m_curve->count(); ++i) n << m_curve->itemText(i);
  return n;
}

void EvalCurvesView::setCurve(const QString& name) { m_curve->setCurrentText(name); }

void EvalCurvesView::reload() {
  m_curves.clear();
  std::set<QString> names;
  for (int64_t id : m_runs) {
    m_curves[id] = m_store ? m_store->curves(id) : std::vector<core::CurvePoint>();
    for (const auto& c : m_curves[id])
      if (!QString::fromStdString(c.curve).startsWith("baseline/")) names.insert(QString::fromStdString(c.curve));
  }
  const QString keep = m_curve->currentText();
  QSignalBlocker block(m_curve);
  m_curve->clear();
  for (const auto& n : names) m_curve->addItem(n);
  if (names.count(keep)) m_curve->setCurrentText(keep);
  else if (names.count("length_tasks/accuracy")) m_curve->setCurrentText("length_tasks/accuracy");
  draw();
}

void EvalCurvesView::draw() {
  m_plot->clearGraphs();
  m_plot->clearItems();
  const QString name = m_curve->currentText();
  int colour = 0;
  auto addGraph = [&](const QString& label, const std::map<double, double>& pts, QPen pen) {
    QVector<double> x, y;
    for (const auto& [k, v] : pts) { x << k; y << v; }
    QCPGraph* g = m_plot->addGraph();
    g->setData(x, y, true);
    g->setPen(pen);
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
    g->setName(label);
  };
  for (int64_t id : m_runs) {
    // The latest sweep of this curve (curves recorded at several steps keep only the last one here).
    int64_t last = -1;
    for (const auto& c : m_curves[id])
      if (QString::fromStdString(c.curve) == name) last = std::max(last, c.step);
    std::map<double, double> pts;
    std::map<QString, std::map<double, double>> baselines;
    for (const auto& c : m_curves[id]) {
      const QString cn = QString::fromStdString(c.curve);
      if (cn == name && c.step == last) pts[c.x] = c.value;
      if (name.startsWith("examples/") && cn.startsWith("baseline/")) baselines[cn.mid(9)][c.x] = c.value;
    }
    if (pts.empty()) continue;
    const QColor col = seriesColor(colour++);
    auto rec = m_store->getRun(id);
    addGraph(QString("run %1 %2").arg(id).arg(rec ? QString::fromStdString(rec->name) : QString()), pts, QPen(col, 2));
    int style = 0;
    for (const auto& [b, bp] : baselines)
      addGraph(b, bp, QPen(QColor(90, 90, 90), 1, style++ % 2 ? Qt::DotLine : Qt::DashLine));
    // Mark the meta-training length on length-generalisation plots.
    if (name.startsWith("length_tasks") || name.startsWith("length_shots")) {
      if (rec) {
        const double trained = name.startsWith("length_tasks") ? rec->config["episode"]["tasks"].get<double>()
                                                               : rec->config["episode"]["shots"].get<double>();
        auto* line = new QCPItemStraightLine(m_plot);
        line->point1->setCoords(trained, 0);
        line->point2->setCoords(trained, 1);
        line->setPen(QPen(col, 1, Qt::DashLine));
        auto* text = new QCPItemText(m_plot);
        text->position->setType(QCPItemPosition::ptPlotCoords);
        text->position->setCoords(trained, 0);
        text->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
        text->setText(" meta-training length");
        text->setColor(col);
      }
    }
  }
  m_plot->xAxis->setLabel(axisLabel(name));
  m_plot->yAxis->setLabel(name.section('/', 1));
  m_plot->rescaleAxes();
  const QCPRange x = m_plot->xAxis->range();
  m_plot->xAxis->setRange(x.lower - 0.06 * x.size(), x.upper + 0.06 * x.size());  // keep edge markers visible
  if (name.endsWith("accuracy")) m_plot->yAxis->setRange(0, 1.02);
  m_plot->replot();
}

}  // namespace continua::ui

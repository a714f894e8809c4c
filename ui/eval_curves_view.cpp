#include "ui/eval_curves_view.h"

#include "ui/plot_controls.h"
#include "ui/plot_export.h"
#include "ui/plot_style.h"

#include <qcustomplot.h>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>

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
  m_plot = newLinePlot(this, "evalCurvesPlot");
  m_controls = new PlotControls(m_plot, "evaluation", "evaluation", this);
  m_curve = new QComboBox(this);
  m_curve->setMinimumContentsLength(22);
  auto* bar = new QHBoxLayout;
  bar->addWidget(new QLabel("Curve:"));
  bar->addWidget(m_curve);
  bar->addStretch();
  m_controls->addTo(bar);
  layOutBelowToolbar(this, bar, m_plot);
  connect(m_curve, &QComboBox::currentTextChanged, this, [this](const QString& c) {
    if (!c.isEmpty()) m_controls->setSetting("curve", c);
    m_controls->resetView();
    draw();
  });
  connect(m_controls, &PlotControls::scalesChanged, this, &EvalCurvesView::draw);
  m_controls->setHoverText([this](double x, double) { return hoverText(x); });
}

QString EvalCurvesView::hoverText(double x) const {
  QString rows;
  for (const auto& [label, pts] : m_drawn) {
    if (pts.empty()) continue;
    auto best = pts.begin();
    for (auto it = pts.begin(); it != pts.end(); ++it)
      if (std::abs(it->first - x) < std::abs(best->first - x)) best = it;
    rows += QString("<tr><td>%1</td><td align=right>%2</td><td align=right>%3</td></tr>")
                .arg(label.toHtmlEscaped()).arg(best->first, 0, 'g', 6).arg(best->second, 0, 'g', 5);
  }
  if (rows.isEmpty()) return {};
  return "<table><tr><th></th><th>" + axisLabel(m_curve->currentText()).toHtmlEscaped() + "</th><th>" +
         m_curve->currentText().section('/', 1).toHtmlEscaped() + "</th></tr>" + rows + "</table>";
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
    for (const auto& c : m_curves[id]) {
      const QString n = QString::fromStdString(c.curve);
      if (!n.startsWith("baseline/") && !n.startsWith("forgetting/")) names.insert(n);  // forgetting has its own view
    }
  }
  const QString keep = m_curve->currentText().isEmpty() ? m_controls->setting("curve", "").toString() : m_curve->currentText();
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
  m_drawn.clear();
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
    m_drawn.push_back({label, pts});
  };
  double trainedAt = -1;
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
    if (rec && (name.startsWith("length_tasks") || name.startsWith("length_shots")))
      trainedAt = name.startsWith("length_tasks") ? rec->config["episode"]["tasks"].get<double>()
                                                  : rec->config["episode"]["shots"].get<double>();
  }
  m_plot->xAxis->setLabel(axisLabel(name));
  m_plot->yAxis->setLabel(name.section('/', 1));
  m_controls->finishReplot();
  if (!m_controls->userMovedView()) {
    const QCPRange x = m_plot->xAxis->range();
    if (m_plot->xAxis->scaleType() == QCPAxis::stLinear)
      m_plot->xAxis->setRange(x.lower - 0.06 * x.size(), x.upper + 0.06 * x.size());  // keep edge markers visible
    if (name.endsWith("accuracy") && m_plot->yAxis->scaleType() == QCPAxis::stLinear) m_plot->yAxis->setRange(0, 1.02);
  }
  if (trainedAt > 0) markTrainingLength(trainedAt);
  m_plot->replot();
}

// The meta-training length as a dashed line, the lengths beyond it shaded ("generalisation"), both labels
// inside the plot.
void EvalCurvesView::markTrainingLength(double trained) {
  auto* beyond = new QCPItemRect(m_plot);
  beyond->topLeft->setTypeX(QCPItemPosition::ptPlotCoords);
  beyond->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
  beyond->topLeft->setCoords(trained, 0);
  beyond->bottomRight->setTypeX(QCPItemPosition::ptAxisRectRatio);
  beyond->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
  beyond->bottomRight->setCoords(1, 1);
  beyond->setPen(Qt::NoPen);
  beyond->setBrush(QColor(120, 120, 120, 28));
  beyond->setLayer("background");
  auto* line = new QCPItemStraightLine(m_plot);
  line->point1->setCoords(trained, 0);
  line->point2->setCoords(trained, 1);
  line->setPen(QPen(QColor(110, 110, 110), 1, Qt::DashLine));
  auto label = [&](const QString& text, Qt::Alignment align) {
    auto* t = new QCPItemText(m_plot);
    t->position->setTypeX(QCPItemPosition::ptPlotCoords);
    t->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    t->position->setCoords(trained, 0.02);
    t->setPositionAlignment(align | Qt::AlignTop);
    t->setClipToAxisRect(true);
    t->setColor(QColor(90, 90, 90));
    t->setText(text);
    return t;
  };
  label("trained on  ", Qt::AlignRight);
  label("  beyond training", Qt::AlignLeft);
}

}  // namespace continua::ui

#include "ui/forgetting_view.h"

#include "ui/plot_controls.h"
#include "ui/plot_style.h"

#include <qcustomplot.h>

#include <QHBoxLayout>
#include <QLabel>

#include <algorithm>
#include <map>

namespace continua::ui {

ForgettingView::ForgettingView(QWidget* parent) : QWidget(parent) {
  m_plot = newLinePlot(this, "forgettingPlot");
  m_plot->xAxis->setLabel("tasks seen in the meta-test stream");
  m_controls = new PlotControls(m_plot, "forgetting", "forgetting", this);
  m_status = new QLabel(this);
  auto* bar = new QHBoxLayout;
  bar->addWidget(m_status);
  bar->addStretch();
  m_controls->addTo(bar);
  layOutBelowToolbar(this, bar, m_plot);
  connect(m_controls, &PlotControls::scalesChanged, this, &ForgettingView::reload);
  m_controls->setHoverText([this](double x, double) { return hoverText(x); });
}

void ForgettingView::setStore(std::shared_ptr<core::RunStore> store) {
  m_store = std::move(store);
  m_run = 0;
  reload();
}

void ForgettingView::setRun(int64_t run) {
  if (run != m_run) m_controls->resetView();
  m_run = run;
  reload();
}

void ForgettingView::reload() {
  m_plot->clearGraphs();
  m_tasks.clear();
  std::map<int, std::map<double, double>> byTask;
  int64_t last = -1;
  if (m_store && m_run) {
    const auto curves = m_store->curves(m_run);
    for (const auto& c : curves)
      if (c.curve.rfind("forgetting/", 0) == 0) last = std::max(last, c.step);
    for (const auto& c : curves) {
      if (c.curve.rfind("forgetting/task ", 0) != 0 || c.step != last) continue;
      const QString name = QString::fromStdString(c.curve);  // forgetting/task K/<score>
      byTask[name.section('/', 1, 1).mid(5).toInt()][c.x] = c.value;
      m_score = name.section('/', 2);
    }
  }
  const int tasks = int(byTask.size());
  QCPColorGradient order(QCPColorGradient::gpSpectrum);  // early tasks one end of the spectrum, late ones the other
  for (const auto& [k, pts] : byTask) {
    QVector<double> x, y;
    for (const auto& [t, v] : pts) { x << t; y << v; }
    QCPGraph* g = m_plot->addGraph();
    g->setData(x, y, true);
    const QColor colour = QColor::fromRgb(order.color(double(k - 1), QCPRange(0, std::max(1, tasks - 1))));
    g->setPen(QPen(colour, 2));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
    g->setName(QString("task %1").arg(k));
    m_tasks.push_back({k, pts});
  }
  m_plot->legend->setVisible(tasks > 0 && tasks <= 20);
  m_plot->yAxis->setLabel(m_score.isEmpty() ? "score" : m_score + " on the task's queries");
  m_status->setText(m_run == 0 ? "Select a run" : tasks == 0 ? QString("run %1 stored no forgetting sweep (eval.forgetting)").arg(m_run)
                                                             : QString("run %1, %2 tasks").arg(m_run).arg(tasks));
  m_controls->info()->clear();
  if (tasks <= 30 && m_plot->xAxis->scaleType() == QCPAxis::stLinear) {  // whole numbers of tasks on the axis
    QSharedPointer<QCPAxisTickerFixed> whole(new QCPAxisTickerFixed);
    whole->setTickStep(tasks > 12 ? 2 : 1);
    m_plot->xAxis->setTicker(whole);
  }
  m_controls->finishReplot();
  if (!m_controls->userMovedView() && m_plot->xAxis->scaleType() == QCPAxis::stLinear) {
    m_plot->xAxis->setRange(0.7, std::max(1, tasks) + 0.3);  // the first and last points off the frame
    if (m_score == "accuracy" && m_plot->yAxis->scaleType() == QCPAxis::stLinear) m_plot->yAxis->setRange(0, 1.02);
  }
  m_plot->replot();
}

QString ForgettingView::hoverText(double x) const {
  QString rows;
  const double t = std::round(x);
  for (const auto& [k, pts] : m_tasks) {
    auto it = pts.find(t);
    if (it != pts.end()) rows += QString("<tr><td>task %1</td><td align=right>%2</td></tr>").arg(k).arg(it->second, 0, 'f', 3);
  }
  if (rows.isEmpty()) return {};
  return QString("<b>after %1 tasks</b><table>").arg(int(t)) + rows + "</table>";
}

}  // namespace continua::ui

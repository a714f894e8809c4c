#include "ui/plot_controls.h"

#include "ui/plot_export.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QPushButton>
#include <QSettings>
#include <QToolTip>
#include <QVBoxLayout>

namespace continua::ui {

PlotControls::PlotControls(QCustomPlot* plot, const QString& settingsKey, const QString& exportName, QWidget* parent,
                           bool logAxes)
    : QObject(parent), m_plot(plot), m_key(settingsKey) {
  if (logAxes) {
    m_logX = new QCheckBox("log x", parent);
    m_logY = new QCheckBox("log y", parent);
    m_logX->setObjectName(settingsKey + "LogX");
    m_logY->setObjectName(settingsKey + "LogY");
    m_logX->setChecked(setting("logX", false).toBool());
    m_logY->setChecked(setting("logY", false).toBool());
    for (QCheckBox* box : {m_logX, m_logY})
      connect(box, &QCheckBox::toggled, this, [this] {
        setSetting("logX", m_logX->isChecked());
        setSetting("logY", m_logY->isChecked());
        emit scalesChanged();
      });
  }
  m_reset = new QPushButton("Reset view", parent);
  m_reset->setToolTip("Fit the axes to the data again (also: double-click the plot)");
  m_export = new QPushButton("Export...", parent);
  m_info = new QLabel(parent);
  plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  connect(m_reset, &QPushButton::clicked, this, &PlotControls::resetView);
  connect(m_export, &QPushButton::clicked, this, [this, parent, exportName] { exportPlotInteractively(parent, m_plot, exportName); });
  // The user's view: any wheel zoom, or a drag with a button held, until the next reset.
  connect(plot, &QCustomPlot::mouseWheel, this, [this] { m_userView = true; });
  connect(plot, &QCustomPlot::mousePress, this, [this] { m_dragging = true; });
  connect(plot, &QCustomPlot::mouseRelease, this, [this] { m_dragging = false; });
  connect(plot, &QCustomPlot::mouseDoubleClick, this, &PlotControls::resetView);
  connect(plot, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
    if (m_dragging && e->buttons() != Qt::NoButton) {
      m_userView = true;
      return;
    }
    const QString text = hoverTextAt(m_plot->xAxis->pixelToCoord(e->pos().x()), m_plot->yAxis->pixelToCoord(e->pos().y()));
    if (text.isEmpty()) QToolTip::hideText();
    else QToolTip::showText(e->globalPosition().toPoint(), text, m_plot);
  });
}

void PlotControls::addTo(QHBoxLayout* bar) {
  if (m_logX) bar->addWidget(m_logX);
  if (m_logY) bar->addWidget(m_logY);
  bar->addWidget(m_reset);
  bar->addWidget(m_info);
  bar->addWidget(m_export);
}

void PlotControls::applyScales() {
  auto scale = [](QCPAxis* axis, bool log) {
    if (log == (axis->scaleType() == QCPAxis::stLogarithmic)) return;
    axis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    axis->setTicker(log ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog) : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  };
  if (m_logX) scale(m_plot->xAxis, m_logX->isChecked());
  if (m_logY) scale(m_plot->yAxis, m_logY->isChecked());
}

void PlotControls::finishReplot() {
  applyScales();
  if (!m_userView) m_plot->rescaleAxes();
}

void PlotControls::resetView() {
  m_userView = false;
  applyScales();
  m_plot->rescaleAxes();
  m_plot->replot();
}

void PlotControls::hoverOverNamedGraphs(const QString& xName) {
  setHoverText([this, xName](double x, double) {
    QString rows;
    for (int i = 0; i < m_plot->graphCount(); ++i) {
      QCPGraph* g = m_plot->graph(i);
      if (g->name().isEmpty() || g->data()->isEmpty()) continue;
      auto it = g->data()->findBegin(x, true);
      if (it == g->data()->constEnd()) continue;
      auto next = it + 1;
      if (next != g->data()->constEnd() && std::abs(next->key - x) < std::abs(it->key - x)) it = next;
      rows += QString("<tr><td>%1</td><td align=right>%2</td><td align=right>%3</td></tr>")
                  .arg(g->name().toHtmlEscaped()).arg(it->key, 0, 'g', 6).arg(it->value, 0, 'g', 5);
    }
    return rows.isEmpty() ? QString() : "<table><tr><th></th><th>" + xName + "</th><th>value</th></tr>" + rows + "</table>";
  });
}

void PlotControls::setPointCount(int drawn, int total) {
  m_info->setText(drawn < total ? QString("%1 of %2 points drawn").arg(drawn).arg(total) : QString("%1 points").arg(total));
}

QVariant PlotControls::setting(const QString& name, const QVariant& fallback) const {
  return QSettings().value("views/" + m_key + "/" + name, fallback);
}

void PlotControls::setSetting(const QString& name, const QVariant& value) const {
  QSettings().setValue("views/" + m_key + "/" + name, value);
}

void thinForDisplay(const QVector<double>& x, const QVector<double>& y, int maxPoints, QVector<double>& outX,
                    QVector<double>& outY) {
  outX.clear();
  outY.clear();
  const int n = int(x.size());
  if (n <= maxPoints || maxPoints < 4) {
    outX = x;
    outY = y;
    return;
  }
  const int buckets = maxPoints / 2;
  for (int b = 0; b < buckets; ++b) {
    const int from = int(int64_t(n) * b / buckets), to = int(int64_t(n) * (b + 1) / buckets);
    int lo = from, hi = from;
    for (int i = from; i < to; ++i) {
      if (y[i] < y[lo]) lo = i;
      if (y[i] > y[hi]) hi = i;
    }
    for (int i : {std::min(lo, hi), std::max(lo, hi)}) {
      outX << x[i];
      outY << y[i];
      if (lo == hi) break;
    }
  }
}

QCustomPlot* newLinePlot(QWidget* parent, const QString& objectName) {
  auto* plot = new QCustomPlot(parent);
  plot->setObjectName(objectName);
  plot->legend->setVisible(true);
  return plot;
}

void layOutBelowToolbar(QWidget* view, QHBoxLayout* bar, QWidget* content) {
  auto* lay = new QVBoxLayout(view);
  lay->setContentsMargins(2, 2, 2, 2);
  lay->addLayout(bar);
  lay->addWidget(content, 1);
}

}  // namespace continua::ui

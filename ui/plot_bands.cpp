#include "ui/plot_bands.h"

#include <qcustomplot.h>

#include <cmath>

namespace continua::ui {

MeanBand meanAndSpread(const std::vector<std::map<double, double>>& series) {
  std::map<double, std::vector<double>> byX;
  for (const auto& s : series)
    for (const auto& [x, v] : s)
      if (std::isfinite(v)) byX[x].push_back(v);
  MeanBand b;
  for (const auto& [x, vals] : byX) {
    double m = 0, var = 0;
    for (double d : vals) m += d;
    m /= double(vals.size());
    for (double d : vals) var += (d - m) * (d - m);
    const double sd = vals.size() > 1 ? std::sqrt(var / double(vals.size() - 1)) : 0.0;
    b.x << x;
    b.mean << m;
    b.low << m - sd;
    b.high << m + sd;
  }
  return b;
}

void addMeanBand(QCustomPlot* plot, const MeanBand& band, const QColor& colour, const QString& label) {
  QCPGraph* low = plot->addGraph();
  low->setData(band.x, band.low, true);
  low->setPen(Qt::NoPen);
  low->removeFromLegend();
  QCPGraph* high = plot->addGraph();
  high->setData(band.x, band.high, true);
  high->setPen(Qt::NoPen);
  QColor fill = colour;
  fill.setAlpha(50);
  high->setBrush(fill);
  high->setChannelFillGraph(low);
  high->removeFromLegend();
  QCPGraph* mean = plot->addGraph();
  mean->setData(band.x, band.mean, true);
  mean->setPen(QPen(colour, 2));
  mean->setName(label);
}

}  // namespace continua::ui

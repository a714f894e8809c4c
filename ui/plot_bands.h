#pragma once
// A mean curve with its +-1 standard deviation band (seed repeats drawn as one), shared by the live curves and
// the compare view.
#include <QColor>
#include <QString>
#include <QVector>

#include <cstdint>
#include <map>
#include <vector>

class QCustomPlot;

namespace continua::ui {

struct MeanBand {
  QVector<double> x, mean, low, high;
};
// Per x, the mean and sample std over the series that have a value there (series: x -> value).
MeanBand meanAndSpread(const std::vector<std::map<double, double>>& series);
// Adds the band (no legend entry) and the mean line (named `label`) to the plot.
void addMeanBand(QCustomPlot* plot, const MeanBand& band, const QColor& colour, const QString& label);

}  // namespace continua::ui

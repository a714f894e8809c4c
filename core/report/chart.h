#pragma once
// Report figures drawn on a Canvas: a line chart (series with seed bands, log axes, the region past the
// training length shaded, a legend beside the plot) and a row of heat maps (association maps against the
// ground truth). The workbench draws the same data with QCustomPlot; these are for files.
#include "core/report/canvas.h"

#include <cmath>
#include <string>
#include <vector>

namespace continua::core {

struct ChartSeries {
  std::string name;
  std::vector<double> x, y;
  std::vector<double> low, high;  // a band (mean ± std over seeds); empty for none
  bool dashed = false;            // baselines
  int colour = -1;                // palette index; -1: the series' position
};

struct LineChart {
  std::string title, xLabel, yLabel;
  bool logX = false, logY = false;
  std::vector<ChartSeries> series;
  double shadeFromX = std::nan("");  // x past which the plot is shaded (beyond the training length)
  std::string shadeLabel;
};

struct HeatmapPanel {
  std::string title;
  int rows = 0, cols = 0;
  std::vector<float> values;  // row-major
};

Rgb paletteColour(int index);  // the workbench's series colours

Canvas renderLineChart(const LineChart& chart, int width = 960, int height = 520);
// Panels side by side, each scaled to its own maximum (rows: query positions, columns: stream positions).
Canvas renderHeatmaps(const std::string& title, const std::vector<HeatmapPanel>& panels, int panelWidth = 420,
                      int panelHeight = 300);

// Axis ticks: "nice" 1-2-5 steps on a linear axis, decades (with 2 and 5 when few) on a log axis.
std::vector<double> axisTicks(double low, double high, bool log);
std::string tickText(double v);

}  // namespace continua::core

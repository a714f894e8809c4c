#include "core/report/chart.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace continua::core {

namespace {

const Rgb kInk{40, 40, 40}, kGrid{225, 225, 225}, kShade{255, 236, 200};

struct Range {
  double low = std::numeric_limits<double>::infinity(), high = -std::numeric_limits<double>::infinity();
  void add(double v, bool log) {
    if (!std::isfinite(v) || (log && v <= 0)) return;
    low = std::min(low, v);
    high = std::max(high, v);
  }
  bool empty() const { return !(low <= high); }
};

// Maps data to pixels inside the plot rectangle, on a linear or log10 scale.
struct Axis {
  double low, high, pixelLow, pixelHigh;
  bool log;
  double f(double v) const { return log ? std::log10(v) : v; }
  double toPixel(double v) const { return pixelLow + (f(v) - f(low)) / (f(high) - f(low)) * (pixelHigh - pixelLow); }
};

Range dataRange(const LineChart& c, bool xAxis) {
  Range r;
  const bool log = xAxis ? c.logX : c.logY;
  for (const auto& s : c.series) {
    for (double v : xAxis ? s.x : s.y) r.add(v, log);
    if (!xAxis) {
      for (double v : s.low) r.add(v, log);
      for (double v : s.high) r.add(v, log);
    }
  }
  if (r.empty()) r = {log ? 1.0 : 0.0, log ? 10.0 : 1.0};
  if (r.low == r.high) {
    r.low = log ? r.low / 2 : r.low - (r.low == 0 ? 1 : std::abs(r.low) * 0.1);
    r.high = log ? r.high * 2 : r.high + (r.high == 0 ? 1 : std::abs(r.high) * 0.1);
  }
  if (!log) {  // a little air above and below the data
    const double pad = (r.high - r.low) * (xAxis ? 0.02 : 0.05);
    r.low -= pad;
    r.high += pad;
  }
  return r;
}

// Runs of consecutive finite points, so a missing value breaks the line instead of drawing it to zero.
std::vector<std::vector<Point>> finiteRuns(const ChartSeries& s, const Axis& x, const Axis& y, const std::vector<double>& ys) {
  std::vector<std::vector<Point>> runs(1);
  for (size_t i = 0; i < s.x.size() && i < ys.size(); ++i) {
    const bool ok = std::isfinite(s.x[i]) && std::isfinite(ys[i]) && (!x.log || s.x[i] > 0) && (!y.log || ys[i] > 0);
    if (ok) runs.back().push_back({x.toPixel(s.x[i]), y.toPixel(ys[i])});
    else if (!runs.back().empty()) runs.emplace_back();
  }
  return runs;
}

void drawBand(Canvas& canvas, const ChartSeries& s, const Axis& x, const Axis& y, Rgb colour) {
  if (s.low.size() != s.x.size() || s.high.size() != s.x.size()) return;
  auto lows = finiteRuns(s, x, y, s.low), highs = finiteRuns(s, x, y, s.high);
  for (size_t r = 0; r < lows.size() && r < highs.size(); ++r) {
    if (lows[r].size() < 2 || lows[r].size() != highs[r].size()) continue;
    std::vector<Point> polygon = highs[r];
    polygon.insert(polygon.end(), lows[r].rbegin(), lows[r].rend());
    canvas.fillPolygon(polygon, colour, 0.22);
  }
}

void drawAxes(Canvas& canvas, const LineChart& c, const Axis& x, const Axis& y) {
  const double left = x.pixelLow, right = x.pixelHigh, top = y.pixelHigh, bottom = y.pixelLow;
  for (double t : axisTicks(x.low, x.high, x.log)) {
    const double px = x.toPixel(t);
    canvas.line({px, top}, {px, bottom}, kGrid, 1);
    canvas.line({px, bottom}, {px, bottom + 5}, kInk, 1);
    canvas.text(px, bottom + 8, tickText(t), 13, kInk, Align::Middle, Align::Start);
  }
  for (double t : axisTicks(y.low, y.high, y.log)) {
    const double py = y.toPixel(t);
    canvas.line({left, py}, {right, py}, kGrid, 1);
    canvas.line({left - 5, py}, {left, py}, kInk, 1);
    canvas.text(left - 8, py, tickText(t), 13, kInk, Align::End, Align::Middle);
  }
  canvas.polyline({{left, top}, {left, bottom}, {right, bottom}}, kInk, 1.2);
  canvas.text((left + right) / 2, bottom + 30, c.xLabel + (c.logX ? " (log)" : ""), 15, kInk, Align::Middle, Align::Start);
  canvas.text(18, (top + bottom) / 2, c.yLabel + (c.logY ? " (log)" : ""), 15, kInk, Align::Middle, Align::Start, true);
  canvas.text(left, 12, c.title, 17, kInk, Align::Start, Align::Start);
}

void drawLegend(Canvas& canvas, const LineChart& c, double left, double top, double bottom) {
  const double row = 20;
  const size_t fits = size_t(std::max(1.0, (bottom - top) / row));
  for (size_t i = 0; i < c.series.size(); ++i) {
    const double y = top + row * double(i) + row / 2;
    if (i + 1 == fits && c.series.size() > fits) {
      canvas.text(left, y, "… " + std::to_string(c.series.size() - i) + " more", 13, kInk, Align::Start, Align::Middle);
      break;
    }
    const auto& s = c.series[i];
    const Rgb colour = paletteColour(s.colour >= 0 ? s.colour : int(i));
    canvas.polyline({{left, y}, {left + 24, y}}, colour, 2.2, s.dashed);
    canvas.text(left + 30, y, s.name, 13, kInk, Align::Start, Align::Middle);
  }
}

}  // namespace

Rgb paletteColour(int i) {
  static const Rgb c[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},  {148, 103, 189},
                          {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return c[((i % 10) + 10) % 10];
}

std::string tickText(double v) {
  char b[32];
  // Short labels, so a tick never runs into the axis title: 20 k, 1.5 M, 1e-04.
  if (std::abs(v) >= 1e6) std::snprintf(b, sizeof b, "%g M", v / 1e6);
  else if (std::abs(v) >= 1e4) std::snprintf(b, sizeof b, "%g k", v / 1e3);
  else if (v != 0 && std::abs(v) < 1e-3) std::snprintf(b, sizeof b, "%.0e", v);
  else std::snprintf(b, sizeof b, "%g", std::abs(v) < 1e-12 ? 0.0 : v);
  return b;
}

std::vector<double> axisTicks(double low, double high, bool log) {
  std::vector<double> ticks;
  if (!(low < high)) return ticks;
  if (log) {
    const int first = int(std::floor(std::log10(low))), last = int(std::ceil(std::log10(high)));
    const bool fine = last - first <= 2;
    for (int e = first; e <= last; ++e)
      for (double m : fine ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
        const double v = m * std::pow(10.0, e);
        if (v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9)) ticks.push_back(v);
      }
    return ticks;
  }
  const double raw = (high - low) / 6, magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) { step = m * magnitude; break; }
  // Multiples of the step (not a running sum, whose rounding would print 0.6000000000000001).
  for (double k = std::ceil(low / step); k * step <= high + step * 1e-9; ++k) ticks.push_back(k == 0 ? 0.0 : k * step);
  return ticks;
}

Canvas renderLineChart(const LineChart& c, int width, int height) {
  Canvas canvas(width, height);
  double legendWidth = 0;
  for (const auto& s : c.series) legendWidth = std::max(legendWidth, canvas.textWidth(s.name, 13) + 40);
  legendWidth = std::min(legendWidth, width * 0.38);
  const double left = 78, right = width - legendWidth - 20, top = 44, bottom = height - 58;
  const Range xr = dataRange(c, true), yr = dataRange(c, false);
  const Axis x{xr.low, xr.high, left, right, c.logX}, y{yr.low, yr.high, bottom, top, c.logY};
  if (std::isfinite(c.shadeFromX) && c.shadeFromX < xr.high) {
    const double from = std::max(left, x.toPixel(std::max(c.shadeFromX, xr.low)));
    canvas.fillRect(from, top, right, bottom, kShade);
    if (!c.shadeLabel.empty()) canvas.text(from + 6, top + 4, c.shadeLabel, 12, {150, 110, 40}, Align::Start, Align::Start);
  }
  drawAxes(canvas, c, x, y);
  for (size_t i = 0; i < c.series.size(); ++i)
    drawBand(canvas, c.series[i], x, y, paletteColour(c.series[i].colour >= 0 ? c.series[i].colour : int(i)));
  for (size_t i = 0; i < c.series.size(); ++i) {
    const auto& s = c.series[i];
    const Rgb colour = paletteColour(s.colour >= 0 ? s.colour : int(i));
    for (const auto& run : finiteRuns(s, x, y, s.y)) {
      canvas.polyline(run, colour, s.dashed ? 1.6 : 2.2, s.dashed);
      if (run.size() <= 30 && !s.dashed)
        for (const auto& p : run) canvas.disc(p, 3.2, colour);
      if (run.size() == 1) canvas.disc(run[0], 3.2, colour);
    }
  }
  drawLegend(canvas, c, right + 20, top, bottom);
  return canvas;
}

Canvas renderHeatmaps(const std::string& title, const std::vector<HeatmapPanel>& panels, int panelWidth, int panelHeight) {
  const int gap = 30, top = 64, left = 20;
  const int width = left + int(panels.size()) * (panelWidth + gap), height = top + panelHeight + 40;
  Canvas canvas(std::max(width, 400), height);
  canvas.text(left, 12, title, 17, kInk, Align::Start, Align::Start);
  for (size_t p = 0; p < panels.size(); ++p) {
    const auto& panel = panels[p];
    const double x0 = left + double(p) * (panelWidth + gap);
    canvas.text(x0, top - 8, panel.title, 14, kInk, Align::Start, Align::End);
    if (panel.rows <= 0 || panel.cols <= 0 || panel.values.size() != size_t(panel.rows) * size_t(panel.cols)) continue;
    float peak = 0;
    for (float v : panel.values) peak = std::max(peak, std::isfinite(v) ? v : 0.f);
    const double cw = double(panelWidth) / panel.cols, rh = double(panelHeight) / panel.rows;
    for (int r = 0; r < panel.rows; ++r)
      for (int col = 0; col < panel.cols; ++col) {
        const float v = panel.values[size_t(r) * size_t(panel.cols) + size_t(col)];
        // Whole-pixel cell edges, so neighbouring cells meet without a seam of background between them.
        canvas.fillRect(std::round(x0 + col * cw), std::round(top + r * rh), std::round(x0 + (col + 1) * cw),
                        std::round(top + (r + 1) * rh), colourMap(peak > 0 ? v / peak : 0));
      }
    canvas.text(x0, top + panelHeight + 6, "stream position →", 12, kInk, Align::Start, Align::Start);
    canvas.text(x0 + panelWidth, top + panelHeight + 6, "rows: queries; colour: value / panel maximum", 12, kInk, Align::End, Align::Start);
  }
  return canvas;
}

}  // namespace continua::core

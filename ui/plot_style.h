#pragma once
// Colours shared by every plot, and palette-aware styling of QCustomPlot axes for light and dark themes.
#include <QColor>

class QCustomPlot;

namespace continua::ui {

inline QColor seriesColor(int i) {
  static const QColor c[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44), QColor(214, 39, 40),
                             QColor(148, 103, 189), QColor(140, 86, 75), QColor(227, 119, 194), QColor(127, 127, 127),
                             QColor(188, 189, 34), QColor(23, 190, 207)};
  return c[((i % 10) + 10) % 10];
}

// Background, axes, grid and legend from the application palette (call after a theme change).
void stylePlot(QCustomPlot* plot);

}  // namespace continua::ui

#pragma once
// Export any plot as PNG, PDF or SVG (QCustomPlot has no SVG writer: it paints into a QSvgGenerator), and
// the data behind it as CSV (one row per point of every graph: series, x, y).
#include <QString>

class QCustomPlot;
class QWidget;

namespace continua::ui {

// Format from the file's extension (.png, .pdf, .svg, .csv). Returns an error message, empty on success.
QString exportPlot(QCustomPlot* plot, const QString& path);
QString exportPlotCsv(QCustomPlot* plot, const QString& path);
// Asks for a file name, then exports; errors are shown in a message box.
void exportPlotInteractively(QWidget* parent, QCustomPlot* plot, const QString& baseName);

}  // namespace continua::ui

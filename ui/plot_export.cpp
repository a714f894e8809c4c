#include "ui/plot_export.h"

#include <qcustomplot.h>

#include <QFile>
#include <QFileDialog>
#include <QMessageBox>
#include <QSvgGenerator>
#include <QTextStream>

namespace continua::ui {

QString exportPlotCsv(QCustomPlot* plot, const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Text)) return "cannot write " + path + ": " + f.errorString();
  QTextStream out(&f);
  out << "series,x,y\n";
  for (int g = 0; g < plot->graphCount(); ++g) {
    QCPGraph* graph = plot->graph(g);
    QString name = graph->name();
    name.replace('"', "\"\"");
    for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it)
      out << '"' << name << "\"," << it->key << ',' << it->value << '\n';
  }
  return {};
}

QString exportPlot(QCustomPlot* plot, const QString& path) {
  const QString ext = QFileInfo(path).suffix().toLower();
  bool ok = false;
  if (ext == "png") ok = plot->savePng(path, 0, 0, 2.0);
  else if (ext == "pdf") ok = plot->savePdf(path);
  else if (ext == "csv") return exportPlotCsv(plot, path);
  else if (ext == "svg") {
    QSvgGenerator gen;
    gen.setFileName(path);
    gen.setSize(plot->size());
    gen.setViewBox(QRect(QPoint(0, 0), plot->size()));
    QCPPainter painter;
    painter.begin(&gen);
    plot->toPainter(&painter, plot->width(), plot->height());
    painter.end();
    ok = QFile::exists(path);
  } else {
    return "unknown export format '" + ext + "' (use .png, .pdf, .svg or .csv)";
  }
  return ok ? QString() : "could not write " + path;
}

void exportPlotInteractively(QWidget* parent, QCustomPlot* plot, const QString& baseName) {
  const QString path = QFileDialog::getSaveFileName(parent, "Export plot", baseName + ".png",
                                                    "PNG image (*.png);;PDF (*.pdf);;SVG (*.svg);;Data as CSV (*.csv)");
  if (path.isEmpty()) return;
  const QString err = exportPlot(plot, path);
  if (!err.isEmpty()) QMessageBox::warning(parent, "Export failed", err);
}

}  // namespace continua::ui

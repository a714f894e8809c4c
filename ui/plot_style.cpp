#include "ui/plot_style.h"

#include <qcustomplot.h>

#include <QApplication>

namespace continua::ui {

void stylePlot(QCustomPlot* plot) {
  const QPalette p = qApp->palette();
  const QColor fg = p.color(QPalette::WindowText), bg = p.color(QPalette::Base);
  plot->setBackground(bg);
  for (QCPAxis* a : plot->axisRect()->axes()) {
    a->setBasePen(QPen(fg));
    a->setTickPen(QPen(fg));
    a->setSubTickPen(QPen(fg));
    a->setTickLabelColor(fg);
    a->setLabelColor(fg);
    QColor grid = fg;
    grid.setAlpha(40);
    a->grid()->setPen(QPen(grid, 1, Qt::DotLine));
  }
  plot->legend->setBrush(bg);
  plot->legend->setTextColor(fg);
  plot->legend->setBorderPen(QPen(fg));
}

}  // namespace continua::ui

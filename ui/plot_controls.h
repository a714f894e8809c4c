#pragma once
// What every plot view gives the user, in one place: log x / log y, a view that stays where the user put it
// (zoom or pan, and new data no longer rescales; double-click or "Reset view" fits everything again), values on
// hover (the view supplies the text for a point under the cursor), "N of M points drawn" when a series is
// thinned for display, and Export. Its choices are kept in QSettings under views/<settings key>/.
#include <QObject>
#include <QString>

#include <functional>

class QCustomPlot;
class QCheckBox;
class QHBoxLayout;
class QLabel;
class QPushButton;
class QWidget;

namespace continua::ui {

class PlotControls : public QObject {
  Q_OBJECT
 public:
  // settingsKey names the view in QSettings ("curves", "evaluation", ...); exportName is the default file name.
  PlotControls(QCustomPlot* plot, const QString& settingsKey, const QString& exportName, QWidget* parent,
               bool logAxes = true);
  // Log x, log y, Reset view, the point count and Export, appended to a view's toolbar.
  void addTo(QHBoxLayout* bar);

  // Call at the end of every replot: applies the log scales and fits the axes to the data, unless the user has
  // zoomed or panned since the last reset (then only the scales change).
  void finishReplot();
  bool userMovedView() const { return m_userView; }
  void resetView();

  // Text for the point (plot coordinates) under the cursor, or empty for no tooltip.
  using HoverText = std::function<QString(double x, double y)>;
  void setHoverText(HoverText f) { m_hover = std::move(f); }
  // The value of every named graph at the data point nearest x (for views whose graphs are all there is).
  void hoverOverNamedGraphs(const QString& xName);
  QString hoverTextAt(double x, double y) const { return m_hover ? m_hover(x, y) : QString(); }
  void setPointCount(int drawn, int total);

  QCheckBox* logX() const { return m_logX; }
  QCheckBox* logY() const { return m_logY; }
  QLabel* info() const { return m_info; }

  // A view's own setting, kept with the others of this view.
  QVariant setting(const QString& name, const QVariant& fallback) const;
  void setSetting(const QString& name, const QVariant& value) const;

 signals:
  void scalesChanged();  // log x or log y toggled: the view should replot

 private:
  void applyScales();
  QCustomPlot* m_plot;
  QString m_key;
  QCheckBox *m_logX = nullptr, *m_logY = nullptr;
  QPushButton *m_reset, *m_export;
  QLabel* m_info;
  HoverText m_hover;
  bool m_userView = false;
  bool m_dragging = false;
};

// The layout every plot view shares: a plot with its legend shown, and the view's toolbar above its content
// (the plot, or a splitter holding it), with the views' thin margins.
QCustomPlot* newLinePlot(QWidget* parent, const QString& objectName);
void layOutBelowToolbar(QWidget* view, QHBoxLayout* bar, QWidget* content);

// Keeps at most `maxPoints` of a series for drawing (min and max of each bucket, in x order), so a curve of
// 10^6 steps draws as fast as one of 10^3 and still shows its extremes.
void thinForDisplay(const QVector<double>& x, const QVector<double>& y, int maxPoints, QVector<double>& outX,
                    QVector<double>& outY);

}  // namespace continua::ui

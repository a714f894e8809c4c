#pragma once
// Live curves: one metric for the selected runs, overlaid. TensorBoard's debiased EMA with the raw curve drawn
// faintly behind it, x by step or wall time, log axes, runs that differ only by seed drawn as their mean +- std,
// and a tooltip table (step, wall time, raw and smoothed value of every visible run) on hover. New points are
// fetched incrementally and replots coalesced on a ~40 ms timer, never one per point; once the user zooms or
// pans, new points no longer move the view (double-click or Reset view to follow again).
#include "core/store/run_store.h"

#include <QWidget>

#include <map>

class QCustomPlot;
class QComboBox;
class QSlider;
class QCheckBox;
class QTimer;

namespace continua::ui {

class PlotControls;

class CurvesView : public QWidget {
  Q_OBJECT
 public:
  explicit CurvesView(QWidget* parent = nullptr);
  void setStore(std::shared_ptr<core::RunStore> store);
  QCustomPlot* plot() const { return m_plot; }
  PlotControls* controls() const { return m_controls; }
  QString metric() const;
  void setMetric(const QString& key);
  void setGroupSeeds(bool on);
  int pointCount() const;  // points held (all runs, raw series)
  QString hoverText(double x) const;  // the tooltip for the cursor at x (step or seconds)

 public slots:
  void setRuns(const std::vector<int64_t>& runs);
  void pollNewPoints();     // fetch points written since the last poll (cheap: indexed by run, key, step)
  void scheduleReplot();

 private:
  struct Series {
    QVector<double> steps, wall, values;
    int64_t lastStep = -1;
  };
  void rebuildKeys();
  void reloadAll();
  void replot();
  QVector<double> xOf(const Series& s) const;  // steps, or seconds since the run's first point
  std::shared_ptr<core::RunStore> m_store;
  std::vector<int64_t> m_runs;
  std::map<int64_t, Series> m_series;
  std::map<int64_t, QString> m_names;     // legend labels, read when the selection changes
  std::vector<std::vector<int64_t>> m_groups;  // runs that differ only by seed, when grouping
  QCustomPlot* m_plot;
  PlotControls* m_controls;
  QComboBox* m_key;
  QComboBox* m_xAxis;
  QSlider* m_smoothing;
  QCheckBox* m_groupSeeds;
  QTimer* m_replotTimer;
};

}  // namespace continua::ui

#pragma once
// Live curves: one metric for the selected runs, overlaid. TensorBoard's debiased EMA with the raw curve
// drawn faintly behind it, log-scale y, x by step or wall time, zoom and pan. New points are fetched
// incrementally and replots are coalesced on a ~40 ms timer, never one per point.
#include "core/store/run_store.h"

#include <QWidget>

#include <map>

class QCustomPlot;
class QComboBox;
class QSlider;
class QCheckBox;
class QLabel;
class QTimer;

namespace continua::ui {

class CurvesView : public QWidget {
  Q_OBJECT
 public:
  explicit CurvesView(QWidget* parent = nullptr);
  void setStore(std::shared_ptr<core::RunStore> store);
  QCustomPlot* plot() const { return m_plot; }
  QString metric() const;
  void setMetric(const QString& key);
  int pointCount() const;  // points currently plotted (all runs, raw series)

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
  std::shared_ptr<core::RunStore> m_store;
  std::vector<int64_t> m_runs;
  std::map<int64_t, Series> m_series;
  std::map<int64_t, QString> m_names;  // legend labels, read when the selection changes
  QCustomPlot* m_plot;
  QComboBox* m_key;
  QComboBox* m_xAxis;
  QSlider* m_smoothing;
  QCheckBox* m_logY;
  QLabel* m_info;
  QTimer* m_replotTimer;
};

}  // namespace continua::ui

#pragma once
// Sweep: the runs of the sweep the selected run belongs to, as parallel coordinates — one axis per parameter
// that varies across the sweep and one for the final metric, one line per run coloured by that metric — and a
// table of the runs, best first. A sweep's runs also share names per configuration, so the other views group
// their seeds into bands.
#include "core/store/run_store.h"

#include <QWidget>

#include <memory>
#include <vector>

class QComboBox;
class QCustomPlot;
class QLabel;
class QTableWidget;

namespace continua::ui {

class PlotControls;

class SweepView : public QWidget {
  Q_OBJECT
 public:
  explicit SweepView(QWidget* parent = nullptr);
  void setStore(std::shared_ptr<core::RunStore> store);
  QCustomPlot* plot() const { return m_plot; }
  QStringList axisNames() const { return m_axes; }  // the parameters that vary, then the metric
  QString sweepName() const { return m_sweep; }
  int runCount() const { return int(m_runIds.size()); }

 public slots:
  void setRuns(const std::vector<int64_t>& runs);
  void reload();

 private:
  void draw();
  std::shared_ptr<core::RunStore> m_store;
  QString m_sweep;
  std::vector<core::RunSummary> m_runs;  // the sweep's finished runs, as reload() read them
  std::vector<int64_t> m_runIds;         // their ids, for compareRuns
  QStringList m_axes;
  QComboBox* m_metric;
  QLabel* m_title;
  QCustomPlot* m_plot;
  QTableWidget* m_table;
  PlotControls* m_controls;
};

}  // namespace continua::ui

#pragma once
// Compare: two or more runs side by side. Configuration differences only (toggle to show all), the final
// metrics table, and overlaid curves of one metric; runs that differ only by seed can be grouped into a
// mean with a +-1 std band.
#include "core/store/run_export.h"

#include <QWidget>

class QCustomPlot;
class QTableWidget;
class QCheckBox;
class QComboBox;

namespace continua::ui {

class PlotControls;

class CompareView : public QWidget {
  Q_OBJECT
 public:
  explicit CompareView(QWidget* parent = nullptr);
  void setStore(std::shared_ptr<core::RunStore> store);
  QStringList shownConfigKeys() const;  // the keys listed in the configuration table
  QCustomPlot* plot() const { return m_plot; }

 public slots:
  void setRuns(const std::vector<int64_t>& runs);
  void reload();

 private:
  void drawCurves();
  std::shared_ptr<core::RunStore> m_store;
  std::vector<int64_t> m_runs;
  QTableWidget *m_config, *m_metrics;
  QCheckBox *m_showAll, *m_groupSeeds;
  QComboBox* m_metric;
  QCustomPlot* m_plot;
  PlotControls* m_controls;
};

}  // namespace continua::ui

#pragma once
// Evaluation curves stored by the runs, one curve per selected run: length generalisation (accuracy or
// error against the number of tasks or shots at meta-test; the meta-training length marked and the lengths
// beyond it shaded), noise robustness, domain shift, per-task accuracy and, for ICL runs, error against the
// number of in-context examples with the classical baselines. Log axes, hover values, a view that stays.
#include "core/store/run_store.h"

#include <QWidget>

class QCustomPlot;
class QComboBox;

namespace continua::ui {

class PlotControls;

class EvalCurvesView : public QWidget {
  Q_OBJECT
 public:
  explicit EvalCurvesView(QWidget* parent = nullptr);
  void setStore(std::shared_ptr<core::RunStore> store);
  QCustomPlot* plot() const { return m_plot; }
  PlotControls* controls() const { return m_controls; }
  QStringList curveNames() const;
  QString hoverText(double x) const;
  void setCurve(const QString& name);

 public slots:
  void setRuns(const std::vector<int64_t>& runs);
  void reload();

 private:
  void draw();
  void markTrainingLength(double trained);
  std::shared_ptr<core::RunStore> m_store;
  std::vector<int64_t> m_runs;
  std::map<int64_t, std::vector<core::CurvePoint>> m_curves;
  QCustomPlot* m_plot;
  PlotControls* m_controls;
  QComboBox* m_curve;
  std::vector<std::pair<QString, std::map<double, double>>> m_drawn;  // what is on screen, for the tooltip
};

}  // namespace continua::ui

#pragma once
// Evaluation curves stored by the runs, one curve per selected run: length generalisation (accuracy or
// error against the number of tasks or shots at meta-test, with the meta-training length marked), noise
// robustness, domain shift, per-task accuracy (forgetting) and, for ICL runs, error against the number of
// in-context examples with the classical baselines.
#include "core/store/run_store.h"

#include <QWidget>

class QCustomPlot;
class QComboBox;

namespace continua::ui {

class EvalCurvesView : public QWidget {
  Q_OBJECT
 public:
  explicit EvalCurvesView(QWidget* parent = nullptr);
  void setStore(std::shared_ptr<core::RunStore> store);
  QCustomPlot* plot() const { return m_plot; }
  QStringList curveNames() const;
  void setCurve(const QString& name);

 public slots:
  void setRuns(const std::vector<int64_t>& runs);
  void reload();

 private:
  void draw();
  std::shared_ptr<core::RunStore> m_store;
  std::vector<int64_t> m_runs;
  std::map<int64_t, std::vector<core::CurvePoint>> m_curves;
  QCustomPlot* m_plot;
  QComboBox* m_curve;
};

}  // namespace continua::ui

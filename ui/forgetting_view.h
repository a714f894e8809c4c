#pragma once
// Forgetting: for the selected run, the score on each task's classes as the meta-test stream grows past it —
// one line per task k, x = tasks seen (k .. T), from the end-of-run sweep of cl-as-seq's measure_forgetting
// (eval.forgetting). The picture a continual-learning researcher looks for first: a learner that forgets
// bends its early tasks' lines down as later tasks arrive.
#include "core/store/run_store.h"

#include <QWidget>

class QCustomPlot;
class QLabel;

namespace continua::ui {

class PlotControls;

class ForgettingView : public QWidget {
  Q_OBJECT
 public:
  explicit ForgettingView(QWidget* parent = nullptr);
  void setStore(std::shared_ptr<core::RunStore> store);
  QCustomPlot* plot() const { return m_plot; }
  int taskCount() const { return int(m_tasks.size()); }  // lines on display
  QString hoverText(double x) const;

 public slots:
  void setRun(int64_t run);
  void reload();

 private:
  std::shared_ptr<core::RunStore> m_store;
  int64_t m_run = 0;
  std::vector<std::pair<int, std::map<double, double>>> m_tasks;  // task number -> (tasks seen -> score)
  QString m_score;
  QCustomPlot* m_plot;
  PlotControls* m_controls;
  QLabel* m_status;
};

}  // namespace continua::ui

#pragma once
// Selectivity maps: for the fixed probe episode, the model's association map (queries x earlier tokens)
// beside the ground-truth map, same axes and colour scale, per layer, with a slider over the evaluation
// steps at which maps were saved, task boundaries marked and KL(p || q) shown; below them KL(p || q) of every
// layer against the training step (how the maps converge, which the papers never show), its marker and the
// slider moving together (click the curve to pick a step). Hovering a cell names query, token and both weights.
#include "core/store/run_store.h"

#include <QWidget>

#include <optional>

class QCustomPlot;
class QCPColorMap;
class QComboBox;
class QSlider;
class QLabel;

namespace continua::ui {

class SelectivityView : public QWidget {
  Q_OBJECT
 public:
  explicit SelectivityView(QWidget* parent = nullptr);
  void setStore(std::shared_ptr<core::RunStore> store);
  QCustomPlot* modelPlot() const { return m_modelPlot; }
  QCustomPlot* truthPlot() const { return m_truthPlot; }
  // Shape of the maps on display (rows, cols) for the model and the ground truth; (0, 0) when none.
  QSize modelMapSize() const;
  QSize truthMapSize() const;
  QCustomPlot* klPlot() const { return m_klPlot; }
  int64_t currentStep() const;
  void selectStep(int64_t step);        // the saved step nearest to `step`
  QString hoverText(int col, int row) const;

 public slots:
  void setRun(int64_t run);
  void reload();

 private:
  void showStep();
  void drawMap(QCustomPlot* plot, QCPColorMap* map, const core::StoredMap* m, const QString& title, double maxValue);
  void drawKlCurves();
  void markStepOnKl();
  std::shared_ptr<core::RunStore> m_store;
  int64_t m_run = 0;
  std::vector<int64_t> m_steps;
  QCustomPlot *m_modelPlot, *m_truthPlot, *m_klPlot;
  std::optional<core::StoredMap> m_shownModel, m_shownTruth;  // what the maps show, for the tooltip
  QCPColorMap *m_modelMap, *m_truthMap;
  QComboBox* m_layer;
  QSlider* m_step;
  QLabel *m_stepLabel, *m_kl;
};

}  // namespace continua::ui

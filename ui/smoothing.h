#pragma once
// TensorBoard's debiased exponential moving average (reference/ux.md §1): non-finite values pass through
// and do not count; a constant series is returned unsmoothed.
#include <QVector>

#include <cmath>

namespace continua::ui {

inline QVector<double> smoothTensorBoard(const QVector<double>& y, double weight) {
  if (y.isEmpty() || weight <= 0) return y;
  weight = std::min(weight, 1.0);
  bool constant = true;
  for (double v : y) constant = constant && (v == y.front() || !std::isfinite(v));
  if (constant) return y;
  QVector<double> out(y.size());
  double last = 0;
  int n = 0;
  for (int i = 0; i < y.size(); ++i) {
    if (!std::isfinite(y[i])) { out[i] = y[i]; continue; }
    last = last * weight + (1 - weight) * y[i];
    ++n;
    const double debias = weight == 1.0 ? 1.0 : 1.0 - std::pow(weight, n);
    out[i] = last / debias;
  }
  return out;
}

}  // namespace continua::ui

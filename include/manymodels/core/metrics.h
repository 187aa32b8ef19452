// Validation metrics as M4 defines them (see DESIGN.md §5): mae and rmse in the target's units, mape and smape
// in percent, mase scaled by the in-sample mean absolute seasonal difference. Missing actuals are skipped;
// a metric that is undefined for the data (MAPE with a zero actual, MASE with a zero scale) is NaN.
#pragma once

#include <span>

namespace mm {

struct Metrics {
  double mae, rmse, mape, smape, mase;
  static Metrics Undefined();
};

// The MASE scale: mean |y[t] - y[t-m]| over the history (pairs with a missing value skipped); lag 1 when the
// history is no longer than m. NaN when no pair exists.
double MaseScale(std::span<const double> history, int m);

Metrics ComputeMetrics(std::span<const double> actual, std::span<const double> forecast, double mase_scale);

}  // namespace mm

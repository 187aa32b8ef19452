#include "manymodels/core/metrics.h"

#include <cmath>
#include <limits>

namespace mm {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

Metrics Metrics::Undefined() { return {kNaN, kNaN, kNaN, kNaN, kNaN}; }

double MaseScale(std::span<const double> y, int m) {
  const size_t lag = (m >= 1 && y.size() > static_cast<size_t>(m)) ? static_cast<size_t>(m) : 1;
  double s = 0;
  size_t n = 0;
  for (size_t t = lag; t < y.size(); ++t) {
    const double d = y[t] - y[t - lag];
    if (std::isfinite(d)) s += std::fabs(d), ++n;
  }
  return n ? s / static_cast<double>(n) : kNaN;
}

Metrics ComputeMetrics(std::span<const double> actual, std::span<const double> forecast, double scale) {
  double abs_sum = 0, sq_sum = 0, ape_sum = 0, sape_sum = 0;
  size_t n = 0;
  bool zero_actual = false;
  for (size_t i = 0; i < actual.size() && i < forecast.size(); ++i) {
    const double y = actual[i], f = forecast[i];
    if (!std::isfinite(y)) continue;
    const double e = std::fabs(y - f);
    abs_sum += e;
    sq_sum += e * e;
    if (y == 0) zero_actual = true;
    else ape_sum += e / std::fabs(y);
    const double denom = std::fabs(y) + std::fabs(f);
    sape_sum += denom > 0 ? 2.0 * e / denom : 0.0;
    ++n;
  }
  if (n == 0) return Metrics::Undefined();
  const double dn = static_cast<double>(n);
  Metrics m;
  m.mae = abs_sum / dn;
  m.rmse = std::sqrt(sq_sum / dn);
  m.mape = zero_actual ? kNaN : 100.0 * ape_sum / dn;
  m.smape = 100.0 * sape_sum / dn;
  m.mase = (std::isfinite(scale) && scale > 0) ? m.mae / scale : kNaN;
  return m;
}

}  // namespace mm

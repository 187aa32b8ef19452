#include "manymodels/core/update.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

namespace mm {

Forecast CurrentModel::Predict(int horizon) const {
  if (model) return model->Predict(horizon);
  Forecast f;
  f.Resize(static_cast<size_t>(horizon));
  for (auto* v : {&f.mean, &f.lo80, &f.hi80, &f.lo95, &f.hi95})
    std::fill(v->begin(), v->end(), std::numeric_limits<double>::quiet_NaN());
  return f;
}

CurrentModel UpToDate(const std::vector<uint8_t>& params, int64_t model_last_period, int64_t start,
                      const std::vector<std::span<const double>>& columns,
                      const std::vector<std::string>& covariate_names, int horizon) {
  CurrentModel out;
  out.last_period = model_last_period;
  const std::span<const double> y = columns.at(0);
  const auto length = static_cast<int64_t>(y.size());
  auto at = [&](std::span<const double> v, int64_t period) {
    const int64_t i = period - start;
    return i >= 0 && i < length ? v[static_cast<size_t>(i)] : std::numeric_limits<double>::quiet_NaN();
  };
  // The last observed period of the series (rows past it hold future covariates only).
  int64_t last_obs = length - 1;
  while (last_obs >= 0 && std::isnan(y[static_cast<size_t>(last_obs)])) --last_obs;
  const int64_t n_new = std::max<int64_t>(0, start + last_obs - model_last_period);
  std::vector<double> values(static_cast<size_t>(n_new));
  for (int64_t k = 0; k < n_new; ++k) values[static_cast<size_t>(k)] = at(y, model_last_period + 1 + k);
  // Covariates over the new periods and `horizon` past them (NaN where the series does not know them).
  std::vector<std::vector<double>> x(columns.size() - 1);
  UpdateContext ctx;
  ctx.horizon = horizon;
  for (size_t c = 0; c < x.size(); ++c) {
    x[c].resize(static_cast<size_t>(n_new + horizon));
    for (size_t k = 0; k < x[c].size(); ++k)
      x[c][k] = at(columns[1 + c], model_last_period + 1 + static_cast<int64_t>(k));
    ctx.covariates.emplace_back(x[c]);
  }
  ctx.covariate_names = covariate_names;
  try {
    std::unique_ptr<FittedModel> model = LoadModel(params);
    FitOutcome updated = model->Update(values, ctx);
    if (updated.model) {
      out.model = std::move(updated.model);
      out.last_period = model_last_period + n_new;
      out.new_periods = n_new;
    } else {
      out.model = std::move(model);
      out.outcome = CurrentModel::kAsSaved;
      out.note = "update failed: " + updated.error + "; forecast as saved";
    }
  } catch (const std::exception& e) {
    out.model.reset();
    out.outcome = CurrentModel::kFailed;
    out.note = std::string("the model cannot be read: ") + e.what();
  }
  return out;
}

}  // namespace mm

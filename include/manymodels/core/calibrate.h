// Prediction intervals calibrated on the validation windows (`auto`). A model's own 80% / 95% intervals
// assume its form is right; a combination's inherit its members' widths although it errs less than they do
// (NN5: the weighted mean of ETS, fourier and seasonal naive covered 93.7% and 97.5%), and a member's may be
// too narrow or too wide where its form is wrong. The windows `auto` already forecasts (point forecasts
// alone, no extra fit) measure how far off its forecasts actually were: auto's rule applied to each window
// from the other windows' errors (select.cc: HeldOutForecasts, so that weights chosen on a window do not
// flatter it), each error divided by the standard error the final model's 95% interval implies at that step
// (on the side of the error's sign, so skewed intervals stay skewed) is one draw of what should be |Z|, Z
// standard normal. Each error is taken in proportion to the level it was made at: where both forecasts are
// positive, the draw is multiplied by the final forecast's level over the window's at the same step (at most
// 100x either way), because a positive series' errors grow with its level (a window forecast at half today's
// level erred about half as much as today's forecast will; a display week's forecast at ten times a normal
// week's errs about ten times as much). Pooled with kPriorDraws draws shaped as |Z| (the model's own width,
// so that few windows move it little): the 80% half-widths are scaled by the draws' 80% quantile over 1.2816
// (robust to the odd spike, which should not widen the central interval), the 95% half-widths by their root
// mean square (the tail, where large errors are the point). Point forecasts do not change. Measurements:
// bench/ACCURACY.md.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "manymodels/core/model.h"

namespace mm {

struct IntervalFactors {
  double c80 = 1.0, c95 = 1.0;  // the half-widths of the 80% and of the 95% interval are multiplied by these
};

// The factors for `final` (the model's forecast from the whole history, with bounds): `validation[w]`
// forecast y[origins[w], origins[w] + h) (its `mean` alone is used). Both 1 when no error can be scored.
IntervalFactors IntervalScale(const Forecast& final, std::span<const double> y,
                              std::span<const size_t> origins, const std::vector<Forecast>& validation);

// The model whose Predict is `model`'s with each 80% bound moved to mean + c80 x (bound - mean) and each 95%
// one to mean + c95 x (bound - mean), never inside the 80% interval. method() and Label() are the inner
// model's, Describe() gives the factors, Update keeps them. Returns `model` itself when both factors are 1.
std::unique_ptr<FittedModel> CalibratedModel(std::unique_ptr<FittedModel> model, IntervalFactors factor);
// What its Predict does to the inner model's forecast.
void ApplyIntervalFactors(Forecast* f, IntervalFactors factor);

// LoadModel's part: the tag the wrapper saves under, and its loader.
inline constexpr std::string_view kCalibratedTag = "calibrated";
std::unique_ptr<FittedModel> LoadCalibratedModel(ByteReader* in);

}  // namespace mm

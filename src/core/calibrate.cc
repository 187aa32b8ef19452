#include "manymodels/core/calibrate.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "manymodels/core/order_statistics.h"

namespace mm {
namespace {

// The prior (calibrate.h): kPriorDraws draws shaped as |Z| for a standard normal Z, the values of |Z| at the
// midpoints of equal slices of probability (0.525, 0.575, ..., 0.975 of Z's distribution) scaled by 1.032 so
// that their mean square is 1, as Z's (their 80% quantile is 1.247, |Z|'s 1.2816).
constexpr int kPriorDraws = 10;
constexpr double kPriorAbsZ[kPriorDraws] = {0.0647268, 0.1952107, 0.3289040, 0.4683796, 0.6170163,
                                            0.7797499, 0.9646961, 1.1874066, 1.4859044, 2.0231021};
// A guard on the level ratio (calibrate.h): a forecast at a hundredth of another's level is a forecast near
// zero, whose relative error says nothing. On the shared sets it binds for 4 of tourism's 42,000 draws (one
// short series; the largest ratio is 126); the other sets' ratios stay below 40.
constexpr double kMaxLevelRatio = 100;

// The final forecast's level over the validation forecast's at the same step, when both are positive.
double LevelRatio(double final_mean, double validation_mean) {
  if (!(final_mean > 0) || !(validation_mean > 0)) return 1.0;
  return std::clamp(final_mean / validation_mean, 1 / kMaxLevelRatio, kMaxLevelRatio);
}

class Calibrated : public FittedModel {
 public:
  Calibrated(std::unique_ptr<FittedModel> inner, IntervalFactors factor)
      : inner_(std::move(inner)), factor_(factor) {}
  std::string_view method() const override { return inner_->method(); }
  std::string_view tag() const override { return kCalibratedTag; }
  std::string Label() const override { return inner_->Label(); }
  Forecast Predict(int horizon) const override {
    Forecast f = inner_->Predict(horizon);
    ApplyIntervalFactors(&f, factor_);
    return f;
  }
  std::vector<double> PredictMean(int horizon) const override { return inner_->PredictMean(horizon); }
  FitOutcome Update(std::span<const double> new_values, const UpdateContext& ctx) const override {
    FitOutcome inner = inner_->Update(new_values, ctx);
    if (!inner.model) return inner;
    return {std::make_unique<Calibrated>(std::move(inner.model), factor_), {}};
  }
  void Save(ByteWriter* w) const override {
    w->PutF64(factor_.c80);
    w->PutF64(factor_.c95);
    w->PutBytes(SaveModel(*inner_));
  }
  std::string Describe() const override {
    return inner_->Describe() + "; interval widths x " + FormatParameter(factor_.c80) + " (80%), x " +
           FormatParameter(factor_.c95) + " (95%), calibrated on the validation windows' errors";
  }

 private:
  std::unique_ptr<FittedModel> inner_;
  IntervalFactors factor_;
};

}  // namespace

IntervalFactors IntervalScale(const Forecast& final, std::span<const double> y,
                              std::span<const size_t> origins, const std::vector<Forecast>& validation) {
  std::vector<double> draws;  // |z|, the validation's then the prior's
  double squares = 0;
  for (size_t w = 0; w < origins.size() && w < validation.size(); ++w) {
    const auto& mean = validation[w].mean;
    for (size_t i = 0; i < mean.size() && i < final.mean.size() && origins[w] + i < y.size(); ++i) {
      const double e = y[origins[w] + i] - mean[i];
      // The standard error the final interval implies at step i, on the side of the error.
      const double se =
          e >= 0 ? (final.hi95[i] - final.mean[i]) / kZ95 : (final.mean[i] - final.lo95[i]) / kZ95;
      if (!std::isfinite(e) || !(se > 0) || !std::isfinite(se)) continue;
      draws.push_back(std::fabs(e / se) * LevelRatio(final.mean[i], mean[i]));
      squares += draws.back() * draws.back();
    }
  }
  if (draws.empty()) return {};
  for (double z : kPriorAbsZ) draws.push_back(z), squares += z * z;
  const double rms = std::sqrt(squares / static_cast<double>(draws.size()));
  std::sort(draws.begin(), draws.end());
  return {SortedQuantile(draws, 0.8) / kZ80, rms};
}

void ApplyIntervalFactors(Forecast* f, IntervalFactors factor) {
  for (size_t i = 0; i < f->mean.size() && i < f->lo95.size(); ++i) {
    const double m = f->mean[i];
    f->lo80[i] = m + factor.c80 * (f->lo80[i] - m), f->hi80[i] = m + factor.c80 * (f->hi80[i] - m);
    // The 95% interval holds the 80% one whatever the two factors.
    f->lo95[i] = std::min(f->lo80[i], m + factor.c95 * (f->lo95[i] - m));
    f->hi95[i] = std::max(f->hi80[i], m + factor.c95 * (f->hi95[i] - m));
  }
}

std::unique_ptr<FittedModel> CalibratedModel(std::unique_ptr<FittedModel> model, IntervalFactors factor) {
  if ((factor.c80 == 1.0 && factor.c95 == 1.0) || !model) return model;
  return std::make_unique<Calibrated>(std::move(model), factor);
}

std::unique_ptr<FittedModel> LoadCalibratedModel(ByteReader* in) {
  IntervalFactors factor;
  factor.c80 = in->GetF64();
  factor.c95 = in->GetF64();
  for (double c : {factor.c80, factor.c95})
    if (!(c > 0) || !std::isfinite(c)) throw std::runtime_error("saved calibrated model has a bad factor");
  return std::make_unique<Calibrated>(LoadModel(in->GetBytes()), factor);
}

}  // namespace mm

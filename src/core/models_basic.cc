#include "manymodels/core/models_basic.h"
#include "manymodels/core/series.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

namespace mm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Root mean square of the finite values, 0 when there are none.
double Rms(const std::vector<double>& r) {
  double s = 0;
  size_t n = 0;
  for (double v : r)
    if (std::isfinite(v)) s += v * v, ++n;
  return n ? std::sqrt(s / static_cast<double>(n)) : 0.0;
}

// ---------------------------------------------------------------- naive
class NaiveModel : public FittedModel {
 public:
  NaiveModel(double last, double sigma) : last_(last), sigma_(sigma) {}
  std::string_view method() const override { return "naive"; }
  std::string Label() const override { return "Naive"; }
  Forecast Predict(int h) const override {
    std::vector<double> mean(h, last_), se(h);
    for (int i = 0; i < h; ++i) se[i] = sigma_ * std::sqrt(i + 1.0);
    return NormalForecast(mean, se);
  }
  FitOutcome Update(std::span<const double> v, const UpdateContext&) const override {
    if (std::string err = CheckUpdateValues(v, method()); !err.empty()) return {nullptr, err};
    double last = last_;
    for (double x : v)
      if (std::isfinite(x)) last = x;  // a missing value: its forecast, the last value
    return {std::make_unique<NaiveModel>(last, sigma_), {}};
  }
  void Save(ByteWriter* out) const override {
    out->PutF64(last_);
    out->PutF64(sigma_);
  }
  std::string Describe() const override { return "last=" + FormatParameter(last_) + ", sigma=" + FormatParameter(sigma_); }

 private:
  double last_, sigma_;
};

class Naive : public Method {
 public:
  std::string_view name() const override { return "naive"; }
  int MinObservations(const FitContext&) const override { return 2; }
  FitOutcome Fit(std::span<const double> y, const FitContext&) const override {
    if (CountFinite(y) < 2) return {nullptr, "naive needs 2 observations"};
    std::vector<double> diffs;
    for (size_t t = 1; t < y.size(); ++t) diffs.push_back(y[t] - y[t - 1]);
    return {std::make_unique<NaiveModel>(y.back(), Rms(diffs)), {}};
  }
  std::unique_ptr<FittedModel> Load(ByteReader* in) const override {
    const double last = in->GetF64();
    return std::make_unique<NaiveModel>(last, in->GetF64());
  }
};

// ---------------------------------------------------------------- seasonal naive
class SeasonalNaiveModel : public FittedModel {
 public:
  SeasonalNaiveModel(std::vector<double> last_season, double sigma)
      : season_(std::move(last_season)), sigma_(sigma) {}
  std::string_view method() const override { return "snaive"; }
  std::string Label() const override { return "SNaive(" + std::to_string(season_.size()) + ")"; }
  Forecast Predict(int h) const override {
    const int m = static_cast<int>(season_.size());
    std::vector<double> mean(h), se(h);
    for (int i = 0; i < h; ++i) {
      mean[i] = season_[i % m];
      se[i] = sigma_ * std::sqrt(static_cast<double>(i / m + 1));
    }
    return NormalForecast(mean, se);
  }
  // Each new period replaces its position of the cycle; a missing one keeps the value it had (its forecast).
  FitOutcome Update(std::span<const double> v, const UpdateContext&) const override {
    if (std::string err = CheckUpdateValues(v, method()); !err.empty()) return {nullptr, err};
    std::vector<double> season = season_;
    for (double x : v) {
      const double next = std::isfinite(x) ? x : season.front();
      std::rotate(season.begin(), season.begin() + 1, season.end());
      season.back() = next;
    }
    return {std::make_unique<SeasonalNaiveModel>(std::move(season), sigma_), {}};
  }
  void Save(ByteWriter* out) const override {
    out->PutF64s(season_);
    out->PutF64(sigma_);
  }
  std::string Describe() const override {
    return "period=" + std::to_string(season_.size()) + ", sigma=" + FormatParameter(sigma_);
  }

 private:
  std::vector<double> season_;  // the last m values, oldest first
  double sigma_;
};

class SeasonalNaive : public Method {
 public:
  std::string_view name() const override { return "snaive"; }
  int MinObservations(const FitContext& ctx) const override { return ctx.PrimaryPeriod() + 1; }
  FitOutcome Fit(std::span<const double> y, const FitContext& ctx) const override {
    const size_t m = static_cast<size_t>(ctx.PrimaryPeriod());
    if (y.size() < m + 1 || CountFinite(y) < static_cast<int>(m) + 1)
      return {nullptr, "snaive needs more than one cycle of " + std::to_string(m) + " observations"};
    // The last value seen at each position of the cycle; a position missing in the last cycle takes
    // the latest earlier cycle that has it, and failing that the last observation.
    std::vector<double> season(m, kNaN);
    const size_t n = y.size();
    for (size_t j = 0; j < m; ++j) {
      for (size_t t = n - m + j + 1; t-- > 0 && std::isnan(season[j]);) {
        if ((n - m + j - t) % m == 0 && std::isfinite(y[t])) season[j] = y[t];
        if (t < m) break;
      }
      if (std::isnan(season[j])) season[j] = y.back();
    }
    std::vector<double> diffs;
    for (size_t t = m; t < n; ++t) diffs.push_back(y[t] - y[t - m]);
    return {std::make_unique<SeasonalNaiveModel>(std::move(season), Rms(diffs)), {}};
  }
  std::unique_ptr<FittedModel> Load(ByteReader* in) const override {
    auto season = in->GetF64s();
    if (season.empty()) throw std::runtime_error("snaive: empty season in saved model");
    return std::make_unique<SeasonalNaiveModel>(std::move(season), in->GetF64());
  }
};

// ---------------------------------------------------------------- mean
class MeanModel : public FittedModel {
 public:
  MeanModel(double mean, double sd, double n) : mean_(mean), sd_(sd), n_(n) {}
  std::string_view method() const override { return "mean"; }
  std::string Label() const override { return "Mean"; }
  Forecast Predict(int h) const override {
    return NormalForecast(std::vector<double>(h, mean_),
                          std::vector<double>(h, sd_ * std::sqrt(1.0 + 1.0 / n_)));
  }
  // Running mean and standard deviation (Welford), one observation at a time from the saved (mean, sd, n).
  FitOutcome Update(std::span<const double> v, const UpdateContext&) const override {
    if (std::string err = CheckUpdateValues(v, method()); !err.empty()) return {nullptr, err};
    double mean = mean_, sd = sd_, n = n_;
    for (double x : v) {
      if (!std::isfinite(x)) continue;
      double m2 = sd * sd * (n - 1);
      n += 1;
      const double delta = x - mean;
      mean += delta / n;
      m2 += delta * (x - mean);
      sd = std::sqrt(m2 / (n - 1));
    }
    return {std::make_unique<MeanModel>(mean, sd, n), {}};
  }
  void Save(ByteWriter* out) const override {
    out->PutF64(mean_);
    out->PutF64(sd_);
    out->PutF64(n_);
  }
  std::string Describe() const override { return "mean=" + FormatParameter(mean_) + ", sd=" + FormatParameter(sd_); }

 private:
  double mean_, sd_, n_;
};

class Mean : public Method {
 public:
  std::string_view name() const override { return "mean"; }
  int MinObservations(const FitContext&) const override { return 2; }
  FitOutcome Fit(std::span<const double> y, const FitContext&) const override {
    double s = 0;
    int n = 0;
    for (double v : y)
      if (std::isfinite(v)) s += v, ++n;
    if (n < 2) return {nullptr, "mean needs 2 observations"};
    const double mean = s / n;
    double ss = 0;
    for (double v : y)
      if (std::isfinite(v)) ss += (v - mean) * (v - mean);
    return {std::make_unique<MeanModel>(mean, std::sqrt(ss / (n - 1)), n), {}};
  }
  std::unique_ptr<FittedModel> Load(ByteReader* in) const override {
    const double mean = in->GetF64(), sd = in->GetF64();
    return std::make_unique<MeanModel>(mean, sd, in->GetF64());
  }
};

// ---------------------------------------------------------------- drift
class DriftModel : public FittedModel {
 public:
  DriftModel(double last, double slope, double sigma, double span)
      : last_(last), slope_(slope), sigma_(sigma), span_(span) {}
  std::string_view method() const override { return "drift"; }
  std::string Label() const override { return "Drift"; }
  Forecast Predict(int h) const override {
    std::vector<double> mean(h), se(h);
    for (int i = 0; i < h; ++i) {
      const double k = i + 1.0;
      mean[i] = last_ + slope_ * k;
      se[i] = sigma_ * std::sqrt(k * (1.0 + k / span_));
    }
    return NormalForecast(mean, se);
  }
  // The slope stays what it is by definition, (last - first) / span over everything seen: an observation v
  // makes it (slope * span + v - last) / (span + 1); a missing period is its forecast, last + slope (the slope
  // unchanged). sigma stays as fitted.
  FitOutcome Update(std::span<const double> v, const UpdateContext&) const override {
    if (std::string err = CheckUpdateValues(v, method()); !err.empty()) return {nullptr, err};
    double last = last_, slope = slope_, span = span_;
    for (double x : v) {
      if (std::isfinite(x)) {
        slope = (slope * span + (x - last)) / (span + 1);
        last = x;
      } else {
        last += slope;
      }
      span += 1;
    }
    return {std::make_unique<DriftModel>(last, slope, sigma_, span), {}};
  }
  void Save(ByteWriter* out) const override {
    for (double v : {last_, slope_, sigma_, span_}) out->PutF64(v);
  }
  std::string Describe() const override {
    return "last=" + FormatParameter(last_) + ", slope=" + FormatParameter(slope_) + ", sigma=" + FormatParameter(sigma_);
  }

 private:
  double last_, slope_, sigma_, span_;  // span: periods between the first and last observation
};

class Drift : public Method {
 public:
  std::string_view name() const override { return "drift"; }
  int MinObservations(const FitContext&) const override { return 3; }
  FitOutcome Fit(std::span<const double> y, const FitContext&) const override {
    if (CountFinite(y) < 3) return {nullptr, "drift needs 3 observations"};
    const double span = static_cast<double>(y.size() - 1);
    const double slope = (y.back() - y.front()) / span;
    std::vector<double> res;
    for (size_t t = 1; t < y.size(); ++t) res.push_back(y[t] - y[t - 1] - slope);
    return {std::make_unique<DriftModel>(y.back(), slope, Rms(res), span), {}};
  }
  std::unique_ptr<FittedModel> Load(ByteReader* in) const override {
    const double last = in->GetF64(), slope = in->GetF64(), sigma = in->GetF64();
    return std::make_unique<DriftModel>(last, slope, sigma, in->GetF64());
  }
};

}  // namespace

const Method& NaiveMethod() { static const Naive m; return m; }
const Method& SeasonalNaiveMethod() { static const SeasonalNaive m; return m; }
const Method& MeanMethod() { static const Mean m; return m; }
const Method& DriftMethod() { static const Drift m; return m; }

}  // namespace mm

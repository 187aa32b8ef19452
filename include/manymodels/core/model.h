// The model interface: a Method fits a series and returns a FittedModel, which forecasts and saves itself
// to bytes so that a registry can store it and `score` / `serve` can load it again without refitting.
//
// Contract for every Method: Fit is single-threaded, reentrant and deterministic (any randomness comes from
// FitContext::seed), never throws for bad data (it returns a FitOutcome with an error instead), and accepts
// NaN for missing values inside the series; the series never starts or ends with NaN.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "manymodels/core/bytes.h"

namespace mm {

// Point forecasts and 80% / 95% prediction intervals, one entry per step ahead.
struct Forecast {
  std::vector<double> mean, lo80, hi80, lo95, hi95;
  void Resize(size_t h) {
    for (auto* v : {&mean, &lo80, &hi80, &lo95, &hi95}) v->assign(h, 0.0);
  }
};

// Standard normal quantiles of the two interval levels.
inline constexpr double kZ80 = 1.2815515655446004;
inline constexpr double kZ95 = 1.959963984540054;

// A fitted parameter as text for FittedModel::Describe (6 significant digits).
std::string FormatParameter(double v);

// Fills a Forecast from point forecasts and forecast standard errors (normal intervals).
Forecast NormalForecast(const std::vector<double>& mean, const std::vector<double>& se);

struct FitContext {
  std::vector<double> season_lengths = {1};  // cycles to consider, primary first (may be fractional)
  int horizon = 1;                           // how far the model will be asked to forecast
  uint64_t seed = 0;                         // for any simulation; derived from (run seed, series key)
  // Covariates (price, promotion, ...): each column is aligned with the series and runs `horizon` periods
  // past its end, holding the known future values (NaN where unknown: carry the last value forward).
  // Methods that cannot use covariates ignore them. The spans point into the caller's storage.
  std::vector<std::span<const double>> covariates;
  // The covariates' names (as in the lake: "price", "promo"), aligned with `covariates`; may be empty, and then
  // models call them x0, x1, ... in Describe().
  std::vector<std::string> covariate_names;
  // Validation's fits (select.cc): the length of the whole history, whose model's form a fit on a window's
  // shorter history takes, so that the windows judge the model that will forecast; 0 when fitting the whole
  // history. `fourier` reads it: it keeps a cycle that fits twice in the whole history and once in the
  // window's.
  size_t form_history = 0;
  // The primary cycle rounded to whole periods, at least 1.
  int PrimaryPeriod() const;
};

// What FittedModel::Update needs besides the new observations: what a forecast from the new end needs that is not
// the model's state. Fitted parameters, cycles and the simulation seed are the model's own (an update with no new
// values reproduces the saved model's forecast exactly), so they are not here.
struct UpdateContext {
  int horizon = 1;  // how far the updated model will be asked to forecast
  // Covariates as in FitContext, but aligned with `new_values`: each column holds the values of the periods of
  // new_values and runs `horizon` periods past them (known future values; NaN where unknown: carry the last
  // value forward, as fitting does). Columns in the lake's order, the order the model was fitted with; found by
  // `covariate_names` when given. Models without covariates ignore them.
  std::vector<std::span<const double>> covariates;
  std::vector<std::string> covariate_names;
};

struct FitOutcome;

class FittedModel {
 public:
  virtual ~FittedModel() = default;
  virtual std::string_view method() const = 0;  // the Method's name, e.g. "snaive"
  virtual std::string Label() const = 0;        // what the registry shows, e.g. "SNaive(7)", "ETS(M,Ad,M)"
  // `horizon` steps ahead; Predict(h) is exactly the first h steps of Predict(h + k) (serve relies on it).
  virtual Forecast Predict(int horizon) const = 0;
  // Predict(horizon).mean alone, for model selection's validation windows, which score point forecasts: a model
  // whose intervals cost more than its point forecasts (simulated sample paths) skips them.
  virtual std::vector<double> PredictMean(int horizon) const { return Predict(horizon).mean; }
  virtual void Save(ByteWriter* out) const = 0;
  virtual std::string Describe() const = 0;  // fitted parameters as "name=value, ..."
  // The name SaveModel stores the model under: the method's name, but for a wrapper that is no method (a model
  // fitted on a rescaled series, see FitScaleExponent).
  virtual std::string_view tag() const { return method(); }
  // The model brought up to new data without refitting: `new_values` are the periods after the last one the model
  // has seen (NaN = missing, handled as the model's own filter handles a missing value; may be empty); the
  // parameters stay as fitted and only the state is filtered forward, so the result's Predict forecasts from the
  // end of `new_values`. The result saves and loads like any model (its bytes hold the new state). Update(a) then
  // Update(b) gives exactly the model Update(a + b) gives; Update of nothing forecasts exactly as this model.
  // Never throws for bad data: returns an outcome with an error (an infinite value, data the model's form cannot
  // take, a model saved before updates were possible that lacks state an update needs) for the caller to report.
  // What each model updates and keeps fixed is said at its Method (models_basic.h, ets.h, ...).
  virtual FitOutcome Update(std::span<const double> new_values, const UpdateContext& ctx) const = 0;
};

struct FitOutcome {
  std::unique_ptr<FittedModel> model;  // null when the fit failed
  std::string error;                   // why it failed
  std::string note = {};               // with a model: what the user should know of it (the registry's note)
};

class Method {
 public:
  virtual ~Method() = default;
  virtual std::string_view name() const = 0;
  // Fewest observations (non-missing points) this method needs for the given context.
  virtual int MinObservations(const FitContext& ctx) const = 0;
  virtual FitOutcome Fit(std::span<const double> y, const FitContext& ctx) const = 0;
  // Restores what FittedModel::Save wrote; throws std::runtime_error on corrupt bytes.
  virtual std::unique_ptr<FittedModel> Load(ByteReader* in) const = 0;
  // Rough cost of one fit relative to the naive method, per observation; used to balance shards.
  virtual double RelativeCost() const { return 1.0; }
  // Whether model selection may validate a fit on a later window by bringing its fit for an older one forward
  // with FittedModel::Update instead of fitting again (select.cc: RollsForward). Yes where Update filters the
  // state as a refit would estimate it and the fit is what costs (ETS, ARIMA, Theta); no for the regression
  // on the cycles, whose Update keeps its coefficients and trend as fitted while a refit moves them, and
  // whose fit costs little.
  virtual bool ValidatedByUpdate() const { return true; }
};

// All methods known to the program, found by name ("naive", "snaive", ...). Returns null if unknown.
const Method* FindMethod(std::string_view name);
std::vector<std::string> MethodNames();

// Units. Every model is fitted on the series divided by 2^k, where k = FitScaleExponent(y): 0 (the series as it
// is) when the median magnitude of its non-zero observations lies within [2^-2, 2^30] (about 0.18 to 1.5e9),
// where every method behaves, and otherwise the power of two that brings that magnitude to about 2^10. Powers of
// two are exact in floating point: a series in that range is fitted on exactly its own numbers (results do not
// move), and y * 2^j for any j that takes it out of the range on y * 2^(10 - e), where 2^e is y's magnitude: on y
// itself when e is 10. Other factors (y * 1e12) land on y * c * 2^(10 - e) with c within [2^-0.5, 2^0.5], which
// every method fits alike up to its optimiser's tolerance (fourier's log1p is not scale-free: see scale_test).
// One decision per series: model selection makes it (FitSeries), and saves the scale with the model.
int FitScaleExponent(std::span<const double> y);
// A model fitted on y / 2^k that forecasts in the units of y: Predict multiplies by 2^k (exact); method() and
// Label() are the inner model's; Describe() adds the scale. Returns `model` itself when k is 0.
std::unique_ptr<FittedModel> ScaleModel(std::unique_ptr<FittedModel> model, int k);
void ScaleForecast(Forecast* f, int k);  // what its Predict does to the inner model's: every value times 2^k

// Non-negative targets. A series whose history has no negative value (sales, demand, counts) is forecast as one:
// its forecasts and every interval bound are clipped at zero, in this one place, after the model. Model selection
// decides it per series (FitSeries: IsNonNegative of the history it fits) and wraps the model it returns, so the
// clip is saved with the model and applies wherever the registry's model forecasts (score, serve, after Update).
// The models themselves are not changed: their own forecasts may dip below zero (a trend, a normal interval).
bool IsNonNegative(std::span<const double> y);  // at least one finite value, and none below zero
void ClipAtZero(Forecast* f);                   // every value below zero (forecast and bounds) becomes 0
// The model whose Predict is `model`'s clipped at zero; method() and Label() are the inner model's, Describe()
// says so, Update updates the inner model and keeps the clip.
std::unique_ptr<FittedModel> NonNegativeModel(std::unique_ptr<FittedModel> model);

// What every Update checks first: empty when each new value is finite or NaN, else the error to return (an
// infinite value is data no filter can take).
std::string CheckUpdateValues(std::span<const double> new_values, std::string_view method);

// Saves a model with its method name so that LoadModel can restore it without knowing the method.
std::vector<uint8_t> SaveModel(const FittedModel& model);
std::unique_ptr<FittedModel> LoadModel(const std::vector<uint8_t>& bytes);

}  // namespace mm

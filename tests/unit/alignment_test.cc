// Results do not depend on where the data lie in memory (model.h: Fit is deterministic). A vectorised sum
// whose order follows the address (Eigen's sum() over a Map or a Block starts its packets at the first
// 64-byte boundary with AVX-512, after a scalar head) adds the same numbers in another order at another
// address, and an optimiser turns that last bit into other coefficients. So every registered method fits the
// same series with the data at each 8-byte offset of a 64-byte line and every heap block of the fit at
// another 16-byte offset (this binary replaces operator new), and must save the same model bytes and forecast
// the same numbers, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "manymodels/core/random.h"
#include "manymodels/core/select.h"

namespace {

constexpr size_t kLine = 64;  // the widest vector (AVX-512) and a cache line
size_t heap_offset = 0;       // where operator new places its blocks within a line: 0, 16, 32 or 48

}  // namespace

// Every block starts `heap_offset` bytes past a line boundary; the start of the allocation is kept just
// before the block (16 bytes keep the default new alignment). Blocks allocated before a test changed the
// offset are freed alike.
void* operator new(size_t size) {
  const size_t total = (size + 2 * kLine + kLine - 1) / kLine * kLine;
  char* base = static_cast<char*>(std::aligned_alloc(kLine, total));
  if (!base) throw std::bad_alloc();
  char* block = base + kLine + heap_offset;
  std::memcpy(block - sizeof(char*), &base, sizeof(char*));
  return block;
}
void* operator new[](size_t size) { return ::operator new(size); }
void operator delete(void* block) noexcept {
  if (!block) return;
  char* base;
  std::memcpy(&base, static_cast<char*>(block) - sizeof(char*), sizeof(char*));
  std::free(base);
}
void operator delete[](void* block) noexcept { ::operator delete(block); }
void operator delete(void* block, size_t) noexcept { ::operator delete(block); }
void operator delete[](void* block, size_t) noexcept { ::operator delete(block); }

namespace mm {
namespace {

constexpr int kHorizon = 8;

// Where one fit's data and heap lie: the series (and covariate) `data` bytes past a line boundary, the fit's
// own blocks `heap` bytes past one. The first is the reference.
struct Placement {
  size_t data, heap;
};
constexpr Placement kPlacements[] = {{0, 0},  {8, 16},  {16, 32}, {24, 48},
                                     {32, 0}, {40, 16}, {48, 32}, {56, 48}};

// A copy of `v` starting `offset` bytes (a multiple of 8) past a 64-byte boundary.
class PlacedCopy {
 public:
  PlacedCopy(const std::vector<double>& v, size_t offset) : storage_(v.size() + 2 * kDoublesPerLine) {
    const size_t misaligned = reinterpret_cast<uintptr_t>(storage_.data()) % kLine / sizeof(double);
    const size_t begin = (kDoublesPerLine - misaligned) % kDoublesPerLine + offset / sizeof(double);
    std::copy(v.begin(), v.end(), storage_.begin() + static_cast<std::ptrdiff_t>(begin));
    span_ = std::span<const double>(storage_).subspan(begin, v.size());
  }
  std::span<const double> span() const { return span_; }

 private:
  static constexpr size_t kDoublesPerLine = kLine / sizeof(double);
  std::vector<double> storage_;
  std::span<const double> span_;
};

// A weekly cycle with trend and noise (mean 200, sd 5); `gap` periods from n / 3 on are missing.
std::vector<double> Seasonal(int n, uint64_t seed, int gap = 0) {
  Rng rng(seed);
  std::vector<double> y(n);
  for (int t = 0; t < n; ++t)
    y[t] = 200 + 0.3 * t + 15 * std::sin(2 * M_PI * t / 7) + 6 * std::cos(2 * M_PI * t / 30.4) +
           5 * rng.Normal();
  for (int t = n / 3; t < n / 3 + gap; ++t) y[t] = NAN;
  return y;
}

std::vector<double> Intermittent(int n, uint64_t seed) {
  Rng rng(seed);
  std::vector<double> y(n);
  for (double& v : y) v = rng.Uniform() < 0.25 ? 1 + std::floor(6 * rng.Uniform()) : 0;
  y.front() = y.back() = 2;
  return y;
}

std::vector<double> Price(size_t n) {
  std::vector<double> x(n + kHorizon);
  for (size_t t = 0; t < x.size(); ++t) x[t] = 3 + (t % 13 < 4 ? -0.6 : 0.0) + 0.004 * static_cast<double>(t);
  return x;
}

struct Case {
  std::string label;
  std::vector<double> y;
  double season;
};

// ARIMA's paths: exact likelihood on a seasonal series (n <= 150), the CSS search then the exact refit (n >
// 150), the Kalman filter with differenced states over a gap; lengths that are no multiple of a vector.
std::vector<Case> Cases() {
  return {{"seasonal 90", Seasonal(90, 1), 7},
          {"seasonal 203", Seasonal(203, 2), 7},
          {"non-seasonal 97", Seasonal(97, 3), 1},
          {"gap 70", Seasonal(70, 4, 2), 1},
          {"intermittent 143", Intermittent(143, 5), 7}};
}

struct Result {
  std::vector<uint8_t> model;
  Forecast forecast;
  std::string error;
};

Result FitAt(const Method& method, const Case& c, const Placement& at) {
  const PlacedCopy y(c.y, at.data), price(Price(c.y.size()), at.data);
  FitContext ctx;
  ctx.season_lengths = {c.season};
  ctx.horizon = kHorizon;
  ctx.seed = 11;
  ctx.covariates = {price.span()};
  ctx.covariate_names = {"price"};
  heap_offset = at.heap;
  FitOutcome fit = method.Fit(y.span(), ctx);
  Result r{{}, {}, fit.error};
  if (fit.model) r.model = SaveModel(*fit.model), r.forecast = fit.model->Predict(kHorizon);
  heap_offset = 0;
  return r;
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

std::string Where(const Placement& at) {
  return "data at +" + std::to_string(at.data) + ", heap at +" + std::to_string(at.heap);
}

TEST(AlignmentTest, EveryMethodFitsTheSameWhereverTheDataLie) {
  for (const std::string& name : MethodNames()) {
    if (name == "ensemble") continue;  // fitted by FitSeries from the others (below)
    const Method& method = *FindMethod(name);
    for (const Case& c : Cases()) {
      const Result first = FitAt(method, c, kPlacements[0]);
      for (const Placement& at : std::span(kPlacements).subspan(1)) {
        const Result r = FitAt(method, c, at);
        const std::string what = name + " on " + c.label + ", " + Where(at);
        EXPECT_EQ(r.error, first.error) << what;
        EXPECT_TRUE(r.model == first.model) << what << ": the saved models differ";
        for (auto col : {&Forecast::mean, &Forecast::lo80, &Forecast::hi80, &Forecast::lo95, &Forecast::hi95})
          EXPECT_TRUE(SameBits(r.forecast.*col, first.forecast.*col)) << what << ": the forecasts differ";
      }
    }
  }
}

// What train does with a series (--models auto,arima): validation on the held-out periods, the refit, the
// ensemble.
TEST(AlignmentTest, SelectionGivesTheSameResultWhereverTheDataLie) {
  SelectOptions o;
  o.automatic = true;
  o.candidates = {FindMethod("arima")};
  o.ensemble = true;
  o.context.season_lengths = {7};
  o.context.horizon = kHorizon;
  o.context.seed = 11;
  for (const Case& c : Cases()) {
    if (c.season != 7) continue;
    std::vector<SeriesResult> results;
    for (const Placement& at : std::span(kPlacements).first(4)) {
      const PlacedCopy y(c.y, at.data);
      heap_offset = at.heap;
      results.push_back(FitSeries(y.span(), o));
      heap_offset = 0;
    }
    for (size_t i = 1; i < results.size(); ++i) {
      const std::string what = c.label + ", " + Where(kPlacements[i]);
      EXPECT_TRUE(results[i].model == results[0].model) << what << ": the saved models differ";
      EXPECT_EQ(results[i].note, results[0].note) << what;
      const Metrics &a = results[i].metrics, &b = results[0].metrics;
      EXPECT_TRUE(
          SameBits({a.mae, a.rmse, a.mape, a.smape, a.mase}, {b.mae, b.rmse, b.mape, b.smape, b.mase}))
          << what << ": the validation metrics differ (mae " << a.mae << " and " << b.mae << ")";
      EXPECT_TRUE(SameBits(results[i].forecast.mean, results[0].forecast.mean)) << what;
    }
  }
}

}  // namespace
}  // namespace mm

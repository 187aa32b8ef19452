// OrderStatistics gives what sorting gives, bit for bit, whether its shortcut applies or not (and with NaN or
// signed zeros, what the nested nth_element it replaces gave).
#include "manymodels/core/order_statistics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace mm {
namespace {

// The simulated intervals' positions: quantiles 2.5%, 10%, 90%, 97.5% (type 8) of 2,000 values.
const std::vector<size_t> kIntervals = {49, 50, 199, 200, 1799, 1800, 1949, 1950};

std::vector<double> Select(std::vector<double> v, const std::vector<size_t>& positions) {
  std::vector<double> out(positions.size()), scratch;
  OrderStatistics(v, positions, out, &scratch);
  return out;
}

std::vector<double> BySorting(std::vector<double> v, const std::vector<size_t>& positions) {
  std::sort(v.begin(), v.end());
  std::vector<double> out;
  for (size_t k : positions) out.push_back(v[k]);
  return out;
}

// What the simulated intervals did before the shortcut: nested nth_element on all the values.
void Nested(std::vector<double>& v, size_t first, size_t last, const size_t* idx, size_t a, size_t b) {
  if (a >= b) return;
  const size_t mid = (a + b) / 2;
  std::nth_element(v.begin() + first, v.begin() + idx[mid], v.begin() + last);
  Nested(v, first, idx[mid], idx, a, mid);
  Nested(v, idx[mid] + 1, last, idx, mid + 1, b);
}
std::vector<double> ByNested(std::vector<double> v, const std::vector<size_t>& positions) {
  Nested(v, 0, v.size(), positions.data(), 0, positions.size());
  std::vector<double> out;
  for (size_t k : positions) out.push_back(v[k]);
  return out;
}

bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

TEST(OrderStatisticsTest, SimulatedValuesAsSorting) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  std::lognormal_distribution<double> skewed(0, 1.5);
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<double> v(2000);
    for (auto& x : v) x = trial % 2 ? 100 * (1 + 0.2 * normal(rng)) : skewed(rng);
    ASSERT_TRUE(SameBits(Select(v, kIntervals), BySorting(v, kIntervals))) << "trial " << trial;
  }
}

TEST(OrderStatisticsTest, TiesSortedInputsAndOtherPositions) {
  std::mt19937_64 rng(12);
  std::vector<std::vector<double>> inputs;
  std::vector<double> ties(2000), sorted(2000), equal(2000, 3.5);
  for (auto& x : ties) x = static_cast<double>(1 + rng() % 4);
  for (size_t i = 0; i < sorted.size(); ++i) sorted[i] = static_cast<double>(i) * 0.25 - 100;
  std::vector<double> reversed(sorted.rbegin(), sorted.rend());
  for (const auto& v : {ties, sorted, reversed, equal}) {
    for (const std::vector<size_t>& positions :
         {kIntervals, std::vector<size_t>{0, 1999}, std::vector<size_t>{999, 1000}, std::vector<size_t>{7}}) {
      EXPECT_TRUE(SameBits(Select(v, positions), BySorting(v, positions)));
    }
  }
  // Shorter than the shortcut's minimum, and an odd length.
  std::vector<double> small(301);
  for (auto& x : small) x = static_cast<double>(rng() % 1000) / 7;
  EXPECT_TRUE(SameBits(Select(small, {7, 8, 30, 31, 269, 270}), BySorting(small, {7, 8, 30, 31, 269, 270})));
}

TEST(OrderStatisticsTest, UnluckySampleFallsBack) {
  // The sampled values (every 2000/128-th) are the smallest of all, so the low threshold keeps too few
  // values.
  std::vector<double> v(2000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 1000 + static_cast<double>((i * 7919) % 2000);
  for (size_t i = 0; i < 128; ++i) v[i * 2000 / 128] = -1000 - static_cast<double>(i);
  EXPECT_TRUE(SameBits(Select(v, kIntervals), BySorting(v, kIntervals)));
}

TEST(OrderStatisticsTest, NanAndSignedZerosAsBefore) {
  // With NaN, nth_element places values in ways no order defines; of equal -0 and 0, it puts one or the
  // other. Either way the values must be those it placed before.
  for (uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    std::vector<double> v(2000);
    for (auto& x : v) x = normal(rng);
    std::vector<double> with_nan = v, with_zeros = v;
    with_nan[1235] = std::numeric_limits<double>::quiet_NaN();  // not a sampled value
    // 150 negative values, 600 zeros of both signs (sorted positions 150 to 749, so 199 and 200 among them),
    // the rest positive, shuffled.
    for (size_t i = 0; i < 2000; ++i)
      with_zeros[i] = i < 150 ? -1 - std::abs(v[i]) : i < 750 ? (i % 2 ? 0.0 : -0.0) : 1 + std::abs(v[i]);
    std::shuffle(with_zeros.begin(), with_zeros.end(), rng);
    EXPECT_TRUE(SameBits(Select(with_nan, kIntervals), ByNested(with_nan, kIntervals)))
        << "NaN, seed " << seed;
    EXPECT_TRUE(SameBits(Select(with_zeros, kIntervals), ByNested(with_zeros, kIntervals)))
        << "zeros, seed " << seed;
  }
}

}  // namespace
}  // namespace mm

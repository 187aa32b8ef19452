#include "manymodels/core/order_statistics.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace mm {
namespace {

constexpr size_t kSample = 128;       // values sampled for the thresholds
constexpr size_t kMinShortcut = 512;  // below this, selecting on all of v is as quick
constexpr size_t kMaxPositions = 64;
constexpr size_t kSmall = 16;  // parts this small are sorted

// Places the order statistics at sorted positions idx[a..b) (ascending) of v[first, last), each nth_element
// working only inside the part the previous ones left.
void SelectPositions(std::vector<double>& v, size_t first, size_t last, const size_t* idx, size_t a,
                     size_t b) {
  if (a >= b) return;
  const size_t mid = (a + b) / 2;
  const size_t k = idx[mid];
  std::nth_element(v.begin() + static_cast<std::ptrdiff_t>(first), v.begin() + static_cast<std::ptrdiff_t>(k),
                   v.begin() + static_cast<std::ptrdiff_t>(last));
  SelectPositions(v, first, k, idx, a, mid);
  SelectPositions(v, k + 1, last, idx, mid + 1, b);
}

// out[j] = the order statistic at sorted position pos[j] (ascending, each < n) of src[0, n), which holds no
// NaN. Each level copies src into dst around a pivot (the median of three values): smaller values to the
// front, larger ones to the back, without branching on the data (std::nth_element's branches mispredict half
// the time on random values), and goes on in the parts that hold positions, with src as their buffer. src and
// dst hold n values each, apart; both are overwritten.
void SelectCopying(double* src, double* dst, size_t n, const size_t* pos, size_t count, double* out) {
  if (count == 0) return;
  if (n <= kSmall) {
    std::sort(src, src + n);
    for (size_t j = 0; j < count; ++j) out[j] = src[pos[j]];
    return;
  }
  const double a = src[0], b = src[n / 2], c = src[n - 1];
  const double pivot = std::max(std::min(a, b), std::min(std::max(a, b), c));
  // Slot nl is free (below the larger values' slots) and so is n - 1 - ng: x goes to both, and stays where it
  // belongs.
  size_t nl = 0, ng = 0;
  for (size_t i = 0; i < n; ++i) {
    const double x = src[i];
    dst[nl] = x;
    dst[n - 1 - ng] = x;
    nl += x < pivot;
    ng += x > pivot;
  }
  size_t in_low = 0, in_equal = 0;  // positions below nl; then those equal to the pivot
  while (in_low < count && pos[in_low] < nl) ++in_low;
  while (in_low + in_equal < count && pos[in_low + in_equal] < n - ng) ++in_equal;
  SelectCopying(dst, src, nl, pos, in_low, out);
  std::fill(out + in_low, out + in_low + in_equal, pivot);
  const size_t first_high = in_low + in_equal;
  std::array<size_t, kMaxPositions> high{};
  for (size_t j = first_high; j < count; ++j) high[j - first_high] = pos[j] - (n - ng);
  SelectCopying(dst + (n - ng), src + (n - ng), ng, high.data(), count - first_high, out + first_high);
}

// The rank in the sorted sample of a threshold with at least `need` of the n values beyond it, but for bad
// luck (about 1 in 10,000 for need = n / 10): the sample's expected count beyond the need-th value, plus
// three standard deviations, plus one.
size_t ThresholdRank(size_t need, size_t n) {
  const double p = static_cast<double>(need) / static_cast<double>(n), s = static_cast<double>(kSample);
  return static_cast<size_t>(std::ceil(s * p + 3 * std::sqrt(s * p * (1 - p)))) + 1;
}

// The shortcut: false when it does not apply (then v is untouched).
bool SelectNearEnds(const std::vector<double>& v, std::span<const size_t> positions, std::span<double> out,
                    std::vector<double>* scratch) {
  const size_t n = v.size(), count = positions.size();
  if (n < kMinShortcut || count > kMaxPositions) return false;
  size_t n_low = 0;  // positions[0, n_low) are near the start, the rest near the end
  while (n_low < count && positions[n_low] < n / 2) ++n_low;
  const size_t need_low = n_low ? positions[n_low - 1] + 1 : 0,
               need_high = n_low < count ? n - positions[n_low] : 0;
  if (need_low > n / 8 || need_high > n / 8) return false;
  std::array<double, kSample> sample;
  for (size_t i = 0; i < kSample; ++i) sample[i] = v[i * n / kSample];
  for (double x : sample)
    if (std::isnan(x)) return false;  // (nth_element needs an order)
  const size_t rank_low = ThresholdRank(need_low, n), rank_high = kSample - 1 - ThresholdRank(need_high, n);
  if (rank_low >= kSample || rank_high >= kSample) return false;
  std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(rank_low), sample.end());
  const double low_max = sample[rank_low];
  std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(rank_high), sample.end());
  const double high_min = sample[rank_high];
  // Every value not copied to `low` is above every value in it, and the same the other way for `high`: so the
  // smallest need_low values of v are those of `low` (if it has as many), and the largest need_high those of
  // `high`.
  scratch->resize(4 * n);  // low, high, and a buffer for each
  double* low = scratch->data();
  double* high = low + n;
  size_t nl = 0, nh = 0;
  bool unordered = false;  // NaN (no order), or zero (-0 and 0 are equal, and might trade places)
  for (double x : v) {
    low[nl] = x;
    nl += x <= low_max;
    high[nh] = x;
    nh += x >= high_min;
    unordered |= std::isnan(x) | (x == 0);
  }
  if (unordered || (n_low && nl < need_low) || (n_low < count && nh < need_high)) return false;
  SelectCopying(low, low + 2 * n, nl, positions.data(), n_low, out.data());
  std::array<size_t, kMaxPositions> in_high{};  // positions inside `high`
  for (size_t j = n_low; j < count; ++j) in_high[j - n_low] = positions[j] - (n - nh);
  SelectCopying(high, high + 2 * n, nh, in_high.data(), count - n_low, out.data() + n_low);
  return true;
}

}  // namespace

void OrderStatistics(std::vector<double>& v, std::span<const size_t> positions, std::span<double> out,
                     std::vector<double>* scratch) {
  if (SelectNearEnds(v, positions, out, scratch)) return;
  SelectPositions(v, 0, v.size(), positions.data(), 0, positions.size());
  for (size_t j = 0; j < positions.size(); ++j) out[j] = v[positions[j]];
}

double SortedQuantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double h = (static_cast<double>(sorted.size()) - 1) * p;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace mm

// Order statistics of a sample without sorting it: the values that sorting would put at a few positions, as
// R's quantile() finds them (it partially reorders too). Used by the simulated forecast intervals, which take
// four quantiles (two order statistics each) of 2,000 simulated values at every step.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace mm {

// out[j] = the value at sorted position positions[j] of v (positions ascending, distinct, each < v.size()):
// exactly what sorting v would put there. v may be reordered. When every position lies within an eighth of v
// from either end, the values below a low threshold and above a high one (order statistics of a fixed sample
// of v) are copied to `scratch` and the selection runs there; if a copy turns out too short, or v holds NaN
// or a zero (equal to -0, which the shortcut might put in another place), the selection runs on all of v
// (nested std::nth_element), as it would without the shortcut: the values come out the same, bit for bit.
void OrderStatistics(std::vector<double>& v, std::span<const size_t> positions, std::span<double> out,
                     std::vector<double>* scratch);

// The p-quantile of ascending values, linear between order statistics (R's quantile() type 7); 0 when empty.
double SortedQuantile(const std::vector<double>& sorted, double p);

}  // namespace mm

#include "manymodels/parallel/shard.h"

#include <stdexcept>

namespace mm {

std::vector<ShardRange> PlanShards(const std::vector<double>& costs, int parts) {
  if (parts < 1) throw std::invalid_argument("PlanShards: parts must be at least 1");
  double total = 0;
  for (double c : costs) {
    if (!(c >= 0)) throw std::invalid_argument("PlanShards: negative or NaN cost");
    total += c;
  }
  std::vector<ShardRange> plan(static_cast<size_t>(parts));
  size_t i = 0;
  double prefix = 0;
  for (int r = 0; r < parts; ++r) {
    plan[r].begin = i;
    if (r == parts - 1) {
      i = costs.size();
    } else {
      const double target = total * (r + 1) / parts;
      // Take items while the prefix stays closer to the target with the item than without it.
      while (i < costs.size() && prefix + costs[i] / 2 <= target) prefix += costs[i++];
    }
    plan[r].end = i;
  }
  return plan;
}

}  // namespace mm

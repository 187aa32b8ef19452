// The shard plan: which rank fits which contiguous range of groups. A pure function, tested without MPI.
#pragma once

#include <cstddef>
#include <vector>

namespace mm {

struct ShardRange {
  size_t begin = 0, end = 0;
  size_t size() const { return end - begin; }
};

// Splits items 0..n-1 (in order) into `parts` contiguous ranges of nearly equal total cost: range r ends at
// the first item whose cost prefix reaches r+1 parts of the total. Every item is in exactly one range; a range
// may be empty when there are fewer items than parts. Costs must be non-negative.
std::vector<ShardRange> PlanShards(const std::vector<double>& costs, int parts);

}  // namespace mm

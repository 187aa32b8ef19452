// The shard plan: which rank fits which contiguous range of groups, and the queues of ranges that the
// schedules hand out. Pure functions, tested without MPI.
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

// The parts of `ranges` (sorted, disjoint) that lie inside `within`, empty ones left out.
std::vector<ShardRange> Intersect(const std::vector<ShardRange>& ranges, ShardRange within);

// The items of 0..n-1 not marked in `done` (one flag per item), as sorted maximal ranges.
std::vector<ShardRange> NotDone(const std::vector<bool>& done);

// Ranges of items handed out front to back in pieces that never span a gap between two ranges (so a piece is
// always a contiguous run of items: a batch is its first item and a count).
class RangeQueue {
 public:
  explicit RangeQueue(std::vector<ShardRange> ranges = {});  // sorted and disjoint; empty ones are skipped
  // The next piece of at most `most` (at least 1) items; false when none is left.
  bool Take(size_t most, ShardRange* piece);
  size_t left() const { return left_; }  // items not handed out yet

 private:
  std::vector<ShardRange> ranges_;
  size_t next_ = 0, left_ = 0;
};

}  // namespace mm

#include "manymodels/parallel/shard.h"

#include <gtest/gtest.h>

#include <numeric>

namespace mm {
namespace {

void ExpectCovers(const std::vector<ShardRange>& plan, size_t n) {
  size_t next = 0;
  for (const auto& r : plan) {
    EXPECT_EQ(r.begin, next);
    EXPECT_LE(r.begin, r.end);
    next = r.end;
  }
  EXPECT_EQ(next, n);
}

TEST(ShardTest, EqualCostsSplitEvenly) {
  const std::vector<double> costs(100, 1.0);
  const auto plan = PlanShards(costs, 4);
  ASSERT_EQ(plan.size(), 4u);
  ExpectCovers(plan, 100);
  for (const auto& r : plan) EXPECT_EQ(r.size(), 25u);
}

TEST(ShardTest, BalancesUnequalCosts) {
  // One expensive item then many cheap ones: the first rank takes the expensive one and little else.
  std::vector<double> costs(101, 1.0);
  costs[0] = 100;
  const auto plan = PlanShards(costs, 2);
  ExpectCovers(plan, 101);
  double first = 0;
  for (size_t i = plan[0].begin; i < plan[0].end; ++i) first += costs[i];
  EXPECT_NEAR(first, 100.0, 1.0);
}

TEST(ShardTest, MorePartsThanItems) {
  const auto plan = PlanShards({1, 1}, 5);
  ASSERT_EQ(plan.size(), 5u);
  ExpectCovers(plan, 2);
  size_t nonempty = 0;
  for (const auto& r : plan) nonempty += r.size() > 0;
  EXPECT_EQ(nonempty, 2u);
}

TEST(ShardTest, RejectsBadInput) {
  EXPECT_THROW(PlanShards({1}, 0), std::invalid_argument);
  EXPECT_THROW(PlanShards({-1}, 2), std::invalid_argument);
  ExpectCovers(PlanShards({}, 3), 0);
}

}  // namespace
}  // namespace mm

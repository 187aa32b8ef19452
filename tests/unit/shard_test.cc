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

std::vector<std::pair<size_t, size_t>> Pairs(const std::vector<ShardRange>& ranges) {
  std::vector<std::pair<size_t, size_t>> out;
  for (const auto& r : ranges) out.emplace_back(r.begin, r.end);
  return out;
}

TEST(ShardTest, NotDoneListsTheGaps) {
  EXPECT_EQ(Pairs(NotDone({false, false, true, false, true, true, false})),
            (std::vector<std::pair<size_t, size_t>>{{0, 2}, {3, 4}, {6, 7}}));
  EXPECT_TRUE(NotDone({true, true}).empty());
  EXPECT_EQ(Pairs(NotDone(std::vector<bool>(5, false))), (std::vector<std::pair<size_t, size_t>>{{0, 5}}));
}

TEST(ShardTest, IntersectCutsToTheShard) {
  const std::vector<ShardRange> todo = {{0, 2}, {3, 4}, {6, 10}};
  EXPECT_EQ(Pairs(Intersect(todo, {1, 7})), (std::vector<std::pair<size_t, size_t>>{{1, 2}, {3, 4}, {6, 7}}));
  EXPECT_TRUE(Intersect(todo, {4, 6}).empty());
}

TEST(ShardTest, RangeQueueHandsOutPiecesWithinRanges) {
  RangeQueue q({{0, 5}, {5, 5}, {7, 9}});
  EXPECT_EQ(q.left(), 7u);
  std::vector<ShardRange> got;
  for (ShardRange p; q.Take(2, &p);) got.push_back(p);
  // Never a piece across the gap 5..7, and every item once.
  EXPECT_EQ(Pairs(got), (std::vector<std::pair<size_t, size_t>>{{0, 2}, {2, 4}, {4, 5}, {7, 9}}));
  EXPECT_EQ(q.left(), 0u);
  ShardRange p;
  EXPECT_FALSE(q.Take(2, &p));
  RangeQueue one({{0, 3}});
  ASSERT_TRUE(one.Take(0, &p));  // at least one item a piece
  EXPECT_EQ(p.size(), 1u);
  EXPECT_THROW(RangeQueue({{4, 6}, {5, 8}}), std::invalid_argument);
}

}  // namespace
}  // namespace mm

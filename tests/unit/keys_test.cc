#include "manymodels/io/keys.h"

#include <gtest/gtest.h>

namespace mm {
namespace {

KeyTable StoreItem() {
  KeyTable t;
  t.columns.push_back({"store", false, {1, 1, 1, 2, 2}, {}});
  t.columns.push_back({"item", true, {}, {"a", "b", "c", "a", "c"}});
  return t;
}

TEST(KeysTest, GroupByPrefixKeepsContiguousMembers) {
  const Grouping g = GroupSeries(StoreItem(), {"store"});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g.keys.columns[0].ints, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(g.member_offsets, (std::vector<int64_t>{0, 3, 5}));
  EXPECT_EQ(g.members, (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(KeysTest, GroupByNonPrefixCollectsScatteredMembers) {
  const Grouping g = GroupSeries(StoreItem(), {"item"});
  ASSERT_EQ(g.size(), 3u);
  EXPECT_EQ(g.keys.columns[0].texts, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(g.member_offsets, (std::vector<int64_t>{0, 2, 3, 5}));
  EXPECT_EQ(g.members, (std::vector<int64_t>{0, 3, 1, 2, 4}));
}

TEST(KeysTest, NoPartitionMeansOneGroupPerSeries) {
  const Grouping g = GroupSeries(StoreItem(), {});
  EXPECT_EQ(g.size(), 5u);
  EXPECT_EQ(g.keys.Describe(4), "store=2, item=c");
  EXPECT_THROW(GroupSeries(StoreItem(), {"region"}), std::invalid_argument);
}

}  // namespace
}  // namespace mm

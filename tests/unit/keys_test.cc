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

TEST(KeysTest, ParseAndFindLookUpOneKey) {
  const KeyTable t = StoreItem();
  for (size_t row = 0; row < t.size(); ++row) {
    const auto want = t.Parse({t.columns[0].Text(row), t.columns[1].Text(row)});
    ASSERT_TRUE(want.has_value());
    EXPECT_EQ(t.Find(*want), row);
  }
  EXPECT_FALSE(t.Find(*t.Parse({"1", "d"})).has_value());
  EXPECT_FALSE(t.Find(*t.Parse({"3", "a"})).has_value());
  EXPECT_FALSE(t.Parse({"x", "a"}).has_value());   // text for an integer column
  EXPECT_FALSE(t.Parse({"1 ", "a"}).has_value());  // trailing characters
  EXPECT_FALSE(t.Parse({"1"}).has_value());        // too few values
}

TEST(KeysTest, ParseKeyTextTakesColumnsInAnyOrder) {
  const std::vector<std::string> cols = {"store", "item"};
  EXPECT_EQ(ParseKeyText("item=b, store=12", cols), (std::vector<std::string>{"12", "b"}));
  EXPECT_EQ(ParseKeyText("store=1,item=a=b,", cols), (std::vector<std::string>{"1", "a=b"}));
  EXPECT_THROW(ParseKeyText("store=1", cols), std::invalid_argument);
  EXPECT_THROW(ParseKeyText("store=1,store=2,item=a", cols), std::invalid_argument);
  EXPECT_THROW(ParseKeyText("store=1,color=red", cols), std::invalid_argument);
  EXPECT_THROW(ParseKeyText("store=1,item", cols), std::invalid_argument);
}

}  // namespace
}  // namespace mm

// Test helper: two lakes' every dataset (keys, offsets, start, values bit for bit) and grid attribute equal.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "manymodels/io/lake.h"

namespace mm {

inline bool SameBits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

inline void ExpectSameLake(const LakeData& a, const LakeData& b) {
  ASSERT_EQ(a.index.keys.columns.size(), b.index.keys.columns.size());
  for (size_t k = 0; k < a.index.keys.columns.size(); ++k) {
    const KeyColumn &x = a.index.keys.columns[k], &y = b.index.keys.columns[k];
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.is_text, y.is_text);
    EXPECT_EQ(x.ints, y.ints);
    EXPECT_EQ(x.texts, y.texts);
  }
  EXPECT_EQ(a.index.offsets, b.index.offsets);
  EXPECT_EQ(a.index.start, b.index.start);
  EXPECT_EQ(a.index.frequency, b.index.frequency);
  EXPECT_EQ(a.index.weekly_anchor, b.index.weekly_anchor);
  EXPECT_EQ(a.index.season_lengths, b.index.season_lengths);
  EXPECT_EQ(a.index.time_column, b.index.time_column);
  EXPECT_EQ(a.index.target_column, b.index.target_column);
  EXPECT_EQ(a.index.covariates, b.index.covariates);
  EXPECT_TRUE(SameBits(a.target, b.target));
  ASSERT_EQ(a.covariates.size(), b.covariates.size());
  for (size_t c = 0; c < a.covariates.size(); ++c)
    EXPECT_TRUE(SameBits(a.covariates[c], b.covariates[c])) << c;
}

}  // namespace mm

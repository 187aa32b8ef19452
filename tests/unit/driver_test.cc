// ReadSeriesRuns: a batch of the lake's series, whole or from a period on each (score reads only the periods
// a model has not seen), equals the same slices of the whole lake, across chunk boundaries.
#include "manymodels/parallel/driver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "manymodels/io/lake.h"

namespace mm {
namespace {

namespace fs = std::filesystem;

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("mm_driver_test_" + std::to_string(::getpid()) + ".h5")).string();
    // 60 series of 500 to 5,000 periods (about 165,000 values: three 64k-row chunks), starting on various
    // days.
    std::mt19937_64 rng(3);
    LakeData d;
    d.index.keys.columns.push_back({"id", false, {}, {}});
    d.index.covariates = {"price"};
    d.index.offsets = {0};
    d.covariates.resize(1);
    for (int64_t s = 0; s < 60; ++s) {
      const auto n = static_cast<int64_t>(500 + rng() % 4501);
      d.index.keys.columns[0].ints.push_back(s);
      d.index.start.push_back(static_cast<int64_t>(rng() % 400));
      d.index.offsets.push_back(d.index.offsets.back() + n);
      for (int64_t i = 0; i < n; ++i) {
        d.target.push_back(static_cast<double>(s * 100000 + i));
        d.covariates[0].push_back(-static_cast<double>(s * 100000 + i));
      }
    }
    WriteLake(path_, d, Provenance{"test", "", "", "", {}});
    data_ = std::move(d);  // the values as written: reading is what the tests check
  }
  void TearDown() override { fs::remove(path_); }
  // Series s from period `from` on, as the whole lake has it.
  std::vector<double> Slice(const std::vector<double>& column, size_t s, int64_t from) const {
    const LakeIndex& ix = data_.index;
    const int64_t skip = std::clamp<int64_t>(from - ix.start[s], 0, ix.length(s));
    return std::vector<double>(column.begin() + ix.offsets[s] + skip, column.begin() + ix.offsets[s + 1]);
  }
  std::string path_;
  LakeData data_;
};

TEST_F(DriverTest, WholeSeriesAndTailsAsTheWholeLakeHasThem) {
  const LakeReader lake(path_);
  // Runs of consecutive series and single ones.
  const std::vector<int64_t> wanted = {0, 1, 2, 3, 7, 9, 10, 11, 30, 31, 58, 59};
  const auto whole = ReadSeriesRuns(lake, wanted, {0});
  ASSERT_EQ(whole.size(), 2u);
  for (size_t k = 0; k < wanted.size(); ++k) {
    const auto s = static_cast<size_t>(wanted[k]);
    EXPECT_EQ(whole[0][k], Slice(data_.target, s, 0)) << "series " << s;
    EXPECT_EQ(whole[1][k], Slice(data_.covariates[0], s, 0)) << "series " << s;
  }
  // From a period before the start (whole), inside, at the last period, and past the end (nothing).
  std::vector<int64_t> from;
  for (size_t k = 0; k < wanted.size(); ++k) {
    const auto s = static_cast<size_t>(wanted[k]);
    const int64_t start = data_.index.start[s], end = start + data_.index.length(s);
    const int64_t choices[] = {start - 3, start + 1, end - 7, end - 1, end, end + 5};
    from.push_back(choices[k % 6]);
  }
  const auto tails = ReadSeriesRuns(lake, wanted, {0}, from);
  for (size_t k = 0; k < wanted.size(); ++k) {
    const auto s = static_cast<size_t>(wanted[k]);
    EXPECT_EQ(tails[0][k], Slice(data_.target, s, from[k])) << "series " << s << " from " << from[k];
    EXPECT_EQ(tails[1][k], Slice(data_.covariates[0], s, from[k])) << "series " << s << " from " << from[k];
  }
  EXPECT_TRUE(tails[0][4].empty() && tails[0][5].empty()) << "past the end: nothing read";
  EXPECT_THROW(ReadSeriesRuns(lake, {3, 2}, {}), std::logic_error);
  EXPECT_THROW(ReadSeriesRuns(lake, {2, 3}, {}, {1}), std::logic_error);
}

TEST_F(DriverTest, RangesOutOfOrderOrOverlappingAreRefused) {
  const LakeReader lake(path_);
  EXPECT_EQ(lake.ReadTarget({{5, 2}, {70000, 3}}),
            (std::vector<double>{5, 6, data_.target[70000], data_.target[70001], data_.target[70002]}));
  EXPECT_THROW(lake.ReadTarget({{10, 5}, {12, 5}}), h5::Error);
  EXPECT_THROW(lake.ReadTarget({{10, 5}, {2, 1}}), h5::Error);
  EXPECT_THROW(lake.ReadTarget({{data_.target.size() - 1, 2}}), h5::Error);
}

}  // namespace
}  // namespace mm

// Columns filled in pieces that arrive in any order come back as written, each chunk written whole once.
#include "manymodels/io/columns.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <random>

namespace mm {
namespace {

namespace fs = std::filesystem;

class ColumnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (fs::temp_directory_path() / ("mm_columns_test_" + std::to_string(::getpid()) + ".h5")).string();
  }
  void TearDown() override { fs::remove(path_); }
  std::string path_;
};

TEST_F(ColumnsTest, PiecesInAnyOrderReadBackInPlace) {
  const size_t n = 200000;  // several 64k chunks and a short last one
  std::vector<double> values(n);
  std::iota(values.begin(), values.end(), 0.5);
  // Batches of 511 rows (not chunk-aligned) from two "ranks", interleaved, in shuffled order within each.
  std::vector<size_t> starts;
  for (size_t s = 0; s < n; s += 511) starts.push_back(s);
  std::mt19937 rng(3);
  std::shuffle(starts.begin(), starts.end(), rng);
  {
    h5::Location f = h5::Location::CreateFile(path_);
    ColumnWriter<double> column(f, "x", n);
    DictionaryColumnWriter text(f, "label", n);
    for (size_t s : starts) {
      const size_t e = std::min(n, s + 511);
      column.Put(s, std::vector<double>(values.begin() + s, values.begin() + e));
      std::vector<std::string> labels;
      for (size_t i = s; i < e; ++i) labels.push_back(i % 3 ? "ETS(A,N,N)" : "SNaive(7)");
      text.Put(s, labels);
    }
    column.Close();
    text.Close();
    f.Close();
  }
  const h5::Location f = h5::Location::OpenFile(path_);
  EXPECT_EQ(f.ReadF64("x"), values);
  const auto labels = ReadDictionaryColumn(f, "label");
  ASSERT_EQ(labels.size(), n);
  for (size_t i = 0; i < n; i += 997) EXPECT_EQ(labels[i], i % 3 ? "ETS(A,N,N)" : "SNaive(7)");
  EXPECT_EQ(f.Group("label").Length("values"), 2u) << "each distinct value stored once";
  EXPECT_EQ(ReadDictionaryColumn(f, "label", 3, 2), (std::vector<std::string>{"SNaive(7)", "ETS(A,N,N)"}));
}

TEST_F(ColumnsTest, MissingRowsAreAnErrorAtClose) {
  h5::Location f = h5::Location::CreateFile(path_);
  ColumnWriter<int64_t> column(f, "n", 10);
  column.Put(0, {1, 2, 3});
  EXPECT_THROW(column.Close(), h5::Error);
}

TEST_F(ColumnsTest, RowsPastTheEndAreAnError) {
  h5::Location f = h5::Location::CreateFile(path_);
  ColumnWriter<int64_t> column(f, "n", 2);
  EXPECT_THROW(column.Put(1, {1, 2}), h5::Error);
}

}  // namespace
}  // namespace mm

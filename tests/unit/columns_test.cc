// Columns filled in pieces that arrive in any order come back as written, each chunk written whole once.
#include "manymodels/io/columns.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <random>
#include <type_traits>

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

TEST_F(ColumnsTest, BytesRowsReadBackInAnyOrderAndSelection) {
  // Rows of 0..3000 bytes, put in shuffled batches (their bytes lie in arrival order, not row order), across
  // several 256 KiB chunks of `bytes`.
  const size_t n = 1500;
  std::vector<std::vector<uint8_t>> rows(n);
  std::mt19937 rng(5);
  for (size_t i = 0; i < n; ++i) {
    rows[i].resize(i % 7 == 3 ? 0 : rng() % 3000);
    for (auto& b : rows[i]) b = static_cast<uint8_t>(rng());
  }
  std::vector<size_t> starts;
  for (size_t s = 0; s < n; s += 37) starts.push_back(s);
  std::shuffle(starts.begin(), starts.end(), rng);
  {
    h5::Location f = h5::Location::CreateFile(path_);
    BytesColumnWriter column(f, "params", n);
    for (size_t s : starts)
      column.Put(s, std::vector<std::vector<uint8_t>>(rows.begin() + s, rows.begin() + std::min(n, s + 37)));
    column.Close();
    f.Close();
  }
  const h5::Location f = h5::Location::OpenFile(path_);
  const BytesColumnReader reader(f, "params");
  ASSERT_EQ(reader.size(), n);
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(reader.Read(all), rows);
  // Every third row (runs of one row with gaps), rows in descending order, a repeated row, one row, none.
  std::vector<size_t> some;
  for (size_t i = 1; i < n; i += 3) some.push_back(i);
  for (const std::vector<size_t>& wanted : {some, std::vector<size_t>{1400, 20, 19, 700, 20},
                                            std::vector<size_t>{n - 1}, std::vector<size_t>{}}) {
    const auto got = reader.Read(wanted);
    ASSERT_EQ(got.size(), wanted.size());
    for (size_t k = 0; k < wanted.size(); ++k) EXPECT_EQ(got[k], rows[wanted[k]]) << "row " << wanted[k];
  }
  EXPECT_THROW(reader.Read({3, n}), h5::Error);
}

TEST_F(ColumnsTest, RangesReadAsWritten) {
  // Compressed doubles (decoded by ReadRanges itself): smooth values and random bit patterns; uncompressed
  // ones and integers (HDF5 reads them). 150,000 rows: two 64k chunks and a partial one.
  const size_t n = 150000;
  std::mt19937_64 rng(9);
  std::vector<double> smooth(n), noise(n);
  std::vector<int64_t> ints(n);
  for (size_t i = 0; i < n; ++i) {
    smooth[i] = 100 + static_cast<double>(i % 977) * 0.25;
    const uint64_t bits = rng();
    std::memcpy(&noise[i], &bits, sizeof bits);
    ints[i] = static_cast<int64_t>(rng() % 1000);
  }
  auto values = [&](const std::string& name) -> const std::vector<double>& {
    return name == "noise" ? noise : smooth;
  };
  {
    h5::Location f = h5::Location::CreateFile(path_);
    for (const auto& [name, compress] : {std::pair{"smooth", true}, {"noise", true}, {"plain", false}}) {
      h5::Dataset d = f.CreateF64(name, n, 0, compress);
      d.Write(0, values(name));
      d.Close();
    }
    f.WriteI64("ints", ints);
    f.Close();
  }
  const std::vector<h5::Range> ranges = {{0, 3}, {5, 0}, {65530, 10}, {70000, 65536}, {149990, 10}};
  auto expected = [&](const auto& all) {
    std::remove_cvref_t<decltype(all)> out;
    for (const auto& r : ranges)
      out.insert(out.end(), all.begin() + r.offset, all.begin() + r.offset + r.count);
    return out;
  };
  auto same_bits = [](const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
  };
  const h5::Location f = h5::Location::OpenFile(path_);
  for (const char* name : {"smooth", "noise", "plain"}) {
    const h5::Dataset d = f.OpenColumn(name);
    std::vector<double> got(expected(smooth).size()), whole(n);
    d.ReadRanges(H5T_NATIVE_DOUBLE, ranges, got.data());
    EXPECT_TRUE(same_bits(got, expected(values(name)))) << name;
    d.ReadRanges(H5T_NATIVE_DOUBLE, {{0, n}}, whole.data());  // every chunk again, the kept one first
    EXPECT_TRUE(same_bits(whole, values(name))) << name;
    EXPECT_THROW(d.ReadRanges(H5T_NATIVE_DOUBLE, {{n - 5, 6}}, whole.data()), h5::Error) << name;
    EXPECT_THROW(d.ReadRanges(H5T_NATIVE_DOUBLE, {{10, 5}, {12, 5}}, whole.data()), h5::Error) << name;
  }
  std::vector<int64_t> got(expected(ints).size());
  f.OpenColumn("ints").ReadRanges(H5T_NATIVE_INT64, ranges, got.data());
  EXPECT_EQ(got, expected(ints));
}

}  // namespace
}  // namespace mm

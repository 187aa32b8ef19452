#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "manymodels/io/csv.h"
#include "manymodels/io/files.h"

namespace mm {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("mm_csv_test_" + name)).string();
}

std::vector<std::vector<std::string>> ReadAll(const std::string& path, std::vector<int64_t>* lines = nullptr) {
  CsvReader r(path);
  std::vector<std::string_view> f;
  std::vector<std::vector<std::string>> out;
  while (r.Next(&f)) {
    out.emplace_back(f.begin(), f.end());
    if (lines) lines->push_back(r.line());
  }
  return out;
}

TEST(CsvReaderTest, PlainQuotedAndCrlf) {
  const std::string p = TempPath("plain.csv");
  std::ofstream(p) << "a,b,c\r\n1,\"x,y\",\"he said \"\"hi\"\"\"\n\"multi\nline\",2,3\nlast,,\n";
  std::vector<int64_t> lines;
  const auto rows = ReadAll(p, &lines);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "x,y", "he said \"hi\""}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"multi\nline", "2", "3"}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"last", "", ""}));
  EXPECT_EQ(lines, (std::vector<int64_t>{1, 2, 3, 5}));
  std::remove(p.c_str());
}

TEST(CsvReaderTest, GzipAndNoFinalNewline) {
  const std::string p = TempPath("z.csv.gz");
  gzFile g = gzopen(p.c_str(), "wb");
  const std::string text = "k,v\n1,2\n3,4";
  gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
  gzclose(g);
  const auto rows = ReadAll(p);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2], (std::vector<std::string>{"3", "4"}));
  std::remove(p.c_str());
}

TEST(CsvReaderTest, UnterminatedQuoteIsAnError) {
  const std::string p = TempPath("bad.csv");
  std::ofstream(p) << "a,b\n1,\"oops\n";
  EXPECT_THROW(ReadAll(p), InputError);
  std::remove(p.c_str());
}

TEST(CsvWriterTest, QuotesOnlyWhenNeeded) {
  std::string out;
  AppendCsvField(&out, "ETS(M,Ad,M)");
  out += ',';
  AppendCsvField(&out, "plain");
  out += ',';
  AppendCsvField(&out, "a\"b");
  EXPECT_EQ(out, "\"ETS(M,Ad,M)\",plain,\"a\"\"b\"");
  std::string n;
  AppendNumber(&n, 0.1);
  AppendNumber(&n, std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(n, "0.1");
}

}  // namespace
}  // namespace mm

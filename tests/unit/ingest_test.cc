// ReadLongCsv's refusals of quietly wrong input: messages FILE:LINE:COLUMN, offending text shown safely.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "manymodels/io/files.h"
#include "manymodels/io/ingest.h"

namespace mm {
namespace {

class IngestTest : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }

  IngestOptions Options(const std::string& text) {
    std::ofstream(path_, std::ios::binary) << text;
    IngestOptions o;
    o.input = path_;
    o.keys = {"store", "item"};
    o.time = "date";
    o.target = "sales";
    return o;
  }
  // The InputError's message, or "" when the file reads.
  std::string Error(const IngestOptions& o) {
    IngestSummary s;
    try {
      ReadLongCsv(o, &s);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  }
  std::string Error(const std::string& text) { return Error(Options(text)); }

  // One file per test: ctest runs the tests as separate processes, in parallel.
  const std::string path_ = (std::filesystem::temp_directory_path() /
                             ("mm_ingest_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
                              ".csv")).string();
};

TEST_F(IngestTest, DuplicateHeaderNamesAreAnError) {
  EXPECT_EQ(Error("date,store,store,sales\n2020-01-01,1,1,5\n"),
            path_ + ":1:3: duplicate column name 'store' (columns 2 and 3)");
  // Even a column no option names: which one a reader means is ambiguous.
  EXPECT_EQ(Error("date,store,item,sales,x,x\n2020-01-01,1,1,5,1,2\n"),
            path_ + ":1:6: duplicate column name 'x' (columns 5 and 6)");
}

TEST_F(IngestTest, ByteOrderMarkBeforeTheHeader) {
  IngestSummary s;
  const LakeData lake = ReadLongCsv(Options("\xEF\xBB\xBF" "date,store,item,sales\n2020-01-01,1,1,5\n"), &s);
  EXPECT_EQ(s.rows, 1);
  EXPECT_EQ(lake.index.time_column, "date");
}

TEST_F(IngestTest, KeysMustBeValidUtf8WithoutNul) {
  EXPECT_EQ(Error("date,store,item,sales\n2020-01-01,ok,1,5\n2020-01-01,a\xFF,1,5\n"),
            path_ + ":3:2: key 'store' value 'a\\xFF' is not valid UTF-8 (at byte 2)");
  EXPECT_EQ(Error("date,store,item,sales\n2020-01-01,1,\xC0\xAF,5\n"),  // an overlong '/'
            path_ + ":2:3: key 'item' value '\\xC0\\xAF' is not valid UTF-8 (at byte 1)");
  EXPECT_EQ(Error("date,store,item,sales\n2020-01-01,1,\xED\xA0\x80,5\n"),  // a UTF-16 surrogate
            path_ + ":2:3: key 'item' value '\\xED\\xA0\\x80' is not valid UTF-8 (at byte 1)");
  EXPECT_EQ(Error(std::string("date,store,item,sales\n2020-01-01,1\0x,1,5\n", 41)),
            path_ + ":2:2: key 'store' value '1\\x00x' holds a NUL byte (at byte 2)");
  // Multi-byte UTF-8 is fine.
  IngestSummary s;
  const LakeData lake =
      ReadLongCsv(Options("date,store,item,sales\n2020-01-01,Z\xC3\xBCrich,\xE6\x9D\xB1\xE4\xBA\xAC,5\n"
                          "2020-01-01,\xF0\x9F\x8F\xAA,1,5\n"), &s);
  EXPECT_EQ(s.series, 2);
  EXPECT_EQ(lake.index.keys.columns[0].texts[0], "Z\xC3\xBCrich");
}

TEST_F(IngestTest, OffendingTextIsShownSafely) {
  EXPECT_EQ(Error(std::string("date,store,item,sales\n2020-01-01,1,1,5\0junk\n", 44)),
            path_ + ":2:4: cannot parse '5\\x00junk' in column 'sales' as a number");
  EXPECT_EQ(Error("date,store,item,sales\n2020-01-\xFF" "1,1,1,5\n"),
            path_ + ":2:1: cannot parse '2020-01-\\xFF1' in column 'date' as a date (YYYY-MM-DD), datetime or "
                    "integer period");
  EXPECT_EQ(Error("date,store,item,sales\n2020-01-01,1,1,\x1B[31mred\n"),
            path_ + ":2:4: cannot parse '\\x1B[31mred' in column 'sales' as a number");
  const std::string e = Error("date,store,item,sales\n2020-01-01,1,1," + std::string(5000, '9') + "x\n");
  EXPECT_LT(e.size(), 200u) << e;
  EXPECT_NE(e.find("...' in column 'sales'"), std::string::npos) << e;
}

TEST_F(IngestTest, PeriodsAtInt64ExtremesDoNotWrapAround) {
  IngestOptions o = Options("date,store,item,sales\n-9223372036854775808,1,1,5\n9223372036854775807,1,1,6\n");
  o.frequency = Frequency::kInteger;
  const std::string e = Error(o);
  EXPECT_NE(e.find(path_ + ": the rows span 18446744073709551616 periods at frequency N for 2 rows"),
            std::string::npos) << e;
}

TEST(CheckColumnOptionsTest, EachColumnOnceInOneRole) {
  IngestOptions o;
  o.keys = {"store", "item"};
  o.time = "date";
  o.target = "sales";
  o.covariates = {"price"};
  EXPECT_NO_THROW(CheckColumnOptions(o));
  auto message = [](const IngestOptions& bad) -> std::string {
    try {
      CheckColumnOptions(bad);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  IngestOptions bad = o;
  bad.keys = {"store", "store"};
  EXPECT_EQ(message(bad), "--keys: column 'store' is named twice");
  bad = o;
  bad.keys = {};
  EXPECT_EQ(message(bad), "--keys names no column");
  bad = o;
  bad.covariates = {"price", "price"};
  EXPECT_EQ(message(bad), "--covariates: column 'price' is named twice");
  bad.covariates = {"sales"};
  EXPECT_EQ(message(bad), "--covariates: column 'sales' is already the target column (--target)");
  bad.covariates = {"date"};
  EXPECT_EQ(message(bad), "--covariates: column 'date' is already the time column (--time)");
  bad.covariates = {"item"};
  EXPECT_EQ(message(bad), "--covariates: column 'item' is already a key column (--keys)");
  bad = o;
  bad.target = "store";
  EXPECT_EQ(message(bad), "--target: column 'store' is already a key column (--keys)");
}

}  // namespace
}  // namespace mm

// ReadLongCsv's refusals of quietly wrong input: messages FILE:LINE:COLUMN, offending text shown safely. Rows
// beyond --memory, sorted into runs on a scratch file and merged, give the lake and the errors of rows in memory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

#include "manymodels/io/files.h"
#include "manymodels/io/generate.h"
#include "manymodels/io/ingest.h"
#include "manymodels/io/lake.h"
#include "same_lake.h"

namespace mm {
namespace {

// ReadLongCsv's InputError message, or "" when the file reads.
std::string InputErrorOf(const IngestOptions& o) {
  IngestSummary s;
  try {
    ReadLongCsv(o, &s);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

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
  std::string Error(const IngestOptions& o) { return InputErrorOf(o); }
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


// ------------------------------------------------------------------ rows spilled to scratch
// 64 KiB of --memory leaves 32 KiB for rows: 682 rows of 48 bytes (with two covariates) a run.
constexpr uint64_t kTiny = uint64_t{64} << 10;
constexpr uint64_t kAll = uint64_t{1} << 30;

class IngestSpillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mm_ingest_spill_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
            "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_ / "scratch");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A generated panel (4 stores x 5 items x 200 days, 5% of the days missing, price and promo), its rows
  // shuffled: every run holds rows of every series, in no order.
  std::vector<std::string> PanelLines() const {
    GenerateOptions g;
    g.out = (dir_ / "panel.csv").string();
    g.stores = 4;
    g.items = 5;
    g.length = 200;
    g.missing_share = 0.05;
    g.seed = 3;
    Generate(g);
    std::ifstream in(g.out);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::shuffle(lines.begin() + 1, lines.end(), std::mt19937(7));
    return lines;
  }
  IngestOptions Options(const std::vector<std::string>& lines, std::vector<std::string> covariates = {"price", "promo"}) {
    const std::string path = (dir_ / "input.csv").string();
    std::ofstream out(path, std::ios::binary);
    for (const auto& l : lines) out << l << "\n";
    IngestOptions o;
    o.input = path;
    o.keys = {"store", "item"};
    o.time = "date";
    o.target = "sales";
    o.covariates = std::move(covariates);
    o.tmpdir = (dir_ / "scratch").string();
    return o;
  }
  static LakeData Read(IngestOptions o, uint64_t memory, IngestSummary* s) {
    o.memory = memory;
    return ReadLongCsv(o, s);
  }
  // The InputError's message with `memory`, or "" when the file reads.
  static std::string Error(IngestOptions o, uint64_t memory) {
    o.memory = memory;
    return InputErrorOf(o);
  }
  // Spilled and in memory: the same lake, the same summary; returns the spilled summary.
  IngestSummary ExpectSameBothWays(const IngestOptions& o) {
    IngestSummary spilled, held;
    const LakeData a = Read(o, kTiny, &spilled), b = Read(o, kAll, &held);
    EXPECT_GE(spilled.runs, 2);
    EXPECT_EQ(held.runs, 0);
    EXPECT_EQ(spilled.rows, held.rows);
    EXPECT_EQ(spilled.series, held.series);
    EXPECT_EQ(spilled.periods, held.periods);
    EXPECT_EQ(spilled.missing, held.missing);
    ExpectSameLake(a, b);
    // And written to a file a chunk at a time, as ingest does.
    IngestOptions w = o;
    w.out = (dir_ / "spilled.h5").string();
    w.memory = kTiny;
    const IngestSummary written = Ingest(w, Provenance{});
    EXPECT_EQ(written.runs, spilled.runs);
    ExpectSameLake(ReadLake(w.out), b);
    EXPECT_TRUE(ScratchFolderEmpty());
    return spilled;
  }
  bool ScratchFolderEmpty() const { return std::filesystem::is_empty(dir_ / "scratch"); }

  std::filesystem::path dir_;
};

TEST_F(IngestSpillTest, SpilledRunsGiveTheLakeOfRowsInMemory) {
  const auto lines = PanelLines();
  const IngestSummary s = ExpectSameBothWays(Options(lines));
  EXPECT_EQ(s.rows, static_cast<int64_t>(lines.size()) - 1);
  EXPECT_GT(s.missing, 0);  // gaps
  EXPECT_GE(s.runs, 5);
  EXPECT_GE(s.spilled_bytes, static_cast<int64_t>(s.rows) * 44 * 3 / 4);
  // Without covariates the rows are smaller (28 bytes): more of them a run, still several runs.
  ExpectSameBothWays(Options(lines, {}));
}

TEST_F(IngestSpillTest, KeyColumnThatTurnsToTextAfterSomeRunsAreSpilled) {
  // store is all integers for the first runs (sorted 1, 2, 10 numerically), then "x1" makes it text (sorted
  // "1", "10", "2", "x1" bytewise): the runs already spilled are sorted again in the lake's order.
  auto lines = PanelLines();
  const size_t n = lines.size();
  for (size_t i = 1; i < n; i += 97) {
    std::string l = lines[i];
    lines.push_back("2015-01-0" + std::to_string(1 + i % 9) + l.substr(10, 1) + "x1" + l.substr(l.find(',', 11)));
  }
  // the new rows repeat (x1, item, date) pairs at times: keep the first of each
  std::sort(lines.begin() + static_cast<long>(n), lines.end());
  lines.erase(std::unique(lines.begin() + static_cast<long>(n), lines.end(),
                          [](const std::string& a, const std::string& b) {
                            return a.substr(0, a.find(',', 14)) == b.substr(0, b.find(',', 14));
                          }),
              lines.end());
  std::vector<std::string> bigger(lines.begin(), lines.begin() + static_cast<long>(n));
  // Store 10 too, so that numeric and text orders differ.
  for (size_t i = 1; i < n; i += 5) bigger.push_back("2015-01-01,10," + std::to_string(i) + ",1,2,0");
  bigger.insert(bigger.end(), lines.begin() + static_cast<long>(n), lines.end());
  IngestSummary s;
  const LakeData lake = Read(Options(bigger), kAll, &s);
  ASSERT_TRUE(lake.index.keys.columns[0].is_text);
  EXPECT_EQ(lake.index.keys.columns[0].texts.front(), "1");
  EXPECT_EQ(lake.index.keys.columns[0].texts.back(), "x1");
  ExpectSameBothWays(Options(bigger));
}

TEST_F(IngestSpillTest, DatesThenDatetimesAcrossRuns) {
  // Hourly data whose first rows give midnights as dates (more than a run of 1,024 rows of 32 bytes): the runs
  // spilled with dates are read back as datetimes.
  std::vector<std::string> lines = {"date,store,item,sales"};
  auto day = [](int d) { return "2020-02-" + std::string(d < 10 ? "0" : "") + std::to_string(d); };
  for (int d = 1; d < 20; ++d)
    for (int s = 0; s < 60; ++s) lines.push_back(day(d) + "," + std::to_string(s) + ",1," + std::to_string(d));
  for (int d = 20; d <= 28; ++d)
    for (int h = 0; h < 24; ++h)
      for (int s = 0; s < 60; ++s)
        lines.push_back(day(d) + "T" + (h < 10 ? "0" : "") + std::to_string(h) + ":00:00," + std::to_string(s) +
                        ",1," + std::to_string(d * 100 + h));
  std::shuffle(lines.begin() + 1, lines.begin() + 1 + 19 * 60, std::mt19937(1));
  std::shuffle(lines.begin() + 1 + 19 * 60, lines.end(), std::mt19937(2));
  IngestSummary s;
  const LakeData lake = Read(Options(lines, {}), kAll, &s);
  EXPECT_EQ(lake.index.frequency, Frequency::kHourly);
  EXPECT_EQ(s.periods, 60 * 28 * 24);
  EXPECT_EQ(s.missing, 60 * 19 * 23);  // the hours of the days given as dates
  ExpectSameBothWays(Options(lines, {}));
}

TEST_F(IngestSpillTest, ErrorsInLaterRunsNameTheirLines) {
  const auto lines = PanelLines();  // line k of the file is lines[k - 1]; about 682 rows a run
  struct Case {
    const char* name;
    std::vector<std::string> text;
    std::string expected;
  };
  std::vector<Case> cases;
  {  // a bad number in the second run: found as it is read
    auto t = lines;
    t[999] = t[999].substr(0, t[999].rfind(',', t[999].rfind(',') - 1)) + ",abc,0";
    cases.push_back({"bad number", t, ":1000:5: cannot parse 'abc' in column 'price' as a number"});
  }
  {  // rows repeated: the error is the repeat that comes first in the input (line 1201, in the second run), not
     // the one merged first (store 1 sorts before store 4; its repeat is on line 3001)
    auto t = lines;
    const auto of_store = [&t](char store) {
      return static_cast<size_t>(std::find_if(t.begin() + 1, t.end(), [&](const std::string& l) { return l[11] == store; }) - t.begin());
    };
    const size_t one = of_store('1'), four = of_store('4');
    t.insert(t.begin() + 3000, t[one]);
    t.insert(t.begin() + 1200, t[four]);
    const std::string key = "(store=4, item=" + t[four].substr(13, 1) + ", " + t[four].substr(0, 10) + ")";
    cases.push_back({"duplicate", t, ":1201: duplicate " + key + ", first seen at line " + std::to_string(four + 1)});
  }
  {  // the first time off the grid in the input: line 1500, not 3000, though 3000's sorts first
    auto t = lines;
    t[2999] = "2014-06-01T06:00:00" + t[2999].substr(10);
    t[1499] = "2015-03-01T06:00:00" + t[1499].substr(10);
    cases.push_back({"off grid", t, ":1500:1: time in column 'date' is not on the grid of frequency D"});
  }
  {  // the same integer written two ways, the second in a later run
    auto t = lines;
    t[2000] = t[2000].substr(0, 11) + "01" + t[2000].substr(12);
    cases.push_back({"two ways", t, ": key column 'store' holds '"});
  }
  for (auto& c : cases) {
    IngestOptions o = Options(c.text);
    if (std::string(c.name) == "off grid") o.frequency = Frequency::kDaily;
    const std::string spilled = Error(o, kTiny), held = Error(o, kAll);
    EXPECT_EQ(spilled, held) << c.name;
    EXPECT_NE(spilled.find(o.input + c.expected), std::string::npos) << c.name << ": " << spilled;
    EXPECT_TRUE(ScratchFolderEmpty()) << c.name;
  }
}

TEST_F(IngestSpillTest, MonthlyRowsOfOnePeriodOnDifferentDaysAreDuplicates) {
  // 2020-01-05 and 2020-01-20 are one month: sorted apart by their days, still one slot.
  std::vector<std::string> lines = {"date,store,item,sales"};
  for (int s = 0; s < 60; ++s)
    for (int m = 1; m <= 12; ++m)
      lines.push_back("2020-" + std::string(m < 10 ? "0" : "") + std::to_string(m) + "-05," + std::to_string(s) + ",1,1");
  std::shuffle(lines.begin() + 1, lines.end(), std::mt19937(2));
  IngestOptions o = Options(lines, {});
  o.frequency = Frequency::kMonthly;
  EXPECT_EQ(Error(o, kTiny), "");
  lines.push_back("2020-03-20,7,1,9");
  lines.insert(lines.begin() + 400, "2020-03-28,7,1,9");
  IngestOptions bad = Options(lines, {});
  bad.frequency = Frequency::kMonthly;
  const std::string e = Error(bad, kTiny);
  EXPECT_EQ(e, Error(bad, kAll));
  EXPECT_NE(e.find(":401: duplicate (store=7, item=1, 2020-03-01), first seen at line "), std::string::npos) << e;
}

// The key index is counted within --memory: the same number of rows, spread over many series, leaves less
// room for the rows in hand, so more runs are spilled; the lake is still the one of every row held.
TEST_F(IngestSpillTest, TheKeyIndexCountsWithinMemory) {
  auto lines = [](int series, int days) {
    std::vector<std::string> out = {"date,store,item,sales"};
    for (int d = 1; d <= days; ++d)
      for (int s = 0; s < series; ++s)
        out.push_back("2020-01-" + std::string(d < 10 ? "0" : "") + std::to_string(d) + "," +
                      std::to_string(s % 97) + "," + std::to_string(s) + "," + std::to_string(d));
    return out;
  };
  constexpr uint64_t kMemory = uint64_t{4} << 20;  // 2 MiB for rows: 65,536 of 32 bytes with their order
  IngestSummary few, many, held;
  const auto few_lines = lines(20, 30), many_lines = lines(20000, 30);
  Read(Options(few_lines, {}), kMemory, &few);
  EXPECT_EQ(few.runs, 0);
  EXPECT_LT(few.index_bytes, 20000);
  // 20,000 series of 30 days: the index holds about 100 bytes a series (2 MiB), the rows 19 MiB.
  const IngestOptions o = Options(many_lines, {});
  const LakeData spilled = Read(o, kMemory, &many);
  EXPECT_GT(many.index_bytes, 20000 * 60);
  EXPECT_LT(many.index_bytes, 20000 * 300);
  const LakeData all = Read(o, kAll, &held);
  EXPECT_EQ(held.runs, 0);
  ExpectSameLake(spilled, all);
  // The rows in hand got what the index left: at most (2 MiB - index) / 32 bytes a run, not 2 MiB / 32.
  const uint64_t rows_budget = RowBudget(kMemory) - static_cast<uint64_t>(many.index_bytes);
  EXPECT_GE(many.runs, static_cast<int64_t>(many.rows * 32 / rows_budget));
  EXPECT_GT(many.runs, static_cast<int64_t>(many.rows * 32 / RowBudget(kMemory)) + 1);
}

// Series and key values have 32-bit ids: past the limit (lowered here) ingest stops at the line of the first
// series or value beyond it.
TEST_F(IngestSpillTest, MoreSeriesThanTheIdsHoldIsAnErrorNamingTheLine) {
  std::vector<std::string> lines = {"date,store,item,sales"};
  for (int s = 0; s < 12; ++s)
    lines.push_back("2020-01-01," + std::to_string(s % 3) + "," + std::to_string(s % 4) + ",1");
  IngestOptions o = Options(lines, {});
  o.max_series = 12;
  EXPECT_EQ(Error(o, kAll), "");
  o.max_series = 11;  // the twelfth series, on line 13
  EXPECT_EQ(Error(o, kAll), o.input +
                                ":13: more than 11 series (distinct keys): the most one ingest takes (32-bit "
                                "ids; the key index holds about 100 bytes a series)");
  o.keys = {"item"};  // the fourth item, on line 5
  o.max_series = 3;
  EXPECT_NE(Error(o, kAll).find(o.input + ":5: more than 3 distinct values in key column 'item'"),
            std::string::npos)
      << Error(o, kAll);
}

TEST(RowBudgetTest, ProgramReserveComesOffTheTop) {
  EXPECT_EQ(RowBudget(uint64_t{1} << 30), (uint64_t{1} << 30) - kMemoryReserve);
  EXPECT_EQ(RowBudget(uint64_t{64} << 10), uint64_t{32} << 10);
}

}  // namespace
}  // namespace mm

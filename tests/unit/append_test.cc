// ingest --append: rows added to an existing lake equal the lake ingested in one go; new series in key order;
// future covariate rows filled later; known values may be sent again but not changed; the lake's columns and
// grid are the append's; a refused append leaves the lake byte for byte.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "manymodels/io/files.h"
#include "manymodels/io/generate.h"
#include "manymodels/io/ingest.h"
#include "manymodels/io/lake.h"
#include "same_lake.h"

namespace mm {
namespace {

namespace fs = std::filesystem;

class AppendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mm_append_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "_" +
            std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name), std::ios::binary) << text;
    return Path(name);
  }
  static std::string Bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // The options of the small text-keyed lakes below: day,shop,sales,price.
  IngestOptions Shop(const std::string& input, bool append) const {
    IngestOptions o;
    o.input = input;
    o.keys = {"shop"};
    o.time = "day";
    o.target = "sales";
    o.covariates = {"price"};
    o.out = Path("lake.h5");
    o.append = append;
    return o;
  }
  static IngestSummary Run(const IngestOptions& o, const std::string& command_line = "") {
    return Ingest(o, Provenance{"ingest", "", "", command_line, {{"input", AbsolutePath(o.input)}}});
  }
  // The InputError or UsageError message of an append ("" when it succeeds); the lake must be unchanged.
  template <typename E>
  std::string Refusal(const IngestOptions& o) {
    const std::string before = Bytes(o.out);
    std::string what;
    try {
      Run(o);
    } catch (const E& e) {
      what = e.what();
    }
    EXPECT_EQ(Bytes(o.out), before) << "a refused append changed the lake";
    for (const auto& entry : fs::directory_iterator(dir_))
      EXPECT_EQ(entry.path().string().find(".tmp-"), std::string::npos) << entry.path() << " left behind";
    return what;
  }
  fs::path dir_;
};

bool SameValues(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return true;
}

// A generated panel split by date: rows before `cut` (ISO date), and the rest.
void Split(const std::string& panel, const std::string& cut, const std::string& first, const std::string& second) {
  std::ifstream in(panel);
  std::ofstream a(first), b(second);
  std::string line;
  std::getline(in, line);
  a << line << "\n";
  b << line << "\n";
  while (std::getline(in, line)) (line.substr(0, 10) < cut ? a : b) << line << "\n";
}

void AppendEqualsOneGo(AppendTest* t, const std::string& dir, Frequency freq, int64_t length, const std::string& cut,
                       uint64_t memory = uint64_t{1} << 30) {
  GenerateOptions g;
  g.out = dir + "/panel.csv";
  g.stores = 3;
  g.items = 4;
  g.length = length;
  g.frequency = freq;
  g.missing_share = 0.02;
  g.seed = 11;
  Generate(g);
  Split(g.out, cut, dir + "/first.csv", dir + "/second.csv");
  IngestOptions o;
  o.keys = {"store", "item"};
  o.time = "date";
  o.target = "sales";
  o.covariates = {"price", "promo"};
  o.input = g.out;
  o.out = dir + "/whole.h5";
  Ingest(o, Provenance{});
  o.input = dir + "/first.csv";
  o.out = dir + "/lake.h5";
  Ingest(o, Provenance{});
  o.input = dir + "/second.csv";
  o.append = true;
  o.memory = memory;
  o.covariates = {"promo", "price"};  // any order: the lake's is kept
  const IngestSummary s = Ingest(o, Provenance{});
  EXPECT_EQ(s.new_series, 0);
  EXPECT_GT(s.new_periods, 0);
  EXPECT_EQ(s.runs >= 2, memory < (uint64_t{1} << 20)) << s.runs;
  ExpectSameLake(ReadLake(dir + "/lake.h5"), ReadLake(dir + "/whole.h5"));
  (void)t;
}

TEST_F(AppendTest, OneWeekAppendedEqualsTheConcatenationIngestedInOneGo) {
  AppendEqualsOneGo(this, dir_.string(), Frequency::kDaily, 60, "2015-02-23");  // the last 7 of 60 days
}

TEST_F(AppendTest, AppendedRowsPastTheMemoryAreSpilledAndMerged) {
  // 64K of --memory: runs of 682 rows; the 12 series' last 150 days are 1,800 rows.
  AppendEqualsOneGo(this, dir_.string(), Frequency::kDaily, 400, "2015-08-06", uint64_t{64} << 10);
}

TEST_F(AppendTest, WeeklyAppendKeepsTheLakesAnchor) {
  AppendEqualsOneGo(this, dir_.string(), Frequency::kWeekly, 40, "2015-09-01");
}

TEST_F(AppendTest, NewSeriesAreInsertedInKeyOrder) {
  Run(Shop(Write("a.csv", "day,shop,sales,price\n2020-01-01,c,3,1\n2020-01-01,a,1,1\n2020-01-02,a,2,1\n"), false));
  const IngestSummary s = Run(Shop(Write("b.csv", "day,shop,sales,price\n2020-01-03,d,4,2\n2020-01-02,aa,5,2\n"
                                                  "2020-01-03,a,6,1\n2020-01-03,b,7,2\n"), true));
  EXPECT_EQ(s.new_series, 3);
  EXPECT_EQ(s.series, 5);
  EXPECT_EQ(s.rows, 4);
  const LakeData lake = ReadLake(Path("lake.h5"));
  EXPECT_EQ(lake.index.keys.columns[0].texts, (std::vector<std::string>{"a", "aa", "b", "c", "d"}));
  EXPECT_EQ(lake.index.offsets, (std::vector<int64_t>{0, 3, 4, 5, 6, 7}));
  EXPECT_EQ(lake.index.start, (std::vector<int64_t>{DaysFromCivil(2020, 1, 1), DaysFromCivil(2020, 1, 2),
                                                    DaysFromCivil(2020, 1, 3), DaysFromCivil(2020, 1, 1),
                                                    DaysFromCivil(2020, 1, 3)}));
  EXPECT_EQ(lake.target, (std::vector<double>{1, 2, 6, 5, 7, 3, 4}));
  EXPECT_EQ(lake.covariates[0], (std::vector<double>{1, 1, 1, 2, 2, 1, 2}));
}

TEST_F(AppendTest, IntegerKeysStayIntegersAndNewOnesSortNumerically) {
  IngestOptions o = Shop(Write("a.csv", "day,shop,sales,price\n2020-01-01,10,1,1\n2020-01-01,2,2,1\n"), false);
  Run(o);
  Run(Shop(Write("b.csv", "day,shop,sales,price\n2020-01-02,9,3,1\n2020-01-02,10,4,1\n"), true));
  const LakeData lake = ReadLake(o.out);
  ASSERT_FALSE(lake.index.keys.columns[0].is_text);
  EXPECT_EQ(lake.index.keys.columns[0].ints, (std::vector<int64_t>{2, 9, 10}));
  EXPECT_TRUE(SameValues(lake.target, {2, 3, 1, 4}));
}

TEST_F(AppendTest, FutureCovariatesAreFilledByALaterAppend) {
  // Observed to Jan 3; known prices for Jan 4 and 5 (empty target).
  Run(Shop(Write("a.csv", "day,shop,sales,price\n2020-01-01,a,1,1\n2020-01-02,a,2,1\n2020-01-03,a,3,1\n"
                          "2020-01-04,a,,1.5\n2020-01-05,a,,2\n"), false));
  // The next day: Jan 4 observed with its planned price; Jan 5 sent again as it was; a new future price (Jan 6).
  const IngestSummary s = Run(Shop(Write("b.csv", "day,shop,sales,price\n2020-01-04,a,4,1.5\n2020-01-05,a,,2\n"
                                                  "2020-01-06,a,,2.5\n"), true));
  EXPECT_EQ(s.filled, 1);
  EXPECT_EQ(s.new_periods, 1);
  LakeData lake = ReadLake(Path("lake.h5"));
  EXPECT_TRUE(SameValues(lake.target, {1, 2, 3, 4, NAN, NAN}));
  EXPECT_EQ(lake.covariates[0], (std::vector<double>{1, 1, 1, 1.5, 2, 2.5}));
  // A later day fills Jan 5's target; an empty price does not erase the known one.
  Run(Shop(Write("c.csv", "day,shop,sales,price\n2020-01-05,a,5,\n"), true));
  lake = ReadLake(Path("lake.h5"));
  EXPECT_TRUE(SameValues(lake.target, {1, 2, 3, 4, 5, NAN}));
  EXPECT_EQ(lake.covariates[0], (std::vector<double>{1, 1, 1, 1.5, 2, 2.5}));
}

TEST_F(AppendTest, SendingKnownRowsAgainIsHarmless) {
  const std::string a = Write("a.csv", "day,shop,sales,price\n2020-01-01,a,1,1\n2020-01-02,a,2,\n2020-01-04,b,3,1\n");
  Run(Shop(a, false));
  const LakeData before = ReadLake(Path("lake.h5"));
  const IngestSummary s = Run(Shop(a, true));
  EXPECT_EQ(s.new_series, 0);
  EXPECT_EQ(s.new_periods, 0);
  EXPECT_EQ(s.filled, 0);
  ExpectSameLake(ReadLake(Path("lake.h5")), before);
  // A gap is filled: the lake's NaN was no observation.
  Run(Shop(Write("b.csv", "day,shop,sales,price\n2020-01-02,a,2,3\n"), true));
  EXPECT_EQ(ReadLake(Path("lake.h5")).covariates[0][1], 3);
}

TEST_F(AppendTest, AChangedValueIsRefusedWithItsLineAndTheLakeStaysAsItWas) {
  Run(Shop(Write("a.csv", "day,shop,sales,price\n2020-01-01,a,1,1\n2020-01-02,a,2,1\n2020-01-03,a,,1.5\n"), false));
  const std::string b = Write("b.csv", "day,shop,sales,price\n2020-01-03,a,3,1.5\n\n2020-01-02,a,2.5,1\n");
  EXPECT_EQ(Refusal<InputError>(Shop(b, true)),
            b + ":4:3: (shop=a, 2020-01-02): sales 2.5 differs from 2 in the lake " + Path("lake.h5") +
                "; --append adds periods and fills empty values, it does not change known ones");
  // A covariate known in both and different; the future row's target (empty in the lake) is no conflict.
  const std::string c = Write("c.csv", "day,shop,sales,price\n2020-01-03,a,3,1.75\n");
  EXPECT_EQ(Refusal<InputError>(Shop(c, true)),
            c + ":2:4: (shop=a, 2020-01-03): price 1.75 differs from 1.5 in the lake " + Path("lake.h5") +
                "; --append adds periods and fills empty values, it does not change known ones");
}

TEST_F(AppendTest, ColumnsAndGridOtherThanTheLakesAreUsageErrors) {
  Run(Shop(Write("a.csv", "day,shop,sales,price,promo,region\n2020-01-01,a,1,1,0,x\n"), false));
  const std::string b = Write("b.csv", "day,shop,sales,price,promo,region\n2020-01-02,a,2,1,0,x\n");
  const std::string lake = Path("lake.h5");
  IngestOptions o = Shop(b, true);
  o.covariates = {"price", "promo"};
  EXPECT_EQ(Refusal<UsageError>(o), "--covariates 'price,promo', but the lake " + lake +
                                        " has covariates 'price' (--append adds rows with the lake's columns and "
                                        "frequency)");
  o = Shop(b, true);
  o.covariates = {};
  EXPECT_NE(Refusal<UsageError>(o).find("--covariates '', but the lake"), std::string::npos);
  o = Shop(b, true);
  o.keys = {"shop", "region"};
  EXPECT_NE(Refusal<UsageError>(o).find("--keys 'shop,region', but the lake " + lake + " has key columns 'shop'"),
            std::string::npos);
  o = Shop(b, true);
  o.target = "promo";
  o.covariates = {"price"};
  EXPECT_NE(Refusal<UsageError>(o).find("--target 'promo', but the lake " + lake + " has target column 'sales'"),
            std::string::npos);
  o = Shop(b, true);
  o.frequency = Frequency::kWeekly;
  EXPECT_NE(Refusal<UsageError>(o).find("--freq W, but the lake " + lake + " has frequency D"), std::string::npos);
  o = Shop(b, true);
  o.season_lengths = {7};
  EXPECT_NE(Refusal<UsageError>(o).find("--season-length 7, but the lake " + lake + " has season lengths 7,365.25"),
            std::string::npos);
  // The same column under another role in the CSV: the time column must be the lake's.
  const std::string c = Write("c.csv", "date,shop,sales,price\n2020-01-02,a,2,1\n");
  o = Shop(c, true);
  o.time = "date";
  EXPECT_NE(Refusal<UsageError>(o).find("--time 'date', but the lake " + lake + " has time column 'day'"),
            std::string::npos);
}

TEST_F(AppendTest, RowsThatDoNotFitTheLakesKeysOrGridAreInputErrors) {
  IngestOptions o = Shop(Write("a.csv", "day,shop,sales,price\n2020-01-06,1,1,1\n2020-01-13,2,1,1\n"), false);
  Run(o);  // weekly, on Mondays, integer shops
  const std::string b = Write("b.csv", "day,shop,sales,price\n2020-01-20,1,2,1\n2020-01-20,x,2,1\n");
  EXPECT_EQ(Refusal<InputError>(Shop(b, true)),
            b + ":3:2: key 'shop' value 'x' is not an integer, and the lake " + Path("lake.h5") +
                " stores key column 'shop' as integers");
  const std::string c = Write("c.csv", "day,shop,sales,price\n2020-01-20,1,2,1\n2020-01-21,2,2,1\n");
  EXPECT_EQ(Refusal<InputError>(Shop(c, true)),
            c + ":3:1: time in column 'day' is not on the grid of frequency W (weeks start on 1970-01-05's weekday)");  // a Monday, as 2020-01-06
  // One new week on the lake's grid: weekly is not inferred from a single date.
  const IngestSummary s = Run(Shop(Write("d.csv", "day,shop,sales,price\n2020-01-20,2,5,1\n"), true));
  EXPECT_EQ(s.frequency, Frequency::kWeekly);
  EXPECT_TRUE(SameValues(ReadLake(o.out).target, {1, 1, 5}));
}

TEST_F(AppendTest, AMissingLakeOrNotALakeIsAnError) {
  const std::string a = Write("a.csv", "day,shop,sales,price\n2020-01-01,a,1,1\n");
  EXPECT_ANY_THROW(Run(Shop(a, true)));
  EXPECT_FALSE(fs::exists(Path("lake.h5")));
  Write("lake.h5", "not hdf5");
  const std::string what = Refusal<h5::Error>(Shop(a, true));
  EXPECT_NE(what.find("lake.h5"), std::string::npos) << what;
}

TEST_F(AppendTest, ProvenanceKeepsEarlierInputsAndCommandLines) {
  const std::string a = Write("a.csv", "day,shop,sales,price\n2020-01-01,a,1,1\n");
  const std::string b = Write("b.csv", "day,shop,sales,price\n2020-01-02,a,2,1\n");
  const std::string c = Write("c.csv", "day,shop,sales,price\n2020-01-03,a,3,1\n");
  Run(Shop(a, false), "manymodels ingest --input a.csv");
  Run(Shop(b, true), "manymodels ingest --input b.csv --append");
  Run(Shop(c, true), "manymodels ingest --input c.csv --append");
  const LakeReader r(Path("lake.h5"));
  EXPECT_EQ(r.TextAttribute("inputs"),
            "input=" + AbsolutePath(a) + "\ninput=" + AbsolutePath(b) + "\ninput=" + AbsolutePath(c) + "\n");
  EXPECT_EQ(r.TextAttribute("command_line"), "manymodels ingest --input c.csv --append");
  const std::string h = r.TextAttribute("history");
  const size_t first = h.find(" manymodels ingest --input a.csv\n"), second = h.find(" manymodels ingest --input b.csv --append\n");
  EXPECT_NE(first, std::string::npos) << h;
  EXPECT_NE(second, std::string::npos) << h;
  EXPECT_LT(first, second) << h;
  EXPECT_EQ(std::count(h.begin(), h.end(), '\n'), 2) << h;
}

}  // namespace
}  // namespace mm

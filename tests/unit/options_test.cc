// Usage errors found while parsing options and job files: each names the option (or the job file and section).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include "options.h"

namespace mm::app {
namespace {

// ParseOptions' error message, or "" when the options parse.
std::string ParseError(const std::string& command, std::vector<std::string> args) {
  std::vector<char*> argv = {const_cast<char*>("manymodels")};
  for (auto& a : args) argv.push_back(a.data());
  po::variables_map vm;
  try {
    ParseOptions(command, static_cast<int>(argv.size()), argv.data(), &vm);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> Ingest(std::vector<std::string> more) {
  std::vector<std::string> a = {"--input", "x.csv", "--keys", "store,item", "--time", "date", "--target", "sales",
                                "--out", "x.h5"};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

std::vector<std::string> Train(std::vector<std::string> more) {
  std::vector<std::string> a = {"--lake", "l.h5", "--horizon", "3", "--registry", "r.h5", "--predictions", "p.h5"};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

TEST(OptionsTest, ValidOptionsParse) {
  EXPECT_EQ(ParseError("ingest", Ingest({"--covariates", "price,promo", "--season-length", "7,365.25"})), "");
  EXPECT_EQ(ParseError("train", Train({"--partition-by", "store", "--covariates", "price", "--threads", "4"})), "");
  EXPECT_EQ(ParseError("generate", {"--out", "g.csv", "--stores", "2"}), "");
}

TEST(OptionsTest, IngestColumnsNamedOnceInOneRole) {
  std::vector<std::string> a = Ingest({});
  a[3] = "store,store";
  EXPECT_EQ(ParseError("ingest", a), "--keys: column 'store' is named twice");
  a[3] = "";
  EXPECT_EQ(ParseError("ingest", a), "--keys names no column");
  a[3] = " , ";
  EXPECT_EQ(ParseError("ingest", a), "--keys names no column");
  EXPECT_EQ(ParseError("ingest", Ingest({"--covariates", "price,price"})), "--covariates: column 'price' is named twice");
  EXPECT_EQ(ParseError("ingest", Ingest({"--covariates", "sales"})),
            "--covariates: column 'sales' is already the target column (--target)");
  EXPECT_EQ(ParseError("ingest", Ingest({"--covariates", "date"})),
            "--covariates: column 'date' is already the time column (--time)");
  EXPECT_EQ(ParseError("ingest", Ingest({"--covariates", "item"})),
            "--covariates: column 'item' is already a key column (--keys)");
}

TEST(OptionsTest, TrainListsWithoutRepeats) {
  EXPECT_EQ(ParseError("train", Train({"--partition-by", "store,store"})), "--partition-by: 'store' is given twice");
  EXPECT_EQ(ParseError("train", Train({"--covariates", "price,price"})), "--covariates: 'price' is given twice");
  EXPECT_EQ(ParseError("train", Train({"--threads", "100000"})), "--threads: 100000 is not between 0 and 1024");
}

TEST(OptionsTest, SeasonLengthsAreFiniteDistinctNumbers) {
  EXPECT_EQ(ParseNumberList("7, 365.25", "season-length"), (std::vector<double>{7, 365.25}));
  auto error = [](const std::string& s) -> std::string {
    try {
      ParseNumberList(s, "season-length");
    } catch (const po::error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error("inf"), "--season-length: 'inf' is not a number of at least 1");
  EXPECT_EQ(error("7,infinity"), "--season-length: 'infinity' is not a number of at least 1");
  EXPECT_EQ(error("nan"), "--season-length: 'nan' is not a number of at least 1");
  EXPECT_EQ(error("1e300"), "--season-length: '1e300' is more than 10000000 periods");
  EXPECT_EQ(error("1e400"), "--season-length: '1e400' is not a number of at least 1");
  EXPECT_EQ(error("7,7"), "--season-length: '7' is given twice");
  EXPECT_EQ(error("7,24,7.0"), "--season-length: '7.0' is given twice");
  EXPECT_EQ(error(","), "--season-length is empty");
  EXPECT_EQ(ParseError("train", Train({"--season-length", "24,24"})), "--season-length: '24' is given twice");
  EXPECT_EQ(ParseError("ingest", Ingest({"--season-length", "inf"})),
            "--season-length: 'inf' is not a number of at least 1");
}

TEST(OptionsTest, ByteSizesTakeUnitsOfPowersOf1024) {
  EXPECT_EQ(ParseByteSize("1G", "memory"), uint64_t{1} << 30);
  EXPECT_EQ(ParseByteSize("512M", "memory"), uint64_t{512} << 20);
  EXPECT_EQ(ParseByteSize("1.5GiB", "memory"), uint64_t{3} << 29);
  EXPECT_EQ(ParseByteSize("64k", "memory"), uint64_t{64} << 10);
  EXPECT_EQ(ParseByteSize("2tb", "memory"), uint64_t{2} << 40);
  EXPECT_EQ(ParseByteSize("1048576", "memory"), uint64_t{1} << 20);
  EXPECT_EQ(ParseError("ingest", Ingest({"--memory", "300K"})), "");
  EXPECT_EQ(ParseError("ingest", Ingest({"--memory", "1Q"})),
            "--memory: '1Q' is not a size in bytes (such as 1073741824, 512M or 1.5G)");
  EXPECT_EQ(ParseError("ingest", Ingest({"--memory", "-1G"})),
            "--memory: '-1G' is not a size in bytes (such as 1073741824, 512M or 1.5G)");
  EXPECT_EQ(ParseError("ingest", Ingest({"--memory", "G"})),
            "--memory: 'G' is not a size in bytes (such as 1073741824, 512M or 1.5G)");
  EXPECT_EQ(ParseError("ingest", Ingest({"--memory", "63K"})), "--memory: '63K' is less than 64K or more than 8 EiB");
  EXPECT_EQ(ParseError("ingest", Ingest({"--memory", "nan"})),
            "--memory: 'nan' is not a size in bytes (such as 1073741824, 512M or 1.5G)");
}

TEST(OptionsTest, GenerateSizesNameTheOption) {
  EXPECT_EQ(ParseError("generate", {"--out", "g.csv", "--stores", "-5"}), "--stores: -5 is not between 1 and 1000000000");
  EXPECT_EQ(ParseError("generate", {"--out", "g.csv", "--length", "0"}), "--length: 0 is not between 1 and 1000000000");
  EXPECT_EQ(ParseError("generate", {"--out", "g.csv", "--stores", "100000", "--items", "100000", "--length", "10"}),
            "--stores x --items x --length: 1e+11 rows, more than 10 billion");
  EXPECT_EQ(ParseError("generate", {"--out", "g.csv", "--missing-share", "1"}), "--missing-share: 1 is not in [0, 1)");
  EXPECT_EQ(ParseError("generate", {"--out", "g.csv", "--intermittent-share", "nan"}),
            "--intermittent-share: nan is not in [0, 1)");
}

class JobFileTest : public ::testing::Test {
 protected:
  void TearDown() override { std::remove(path_.c_str()); }
  std::string Run(const std::string& command, const std::string& ini, std::vector<std::string> args) {
    std::ofstream(path_) << ini;
    args.insert(args.begin(), {"--config", path_});
    return ParseError(command, args);
  }
  const std::string path_ =
      (std::filesystem::temp_directory_path() /
       ("mm_options_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".ini"))
          .string();
};

TEST_F(JobFileTest, UnknownSectionIsAnError) {
  const std::string e = Run("train", "lake = l.h5\n[tran]\nhorizon = 3\n", Train({}));
  EXPECT_EQ(e.rfind(path_ + ": unknown section [tran] (key 'horizon')", 0), 0u) << e;
  // Also when the command reading it is another one.
  EXPECT_NE(Run("registry list", "[tran]\nhorizon = 3\n", {"--registry", "r.h5"}).find("unknown section [tran]"),
            std::string::npos);
}

TEST_F(JobFileTest, WholePipelineJobFileIsAccepted) {
  // Sections of today's subcommands and of those DESIGN.md plans: each command skips the others' sections.
  const std::string ini =
      "lake = l.h5\nregistry = r.h5\n"
      "[generate]\nstores = 2\n[ingest]\nkeys = store\n[train]\nhorizon = 3\n[registry]\nformat = csv\n"
      "[predictions]\nformat = csv\n[promote]\nrule = mase<1\n[score]\nrun-id = x\n[serve]\nport = 8080\n"
      "[report]\nout = r.html\n[bench]\nlayouts = 1x1\n";
  EXPECT_EQ(Run("train", ini, {"--predictions", "p.h5"}), "");
  EXPECT_EQ(Run("registry list", ini, {}), "");
}

TEST_F(JobFileTest, PromoteRulesFromTheJobFileOrTheCommandLine) {
  const std::string ini = "registry = r.h5\nproduction = p.h5\n[promote]\nrule = smape<20\nrule = mase < 1\n";
  EXPECT_EQ(Run("promote", ini, {}), "");
  // Repeated keys make a list; the command line's rules replace the job file's.
  std::ofstream(path_) << ini;
  std::vector<std::string> args = {"--config", path_, "--rule", "mape<20"};
  std::vector<char*> argv = {const_cast<char*>("manymodels")};
  for (auto& a : args) argv.push_back(a.data());
  po::variables_map vm;
  ASSERT_TRUE(ParseOptions("promote", static_cast<int>(argv.size()), argv.data(), &vm));
  EXPECT_EQ(vm["rule"].as<std::vector<std::string>>(), (std::vector<std::string>{"mape<20"}));
  EXPECT_NE(DescribeOptions(vm).find("rule=mape<20\n"), std::string::npos);
  EXPECT_EQ(Run("promote", ini + "rule = smape<<20\n", {}).rfind("--rule 'smape<<20': ", 0), 0u);
  EXPECT_EQ(Run("promote", ini + "margin = 0.1\n", {}), "--margin needs --compare (the metric the margin applies to)");
  EXPECT_EQ(Run("promote", ini + "compare = smape\nmargin = 1\n", {}),
            "--margin: 1 is not in [0, 1) (a relative margin: 0.05 is 5%)");
  EXPECT_EQ(Run("promote", "production = p.h5\n", {"--rollback", "v1"}), "");
  EXPECT_EQ(Run("promote", "production = p.h5\n", {"--registry", "r.h5"}).rfind("promote needs at least one --rule", 0),
            0u);
}

}  // namespace
}  // namespace mm::app

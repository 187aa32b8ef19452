// promote: rules, champion/challenger, --keys, rollback, dry run and the audit, on small hand-made registries.
#include "manymodels/io/promote.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "manymodels/io/files.h"
#include "manymodels/io/registry.h"

namespace mm {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One staged model: its key (store, item), version, status and metrics.
struct Model {
  int64_t store;
  std::string item, version, status = "staged";
  double smape = 10, mase = 0.5;
  int64_t n_obs = 100;
};

ModelRecord Record(const Model& m) {
  ModelRecord r;
  r.model = "Naive";
  r.method = "naive";
  r.version = m.version;
  r.status = m.status;
  r.metrics.mae = r.metrics.rmse = r.metrics.mape = 1;
  r.metrics.smape = m.smape;
  r.metrics.mase = m.mase;
  r.n_obs = m.n_obs;
  r.last_period = 1000;
  r.params = {1, 2, 3, static_cast<uint8_t>(m.store)};
  return r;
}

// A staging registry as train writes one: one row per key, sorted by key.
void WriteStaging(const std::string& path, const std::vector<Model>& models) {
  KeyTable keys;
  keys.columns = {KeyColumn{"store", false, {}, {}}, KeyColumn{"item", true, {}, {}}};
  std::vector<ModelRecord> rows;
  for (const auto& m : models) {
    keys.columns[0].ints.push_back(m.store);
    keys.columns[1].texts.push_back(m.item);
    rows.push_back(Record(m));
  }
  TableMeta meta;
  meta.season_lengths = {7};
  meta.horizon = 7;
  meta.lake = "lake.h5";
  RegistryWriter w(path, keys, meta, Provenance{"train", "", models.empty() ? "" : models[0].version, "", {}});
  w.Write(0, rows);
  w.Commit();
}

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// (store, item, version, status) of every row of a registry, in file order.
std::vector<std::string> Rows(const std::string& path) {
  const RegistryTable t = ReadRegistry(path, false);
  std::vector<std::string> out;
  for (size_t i = 0; i < t.rows.size(); ++i)
    out.push_back(t.keys.Describe(i) + " " + t.rows[i].version + " " + t.rows[i].status);
  return out;
}

class PromoteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mm_promote_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  PromoteOptions Options(const std::string& staging, std::vector<std::string> rules) {
    PromoteOptions o;
    o.registry = Path(staging);
    o.production = Path("prod.h5");
    for (const auto& r : rules) o.rules.push_back(ParseRule(r));
    o.user = "tester";
    o.time = "2026-01-01T00:00:00Z";
    return o;
  }
  PromoteResult Run(const PromoteOptions& o) { return Promote(o, Provenance{"promote", "", "", "test", {}}); }
  PromoteOptions Rollback(const std::string& version) {
    PromoteOptions o;
    o.production = Path("prod.h5");
    o.rollback = version;
    o.user = "tester";
    o.time = "2026-01-02T00:00:00Z";
    return o;
  }
  fs::path dir_;
};

TEST(RuleTest, ParsesMetricOperatorAndValue) {
  Rule r = ParseRule("smape<20");
  EXPECT_EQ(r.metric, "smape");
  EXPECT_EQ(r.op, RuleOp::kLess);
  EXPECT_EQ(r.value, 20);
  EXPECT_EQ(r.text, "smape<20");
  r = ParseRule(" mase <= 1.5 ");
  EXPECT_EQ(r.op, RuleOp::kLessEqual);
  EXPECT_EQ(r.value, 1.5);
  EXPECT_EQ(r.text, "mase<=1.5");
  EXPECT_EQ(ParseRule("n_obs>=100").op, RuleOp::kGreaterEqual);
  EXPECT_EQ(ParseRule("MAPE>5e-1").value, 0.5);
  EXPECT_EQ(ParseRule("MAPE>5e-1").op, RuleOp::kGreater);
  for (const char* m : {"mae", "rmse", "mape", "smape", "mase", "n_obs"})
    EXPECT_EQ(ParseRule(std::string(m) + "<1").metric, m);
}

TEST(RuleTest, BadRulesNameTheRule) {
  for (const std::string bad : {"", "smape", "smape<", "smape<<20", "accuracy>80", "smape=20", "smape<20%",
                                "smape<nan", "smape<inf", "<20", "smape<0x10", "smape<20 30", "smape=<20"}) {
    try {
      ParseRule(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("--rule '" + bad + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(RuleTest, NanMetricFailsEveryRule) {
  Model m{1, "a", "v1"};
  m.mase = kNaN;
  const ModelRecord r = Record(m);
  EXPECT_FALSE(ParseRule("mase<1").Passes(r));
  EXPECT_FALSE(ParseRule("mase>=0").Passes(r));
  EXPECT_TRUE(ParseRule("smape<=10").Passes(r));
  EXPECT_FALSE(ParseRule("smape<10").Passes(r));
  EXPECT_TRUE(ParseRule("n_obs>=100").Passes(r));
}

TEST_F(PromoteTest, FirstPromotionTakesStagedModelsThatPassTheRules) {
  Model nan_mase{3, "a", "v1"};
  nan_mase.mase = kNaN;
  Model failed{4, "a", "v1", "failed"};
  WriteStaging(Path("s1.h5"), {{1, "a", "v1"}, {2, "a", "v1", "staged", 25}, nan_mase, failed});
  const PromoteResult r = Run(Options("s1.h5", {"smape<20", "mase<1"}));
  EXPECT_TRUE(r.written);
  EXPECT_EQ(r.staged, 3);
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(r.promoted, 1);
  EXPECT_EQ(r.new_keys, 1);
  ASSERT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(r.rejected[0], (std::pair<std::string, int64_t>{"smape<20", 1}));
  EXPECT_EQ(r.rejected[1], (std::pair<std::string, int64_t>{"mase<1", 1}));
  EXPECT_EQ(Rows(Path("prod.h5")), (std::vector<std::string>{"store=1, item=a v1 production"}));
  // The same registry schema: readable as a registry, marked as a production one, with the model bytes.
  const RegistryReader reader(Path("prod.h5"));
  EXPECT_EQ(reader.ReadRows(0, 1, true)[0].params, (std::vector<uint8_t>{1, 2, 3, 1}));
  EXPECT_EQ(h5::Location::OpenFile(Path("prod.h5")).GetAttrString("role"), "production");
  const auto audit = ReadAudit(Path("prod.h5"));
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].action, "promote");
  EXPECT_EQ(audit[0].key, "store=1, item=a");
  EXPECT_EQ(audit[0].old_version, "");
  EXPECT_EQ(audit[0].new_version, "v1");
  EXPECT_EQ(audit[0].user, "tester");
  EXPECT_EQ(audit[0].time, "2026-01-01T00:00:00Z");
  EXPECT_EQ(audit[1].action, "rejected");
  EXPECT_NE(audit[1].reason.find("smape<20"), std::string::npos);
  EXPECT_NE(audit[2].reason.find("mase<1"), std::string::npos);
  const std::string report = PromoteReport(Options("s1.h5", {"smape<20", "mase<1"}), r);
  EXPECT_NE(report.find("promote  store=1, item=a  - -> v1"), std::string::npos) << report;
  EXPECT_NE(report.find("smape<20 failed: 1, mase<1 failed: 1"), std::string::npos) << report;
}

TEST_F(PromoteTest, ChampionChallengerMarginJustAboveAndJustBelow) {
  WriteStaging(Path("s1.h5"), {{1, "a", "v1", "staged", 10}, {2, "a", "v1", "staged", 10}, {3, "a", "v1", "staged", 10}});
  Run(Options("s1.h5", {"smape<20"}));
  // Bar: 10 * (1 - 0.1) = 9. Key 1 beats it, key 2 just misses it, key 3 has no new model.
  WriteStaging(Path("s2.h5"), {{1, "a", "v2", "staged", 8.99}, {2, "a", "v2", "staged", 9.01}, {4, "a", "v2", "staged", 15}});
  PromoteOptions o = Options("s2.h5", {"smape<20"});
  o.compare = "smape";
  o.margin = 0.1;
  const PromoteResult r = Run(o);
  EXPECT_EQ(r.promoted, 2);
  EXPECT_EQ(r.replaced, 1);
  EXPECT_EQ(r.new_keys, 1);
  EXPECT_EQ(r.kept, 1);
  EXPECT_EQ(Rows(Path("prod.h5")), (std::vector<std::string>{
                                       "store=1, item=a v1 archived", "store=1, item=a v2 production",
                                       "store=2, item=a v1 production", "store=3, item=a v1 production",
                                       "store=4, item=a v2 production"}));
  EXPECT_EQ(r.production_keys, 4);
  EXPECT_EQ(r.archived_rows, 1);
  const auto audit = ReadAudit(Path("prod.h5"));
  ASSERT_EQ(audit.size(), 6u);  // three promotions, then promote, kept, promote
  EXPECT_EQ(audit[3].action, "promote");
  EXPECT_EQ(audit[3].old_version, "v1");
  EXPECT_EQ(audit[4].action, "kept");
  EXPECT_NE(audit[4].reason.find("smape 9.01 against 10"), std::string::npos) << audit[4].reason;

  // Exactly on the bar wins (new <= old * (1 - margin)); a tie with margin 0 does not (new < old).
  WriteStaging(Path("s3.h5"), {{2, "a", "v3", "staged", 9}, {3, "a", "v3", "staged", 10}});
  o = Options("s3.h5", {"smape<20"});
  o.compare = "smape";
  o.margin = 0.1;
  EXPECT_EQ(Run(o).promoted, 1);
  WriteStaging(Path("s4.h5"), {{3, "a", "v4", "staged", 10}});
  o = Options("s4.h5", {"smape<20"});
  o.compare = "smape";
  EXPECT_EQ(Run(o).kept, 1);
}

TEST_F(PromoteTest, CompareWithUndefinedMetrics) {
  Model a{1, "a", "v1"}, b{2, "a", "v1"};
  a.mase = kNaN;  // the champion of key 1 has no mase
  WriteStaging(Path("s1.h5"), {a, b});
  Run(Options("s1.h5", {"smape<20"}));
  Model a2{1, "a", "v2"}, b2{2, "a", "v2"};
  b2.mase = kNaN;  // the challenger of key 2 has none
  WriteStaging(Path("s2.h5"), {a2, b2});
  PromoteOptions o = Options("s2.h5", {"smape<20"});
  o.compare = "mase";
  const PromoteResult r = Run(o);
  EXPECT_EQ(r.promoted, 1);
  EXPECT_EQ(r.kept, 1);
  EXPECT_EQ(Rows(Path("prod.h5")), (std::vector<std::string>{"store=1, item=a v1 archived",
                                                               "store=1, item=a v2 production",
                                                               "store=2, item=a v1 production"}));
}

TEST_F(PromoteTest, KeysFileLimitsThePromotion) {
  WriteStaging(Path("s1.h5"), {{1, "a", "v1"}, {1, "b", "v1"}, {2, "a", "v1"}});
  std::ofstream(Path("keys.csv")) << "item,store\nb,1\n\"a\",2\nz,9\n";
  PromoteOptions o = Options("s1.h5", {"smape<20"});
  o.keys_file = Path("keys.csv");
  const PromoteResult r = Run(o);
  EXPECT_EQ(r.promoted, 2);
  EXPECT_EQ(r.outside_keys, 1);
  EXPECT_EQ(r.unknown_keys, 1);
  EXPECT_EQ(Rows(Path("prod.h5")), (std::vector<std::string>{"store=1, item=b v1 production",
                                                               "store=2, item=a v1 production"}));
  auto error = [&](const std::string& text) -> std::string {
    std::ofstream(Path("bad.csv")) << text;
    PromoteOptions bad = Options("s1.h5", {"smape<20"});
    bad.keys_file = Path("bad.csv");
    bad.dry_run = true;
    try {
      Run(bad);
    } catch (const InputError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_EQ(error("store\n1\n"), Path("bad.csv") + ":1:1: the header does not name key column 'item'");
  EXPECT_EQ(error("store,item,colour\n"), Path("bad.csv") +
                                              ":1:3: 'colour' is not a key column of the registry (key columns: "
                                              "store, item)");
  EXPECT_EQ(error("store,item\nx,a\n"),
            Path("bad.csv") + ":2:1: 'x' is not an integer (key column 'store' holds integers)");
}

TEST_F(PromoteTest, RollbackRestoresThePreviousVersionAndArchivesTheRolledBackOne) {
  WriteStaging(Path("s1.h5"), {{1, "a", "v1"}});
  Run(Options("s1.h5", {"smape<20"}));
  WriteStaging(Path("s2.h5"), {{1, "a", "v2"}, {2, "a", "v2"}});
  Run(Options("s2.h5", {"smape<20"}));
  const PromoteResult r = Run(Rollback("v2"));
  EXPECT_EQ(r.rolled_back, 1);
  EXPECT_EQ(r.withdrawn, 1);  // key 2 had no model before v2
  EXPECT_EQ(Rows(Path("prod.h5")), (std::vector<std::string>{"store=1, item=a v1 production",
                                                               "store=1, item=a v2 archived",
                                                               "store=2, item=a v2 archived"}));
  const auto audit = ReadAudit(Path("prod.h5"));
  ASSERT_EQ(audit.size(), 5u);
  EXPECT_EQ(audit[3].action, "rollback");
  EXPECT_EQ(audit[3].old_version, "v2");
  EXPECT_EQ(audit[3].new_version, "v1");
  EXPECT_EQ(audit[4].new_version, "");
  // A rolled-back version is not promoted again from the same staging registry.
  EXPECT_EQ(Run(Options("s2.h5", {"smape<20"})).unchanged, 2);
  // No key has v9 in production: an error, and the file stays.
  const std::string before = Bytes(Path("prod.h5"));
  EXPECT_THROW(Run(Rollback("v9")), std::runtime_error);
  EXPECT_THROW(Run(Rollback("v2")), std::runtime_error);  // already rolled back
  EXPECT_EQ(Bytes(Path("prod.h5")), before);
}

TEST_F(PromoteTest, RollbackFollowsTheAuditNotTheLatestArchivedVersion) {
  WriteStaging(Path("s1.h5"), {{1, "a", "v1"}});
  Run(Options("s1.h5", {"smape<20"}));
  WriteStaging(Path("s2.h5"), {{1, "a", "v2"}});
  Run(Options("s2.h5", {"smape<20"}));
  Run(Rollback("v2"));  // v1 is production again, v2 archived
  WriteStaging(Path("s3.h5"), {{1, "a", "v3"}});
  Run(Options("s3.h5", {"smape<20"}));  // v3 replaced v1
  Run(Rollback("v3"));
  EXPECT_EQ(Rows(Path("prod.h5")), (std::vector<std::string>{"store=1, item=a v1 production",
                                                               "store=1, item=a v2 archived",
                                                               "store=1, item=a v3 archived"}));
  // With the registry API: the key's range and its production row.
  const RegistryReader reader(Path("prod.h5"));
  EXPECT_EQ(reader.FindRange({"1", "a"}), (std::pair<size_t, size_t>{0, 3}));
  EXPECT_EQ(reader.FindProduction({"1", "a"}), std::optional<size_t>(0));
  EXPECT_EQ(reader.FindRange({"1", "b"}).first, reader.FindRange({"1", "b"}).second);
  EXPECT_FALSE(reader.FindProduction({"2", "a"}));
}

TEST_F(PromoteTest, DryRunWritesNothing) {
  WriteStaging(Path("s1.h5"), {{1, "a", "v1"}});
  PromoteOptions o = Options("s1.h5", {"smape<20"});
  o.dry_run = true;
  const PromoteResult r = Run(o);
  EXPECT_EQ(r.promoted, 1);
  EXPECT_FALSE(r.written);
  EXPECT_FALSE(fs::exists(Path("prod.h5")));
  o.dry_run = false;
  Run(o);
  const std::string before = Bytes(Path("prod.h5"));
  WriteStaging(Path("s2.h5"), {{1, "a", "v2"}});
  PromoteOptions o2 = Options("s2.h5", {"smape<20"});
  o2.dry_run = true;
  EXPECT_EQ(Run(o2).promoted, 1);
  PromoteOptions rb = Rollback("v1");
  rb.dry_run = true;
  EXPECT_EQ(Run(rb).withdrawn, 1);
  EXPECT_EQ(Bytes(Path("prod.h5")), before);
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
}

TEST_F(PromoteTest, AuditRowsAccumulateAndTheStagingRegistryIsUntouched) {
  WriteStaging(Path("s1.h5"), {{1, "a", "v1"}, {2, "a", "v1"}});
  const std::string staging = Bytes(Path("s1.h5"));
  Run(Options("s1.h5", {"smape<20"}));
  EXPECT_EQ(ReadAudit(Path("prod.h5")).size(), 2u);
  EXPECT_EQ(Bytes(Path("s1.h5")), staging);
  WriteStaging(Path("s2.h5"), {{1, "a", "v2"}, {2, "a", "v2", "staged", 30}});
  const PromoteResult r = Run(Options("s2.h5", {"smape<20"}));
  EXPECT_EQ(r.audit.size(), 2u);
  EXPECT_EQ(r.audit_rows, 4);
  const auto audit = ReadAudit(Path("prod.h5"));
  ASSERT_EQ(audit.size(), 4u);
  EXPECT_EQ(audit[0].new_version, "v1");
  EXPECT_EQ(audit[1].new_version, "v1");
  EXPECT_EQ(audit[2].new_version, "v2");
  EXPECT_EQ(audit[3].action, "rejected");
  // Promoting the same registry again changes nothing and adds no audit rows.
  const PromoteResult again = Run(Options("s1.h5", {"smape<20"}));
  EXPECT_EQ(again.unchanged, 2);
  EXPECT_EQ(again.promoted, 0);
  EXPECT_EQ(ReadAudit(Path("prod.h5")).size(), 4u);
  EXPECT_EQ(Bytes(Path("s1.h5")), staging);
}

TEST_F(PromoteTest, RefusesAProductionFileThatIsNotOne) {
  WriteStaging(Path("s1.h5"), {{1, "a", "v1"}});
  WriteStaging(Path("other.h5"), {{1, "a", "v0"}});
  PromoteOptions o = Options("s1.h5", {"smape<20"});
  o.production = Path("other.h5");
  try {
    Run(o);
    ADD_FAILURE() << "a train registry was taken for a production one";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("role=production"), std::string::npos) << e.what();
  }
  // Another data set's keys.
  Run(Options("s1.h5", {"smape<20"}));
  KeyTable keys;
  keys.columns = {KeyColumn{"store", false, {1}, {}}};
  RegistryWriter w(Path("s2.h5"), keys, TableMeta{}, Provenance{"train", "", "v2", "", {}});
  w.Write(0, {Record({1, "a", "v2"})});
  w.Commit();
  EXPECT_THROW(Run(Options("s2.h5", {"smape<20"})), std::runtime_error);
}

}  // namespace
}  // namespace mm

// The predictions SQL table on SQLite (PostgreSQL: tests/integration/sql_test.py): rows and types, NaN as
// NULL, a run id's rows replaced in one transaction, failures that leave the previous rows, wrong key columns.
#include "manymodels/io/sql.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

namespace mm {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Two series (store INTEGER, item TEXT) of 3 daily steps from 2024-01-02; forecast = base + step.
PredictionsTable Table(double base, bool nan_lo80 = true) {
  PredictionsTable t;
  t.keys.columns.push_back(KeyColumn{"store", false, {1, 2}, {}});
  t.keys.columns.push_back(KeyColumn{"item", true, {}, {"a\"b,c", "é"}});
  t.model = {"ETS(M,Ad,M)", "SNaive(7)"};
  t.offsets = {0, 3, 6};
  for (int s = 0; s < 2; ++s) {
    for (int h = 1; h <= 3; ++h) {
      t.step.push_back(h);
      t.period.push_back(19723 + h);  // 2024-01-01 + h
      t.forecast.push_back(base + h + 10 * s);
      t.lo80.push_back(base - 1);
      t.hi80.push_back(base + 1);
      t.lo95.push_back(base - 2);
      t.hi95.push_back(base + 2);
    }
  }
  if (nan_lo80) t.lo80[1] = kNaN;
  t.meta.frequency = Frequency::kDaily;
  t.meta.horizon = 3;
  return t;
}

class SqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mm_sql_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_path_ = (dir_ / "p.db").string();
    url_ = "sqlite://" + db_path_;  // an absolute path: sqlite:///tmp/...
  }
  void TearDown() override {
    if (db_) sqlite3_close(db_);
    fs::remove_all(dir_);
  }
  static std::vector<SqlKeyColumn> Keys() { return {{"store", false}, {"item", true}}; }

  int64_t Write(const std::string& run_id, double base, const std::string& version = "v1") {
    auto sink = SqlPredictionsSink::Open(url_, Keys(), run_id);
    sink->Write(Table(base), version);
    return sink->Commit();
  }
  sqlite3* Db() {
    if (!db_) {
      EXPECT_EQ(sqlite3_open(db_path_.c_str(), &db_), SQLITE_OK);
    }
    return db_;
  }
  // The first column of the first row of `sql`, as text ("NULL" for NULL).
  std::string Query(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(Db(), sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(Db());
    std::string out = "(no row)";
    if (sqlite3_step(s) == SQLITE_ROW) {
      const unsigned char* p = sqlite3_column_text(s, 0);
      out = p ? reinterpret_cast<const char*>(p) : "NULL";
    }
    sqlite3_finalize(s);
    return out;
  }
  int64_t Count(const std::string& where = "1") {
    return std::stoll(Query("SELECT count(*) FROM predictions WHERE " + where));
  }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(Db(), sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  }

  fs::path dir_;
  std::string db_path_, url_;
  sqlite3* db_ = nullptr;
};

TEST_F(SqlTest, RowsAndTypesArrive) {
  EXPECT_EQ(Write("run-1", 100.5, "20240101T000000Z-abcd"), 6);
  EXPECT_EQ(Count(), 6);
  EXPECT_EQ(Query("SELECT typeof(store) || typeof(item) || typeof(run_id) || typeof(version) || typeof(step) || "
                  "typeof(time) || typeof(forecast) || typeof(hi95) || typeof(model) FROM predictions"),
            "integertexttexttextintegertextrealrealtext");
  EXPECT_EQ(Query("SELECT group_concat(store || '|' || item || '|' || step || '|' || time || '|' || forecast || '|' "
                  "|| model, ';') FROM (SELECT * FROM predictions ORDER BY store, step)"),
            "1|a\"b,c|1|2024-01-02|101.5|ETS(M,Ad,M);1|a\"b,c|2|2024-01-03|102.5|ETS(M,Ad,M);"
            "1|a\"b,c|3|2024-01-04|103.5|ETS(M,Ad,M);2|é|1|2024-01-02|111.5|SNaive(7);"
            "2|é|2|2024-01-03|112.5|SNaive(7);2|é|3|2024-01-04|113.5|SNaive(7)");
  EXPECT_EQ(Query("SELECT version FROM predictions"), "20240101T000000Z-abcd");
  EXPECT_EQ(Query("SELECT run_id FROM predictions"), "run-1");
  // NaN is NULL, the other intervals are there.
  EXPECT_EQ(Query("SELECT lo80 FROM predictions WHERE store = 1 AND step = 2"), "NULL");
  EXPECT_EQ(Count("lo80 IS NULL"), 1);
  EXPECT_EQ(Query("SELECT lo95 FROM predictions WHERE store = 1 AND step = 2"), "98.5");
  // Declared types and the index.
  EXPECT_EQ(Query("SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('predictions')"),
            "store INTEGER, item TEXT, run_id TEXT, version TEXT, step INTEGER, time TEXT, forecast REAL, "
            "lo80 REAL, hi80 REAL, lo95 REAL, hi95 REAL, model TEXT");
  EXPECT_EQ(Query("SELECT group_concat(name) FROM pragma_index_info('predictions_run_id_keys')"),
            "run_id,store,item");
}

TEST_F(SqlTest, SameRunIdReplacesAnotherAdds) {
  Write("run-1", 100);
  Write("run-1", 200);
  EXPECT_EQ(Count(), 6);
  EXPECT_EQ(Query("SELECT min(forecast) FROM predictions"), "201.0");
  Write("run-2", 300);
  EXPECT_EQ(Count(), 12);
  EXPECT_EQ(Count("run_id = 'run-1'"), 6);
  EXPECT_EQ(Count("run_id = 'run-2' AND forecast > 300"), 6);
  // Batches: the rows of several Write calls are one run.
  {
    auto sink = SqlPredictionsSink::Open(url_, Keys(), "run-2");
    sink->Write(Table(400), "v2");
    sink->Write(Table(500), "v2");
    EXPECT_EQ(sink->rows(), 12);
    EXPECT_EQ(sink->Commit(), 12);
  }
  EXPECT_EQ(Count("run_id = 'run-2'"), 12);
  EXPECT_EQ(Count("run_id = 'run-1'"), 6);
}

TEST_F(SqlTest, UncommittedSinkLeavesThePreviousRows) {
  Write("run-1", 100);
  {
    auto sink = SqlPredictionsSink::Open(url_, Keys(), "run-1");
    sink->Write(Table(200), "v2");
  }  // destroyed without Commit: rolled back
  EXPECT_EQ(Count(), 6);
  EXPECT_EQ(Query("SELECT min(forecast) FROM predictions"), "101.0");
}

TEST_F(SqlTest, FailureMidwayRollsBackAndNamesTheCause) {
  Write("run-1", 100);
  // A row the database refuses, in the middle of the second batch.
  Exec("CREATE TRIGGER refuse BEFORE INSERT ON predictions WHEN NEW.forecast = 212 "
       "BEGIN SELECT RAISE(ABORT, 'forecast 212 refused'); END");
  auto sink = SqlPredictionsSink::Open(url_, Keys(), "run-1");
  sink->Write(Table(300), "v2");
  try {
    sink->Write(Table(200), "v2");
    FAIL() << "no error";
  } catch (const SqlError& e) {
    EXPECT_EQ(std::string(e.what()), url_ + ": cannot insert a row: forecast 212 refused");
  }
  // Nothing of it may be committed now.
  EXPECT_THROW(sink->Commit(), SqlError);
  EXPECT_THROW(sink->Write(Table(300), "v2"), SqlError);
  sink.reset();
  EXPECT_EQ(Count(), 6);
  EXPECT_EQ(Query("SELECT min(forecast) || ' ' || max(version) FROM predictions"), "101.0 v1");
}

TEST_F(SqlTest, AnotherWritersLockIsAnErrorAndLeavesThePreviousRows) {
  Write("run-1", 100);
  Exec("BEGIN IMMEDIATE");  // another writer holds the database
  try {
    SqlOptions options;
    options.busy_timeout_ms = 50;
    SqlPredictionsSink::Open(url_, Keys(), "run-1", options);
    FAIL() << "no error";
  } catch (const SqlError& e) {
    EXPECT_EQ(std::string(e.what()), url_ + ": cannot begin a transaction: database is locked");
  }
  Exec("ROLLBACK");
  EXPECT_EQ(Count(), 6);
  Write("run-1", 200);
  EXPECT_EQ(Query("SELECT min(forecast) FROM predictions"), "201.0");
}

TEST_F(SqlTest, OtherKeyColumnsAreRefusedWithWhatDiffers) {
  Write("run-1", 100);
  try {
    SqlPredictionsSink::Open(url_, {{"region", true}}, "run-2");
    FAIL() << "no error";
  } catch (const SqlError& e) {
    EXPECT_EQ(std::string(e.what()),
              url_ + ": the existing table predictions has the key columns (store INTEGER, item TEXT), these "
                     "predictions have (region TEXT) (write them to another database, or drop the table)");
  }
  // Same names, another type.
  EXPECT_THROW(SqlPredictionsSink::Open(url_, {{"store", true}, {"item", true}}, "run-2"), SqlError);
  // The same columns in another order are the same table.
  EXPECT_NO_THROW(SqlPredictionsSink::Open(url_, {{"item", true}, {"store", false}}, "run-2")->Commit());
  // A table that is not a predictions table.
  const std::string other = "sqlite://" + (dir_ / "other.db").string();
  {
    sqlite3* o = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "other.db").c_str(), &o), SQLITE_OK);
    sqlite3_exec(o, "CREATE TABLE predictions (store INTEGER, value REAL)", nullptr, nullptr, nullptr);
    sqlite3_close(o);
  }
  try {
    SqlPredictionsSink::Open(other, Keys(), "run-1");
    FAIL() << "no error";
  } catch (const SqlError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a predictions table: it has no column run_id, version"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(Count(), 6);
}

TEST_F(SqlTest, BatchWithOtherKeysIsRefused) {
  auto sink = SqlPredictionsSink::Open(url_, {{"store", false}}, "run-1");
  EXPECT_THROW(sink->Write(Table(1), "v"), std::invalid_argument);
}

TEST_F(SqlTest, UrlsAndTheirErrors) {
  // A relative path.
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_);
  {
    auto sink = SqlPredictionsSink::Open("sqlite://rel.db", Keys(), "r");
    sink->Write(Table(1), "v");
    sink->Commit();
  }
  fs::current_path(cwd);
  EXPECT_TRUE(fs::exists(dir_ / "rel.db"));
  // A folder that does not exist: SQLite's message, with the URL.
  const std::string missing = "sqlite://" + (dir_ / "no" / "p.db").string();
  try {
    SqlPredictionsSink::Open(missing, Keys(), "r");
    FAIL() << "no error";
  } catch (const SqlError& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot open the database: unable to open database file");
  }
  EXPECT_THROW(SqlPredictionsSink::Open("mysql://h/db", Keys(), "r"), std::invalid_argument);
  EXPECT_THROW(SqlPredictionsSink::Open("sqlite://", Keys(), "r"), std::invalid_argument);
  EXPECT_THROW(SqlPredictionsSink::Open(url_, Keys(), ""), std::invalid_argument);
  EXPECT_THROW(SqlPredictionsSink::Open(url_, {{"step", false}}, "r"), std::invalid_argument);
  EXPECT_TRUE(IsSqlUrl("postgres://u@h/db"));
  EXPECT_FALSE(IsSqlUrl("out.csv"));
}

TEST(SqlUrlTest, PasswordsAreRemovedFromMessages) {
  EXPECT_EQ(RedactSqlUrl("postgresql://ann:s3cret@db.example:5432/fc"), "postgresql://ann:***@db.example:5432/fc");
  EXPECT_EQ(RedactSqlUrl("postgres://ann@db:5432/fc?sslmode=require&password=x%40y"),
            "postgres://ann@db:5432/fc?sslmode=require&password=***");
  EXPECT_EQ(RedactSqlUrl("postgresql://host=/tmp/s port=5 password='a b' dbname=fc"),
            "postgresql://host=/tmp/s port=5 password=*** dbname=fc");
  EXPECT_EQ(RedactSqlUrl("postgresql://password=pw dbname=fc"), "postgresql://password=*** dbname=fc");
  EXPECT_EQ(RedactSqlUrl("postgresql://ann@db:5432/fc"), "postgresql://ann@db:5432/fc");
  EXPECT_EQ(RedactSqlUrl("sqlite:///tmp/a:b@c.db"), "sqlite:///tmp/a:b@c.db");
}

TEST(SqlUrlTest, PostgresConnectionFailureNamesTheUrlNotThePassword) {
  // Nothing listens on port 1 of the loopback: libpq's message, with the URL, without the password.
  try {
    SqlPredictionsSink::Open("postgresql://ann:s3cret@127.0.0.1:1/fc?connect_timeout=2", {{"store", false}}, "r");
    FAIL() << "no error";
  } catch (const SqlError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("postgresql://ann:***@127.0.0.1:1/fc?connect_timeout=2: cannot connect: ", 0), 0u) << m;
    EXPECT_NE(m.find("Connection refused"), std::string::npos) << m;
    EXPECT_EQ(m.find("s3cret"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace mm

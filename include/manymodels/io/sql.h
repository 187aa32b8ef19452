// Predictions into a SQL table, for the tools that read databases rather than HDF5.
//
// The table `predictions` has one row per series and step:
//   <key columns>   under their source names: INTEGER (SQLite) / BIGINT (PostgreSQL) or TEXT
//   run_id          TEXT     the run that wrote the row (scoring again with the same id replaces its rows)
//   version         TEXT     the model version (the registry's run id)
//   step            INTEGER  1 ... H
//   time            TEXT     the period, ISO as the CSV export writes it (2024-03-02, 2024-03-02T13:00:00, ...)
//   forecast, lo80, hi80, lo95, hi95   REAL / DOUBLE PRECISION, NULL for NaN
//   model           TEXT     ETS(M,Ad,M), ...
// with an index `predictions_run_id_keys` on (run_id, <key columns>).
//
// Targets, by URL:
//   sqlite:///abs/path.db, sqlite://relative/path.db     Debian's libsqlite3 (the file is created if missing)
//   postgresql://user@host:port/db, postgres://...        libpq, the URI passed as it is (query parameters such
//                                                         as ?host=/run/postgresql or ?sslmode=... work)
//   postgresql://host=H port=P dbname=D user=U            libpq's key=value conninfo after the prefix
//
// A sink is one transaction: Open() creates the table if it is missing (or checks that an existing one has the
// same key columns, with the same types), and deletes the rows of its run id; Write() inserts batches as they
// come (SQLite: one prepared statement; PostgreSQL: COPY FROM STDIN), so memory stays bounded by a batch;
// Commit() makes it all visible at once. A sink destroyed before Commit(), or any error, rolls back: the rows
// the run id had before stay as they were. Errors are SqlError, naming the URL (any password removed) and the
// database's own message. Concurrency: SQLite writers take turns (the write lock is held from Open to Commit);
// PostgreSQL writers of one run id take turns (an advisory lock), others run side by side.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "manymodels/io/predictions.h"

namespace mm {

class SqlError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SqlKeyColumn {
  std::string name;
  bool is_text = false;
  bool operator==(const SqlKeyColumn&) const = default;
};

// The names and types of a key table's columns.
std::vector<SqlKeyColumn> SqlKeyColumns(const KeyTable& keys);

// The URL as messages may show it: a password (user:PASSWORD@, ?password=, password=) removed.
std::string RedactSqlUrl(const std::string& url);

// True when `url` names a target this build can write (sqlite://, postgresql://, postgres://).
bool IsSqlUrl(const std::string& url);

struct SqlOptions {
  // SQLite: how long to wait for another writer's lock before failing ("database is locked").
  int busy_timeout_ms = 10000;
};

class SqlPredictionsSink {
 public:
  // Connects, begins the transaction, creates or checks the table, deletes the rows of `run_id`.
  // Throws SqlError (cannot connect, wrong key columns, ...) or std::invalid_argument (bad URL, empty run id,
  // a key column named like one of the fixed columns).
  static std::unique_ptr<SqlPredictionsSink> Open(const std::string& url, const std::vector<SqlKeyColumn>& keys,
                                                  const std::string& run_id, const SqlOptions& options = {});
  virtual ~SqlPredictionsSink() = default;  // rolls back unless committed

  // Every row of `table` (its key columns must be the sink's, in any order), tagged with `version`.
  // `table.meta` gives the frequency that turns periods into ISO times.
  void Write(const PredictionsTable& table, const std::string& version);
  // Ends the transaction: the run id's rows are now exactly the rows written. Returns their number.
  int64_t Commit();

  int64_t rows() const { return rows_; }
  const std::string& url() const { return url_; }  // redacted

  // One row, as the backends receive it.
  struct Row {
    const KeyTable* keys;
    size_t series;              // the row of `keys`
    const std::vector<int>* key_order;  // sink's key column i is keys->columns[(*key_order)[i]]
    const std::string* version;
    int64_t step;
    const std::string* time;
    double values[5];           // forecast, lo80, hi80, lo95, hi95
    const std::string* model;
  };

 protected:
  SqlPredictionsSink(std::string url, std::vector<SqlKeyColumn> keys, std::string run_id)
      : url_(std::move(url)), keys_(std::move(keys)), run_id_(std::move(run_id)) {}
  virtual void Insert(const Row& row) = 0;
  virtual void Finish() = 0;  // commits
  [[noreturn]] void Fail(const std::string& what) const;  // throws SqlError "URL: what"

  std::string url_;
  std::vector<SqlKeyColumn> keys_;
  std::string run_id_;
  int64_t rows_ = 0;
  bool done_ = false, failed_ = false;
};

}  // namespace mm

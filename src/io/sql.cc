#include "manymodels/io/sql.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <charconv>
#include <cmath>
#include <regex>
#include <string_view>

#include "manymodels/core/calendar.h"

namespace mm {
namespace {

constexpr const char* kTable = "predictions";
constexpr const char* kIndex = "predictions_run_id_keys";
// The columns after the keys, in order; forecast .. hi95 are the numbers.
constexpr const char* kFixed[] = {"run_id", "version", "step", "time", "forecast",
                                  "lo80",   "hi80",    "lo95", "hi95", "model"};
constexpr const char* kValueNames[5] = {"forecast", "lo80", "hi80", "lo95", "hi95"};

bool IsFixed(const std::string& name) {
  for (const char* f : kFixed)
    if (name == f) return true;
  return false;
}

std::string Quote(const std::string& name) {
  std::string q = "\"";
  for (char c : name) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + '"';
}

// "(store INTEGER, item TEXT)"
std::string Describe(const std::vector<SqlKeyColumn>& keys) {
  std::string s = "(";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) s += ", ";
    s += keys[i].name + (keys[i].is_text ? " TEXT" : " INTEGER");
  }
  return s + ")";
}

std::string ColumnList(const std::vector<SqlKeyColumn>& keys) {
  std::string s;
  for (const auto& k : keys) s += Quote(k.name) + ", ";
  for (size_t i = 0; i < std::size(kFixed); ++i) s += (i ? ", " : "") + Quote(kFixed[i]);
  return s;
}

std::string CreateTable(const std::vector<SqlKeyColumn>& keys, const char* integer, const char* real) {
  std::string s = std::string("CREATE TABLE ") + kTable + " (";
  for (const auto& k : keys) s += Quote(k.name) + " " + (k.is_text ? "TEXT" : integer) + " NOT NULL, ";
  s += "run_id TEXT NOT NULL, version TEXT, step INTEGER NOT NULL, time TEXT NOT NULL";
  for (const char* v : kValueNames) s += std::string(", ") + v + " " + real;
  return s + ", model TEXT)";
}

std::string CreateIndex(const std::vector<SqlKeyColumn>& keys) {
  std::string s = std::string("CREATE INDEX IF NOT EXISTS ") + kIndex + " ON " + kTable + " (run_id";
  for (const auto& k : keys) s += ", " + Quote(k.name);
  return s + ")";
}

// An existing table's columns (name, declared type) against the sink's key columns: "" when they agree, else
// what differs.
std::string CheckColumns(const std::vector<std::pair<std::string, std::string>>& columns,
                         const std::vector<SqlKeyColumn>& keys) {
  std::vector<SqlKeyColumn> table_keys;
  std::vector<std::string> missing;
  for (const char* f : kFixed) {
    bool found = false;
    for (const auto& c : columns) found = found || c.first == f;
    if (!found) missing.push_back(f);
  }
  for (const auto& [name, type] : columns) {
    if (IsFixed(name)) continue;
    std::string t;
    for (char c : type) t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const bool is_text = t.find("INT") == std::string::npos;  // TEXT, CHARACTER VARYING, ... (SQLite's rule)
    table_keys.push_back({name, is_text});
  }
  if (!missing.empty()) {
    std::string s = "the existing table " + std::string(kTable) + " is not a predictions table: it has no column";
    for (size_t i = 0; i < missing.size(); ++i) s += (i ? ", " : " ") + missing[i];
    return s;
  }
  bool same = table_keys.size() == keys.size();
  for (const auto& k : keys) {
    bool found = false;
    for (const auto& t : table_keys) found = found || t == k;
    same = same && found;
  }
  if (same) return "";
  return "the existing table " + std::string(kTable) + " has the key columns " + Describe(table_keys) +
         ", these predictions have " + Describe(keys) + " (write them to another database, or drop the table)";
}

// A library's message on one line.
std::string OneLine(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

bool StartsWith(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// ---------------------------------------------------------------------------------------------------- SQLite

class SqliteSink final : public SqlPredictionsSink {
 public:
  SqliteSink(const std::string& url, const std::string& path, std::vector<SqlKeyColumn> keys, std::string run_id,
             const SqlOptions& options)
      : SqlPredictionsSink(RedactSqlUrl(url), std::move(keys), std::move(run_id)) {
    try {
      const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
      if (rc != SQLITE_OK)
        Fail(std::string("cannot open the database: ") + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
      sqlite3_busy_timeout(db_, options.busy_timeout_ms);
      // IMMEDIATE: the write lock now, so two writers wait for each other instead of failing at their first write.
      Exec("BEGIN IMMEDIATE", "cannot begin a transaction");
      in_transaction_ = true;
      std::vector<std::pair<std::string, std::string>> columns;
      {
        sqlite3_stmt* info = Prepare(std::string("PRAGMA table_info(") + kTable + ")");
        int step;
        while ((step = sqlite3_step(info)) == SQLITE_ROW) {
          auto text = [&](int i) {
            const unsigned char* p = sqlite3_column_text(info, i);
            return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
          };
          columns.emplace_back(text(1), text(2));
        }
        sqlite3_finalize(info);
        if (step != SQLITE_DONE) Fail(std::string("cannot read the table's columns: ") + sqlite3_errmsg(db_));
      }
      if (columns.empty()) {
        Exec(CreateTable(keys_, "INTEGER", "REAL"), "cannot create the table");
        Exec(CreateIndex(keys_), "cannot create the index");
      } else if (std::string why = CheckColumns(columns, keys_); !why.empty()) {
        Fail(why);
      }
      sqlite3_stmt* del = Prepare(std::string("DELETE FROM ") + kTable + " WHERE run_id = ?1");
      sqlite3_bind_text(del, 1, run_id_.data(), static_cast<int>(run_id_.size()), SQLITE_STATIC);
      const int drc = sqlite3_step(del);
      sqlite3_finalize(del);
      if (drc != SQLITE_DONE) Fail("cannot delete the rows of run id " + run_id_ + ": " + sqlite3_errmsg(db_));
      std::string sql = std::string("INSERT INTO ") + kTable + " (" + ColumnList(keys_) + ") VALUES (";
      for (size_t i = 0; i < keys_.size() + std::size(kFixed); ++i) sql += (i ? ", ?" : "?") + std::to_string(i + 1);
      insert_ = Prepare(sql + ")");
    } catch (...) {
      Close();
      throw;
    }
  }
  ~SqliteSink() override { Close(); }

 protected:
  void Insert(const Row& row) override {
    int p = 1;
    for (size_t i = 0; i < keys_.size(); ++i, ++p) {
      const KeyColumn& col = row.keys->columns[static_cast<size_t>((*row.key_order)[i])];
      if (col.is_text) {
        const std::string& s = col.texts[row.series];
        sqlite3_bind_text(insert_, p, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
      } else {
        sqlite3_bind_int64(insert_, p, col.ints[row.series]);
      }
    }
    auto text = [&](const std::string& s) {
      sqlite3_bind_text(insert_, p++, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
    };
    text(run_id_);
    text(*row.version);
    sqlite3_bind_int64(insert_, p++, row.step);
    text(*row.time);
    for (double v : row.values) {
      if (std::isnan(v)) sqlite3_bind_null(insert_, p++);
      else sqlite3_bind_double(insert_, p++, v);
    }
    text(*row.model);
    const int rc = sqlite3_step(insert_);
    sqlite3_reset(insert_);
    if (rc != SQLITE_DONE) Fail(std::string("cannot insert a row: ") + sqlite3_errmsg(db_));
  }

  void Finish() override {
    sqlite3_finalize(insert_);
    insert_ = nullptr;
    Exec("COMMIT", "cannot commit");
    in_transaction_ = false;
  }

 private:
  void Exec(const std::string& sql, const char* what) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string msg = error ? error : sqlite3_errmsg(db_);
      sqlite3_free(error);
      Fail(std::string(what) + ": " + msg);
    }
  }
  sqlite3_stmt* Prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) != SQLITE_OK)
      Fail("cannot prepare a statement: " + std::string(sqlite3_errmsg(db_)));
    return s;
  }
  void Close() {
    if (insert_) sqlite3_finalize(insert_);
    insert_ = nullptr;
    if (db_ && in_transaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    in_transaction_ = false;
    if (db_) sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  bool in_transaction_ = false;
};

// ------------------------------------------------------------------------------------------------ PostgreSQL

class PostgresSink final : public SqlPredictionsSink {
 public:
  PostgresSink(const std::string& url, const std::string& conninfo, std::vector<SqlKeyColumn> keys,
               std::string run_id)
      : SqlPredictionsSink(RedactSqlUrl(url), std::move(keys), std::move(run_id)) {
    try {
      conn_ = PQconnectdb(conninfo.c_str());
      if (!conn_) Fail("cannot connect: out of memory");
      if (PQstatus(conn_) != CONNECTION_OK) Fail("cannot connect: " + OneLine(PQerrorMessage(conn_)));
      PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);  // "relation exists, skipping" and such
      if (PQsetClientEncoding(conn_, "UTF8") != 0) Fail("cannot set the client encoding: " + Message(nullptr));
      // Creating the table is a transaction of its own, under a lock that serializes creators (two creating it
      // at once would collide in the catalog); the rows are then written under a lock on the run id, so two
      // exports of one run id cannot both delete the old rows and both insert (READ COMMITTED would let them).
      Exec("BEGIN", PGRES_COMMAND_OK, "cannot begin a transaction");
      in_transaction_ = true;
      Exec("SELECT pg_advisory_xact_lock(hashtext('manymodels.predictions'))", PGRES_TUPLES_OK, "cannot lock");
      std::vector<std::pair<std::string, std::string>> columns;
      {
        const char* params[1] = {kTable};
        PGresult* r = PQexecParams(conn_,
                                   "SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_schema = current_schema() AND table_name = $1 "
                                   "ORDER BY ordinal_position",
                                   1, nullptr, params, nullptr, nullptr, 0);
        Check(r, PGRES_TUPLES_OK, "cannot read the table's columns");
        for (int i = 0; i < PQntuples(r); ++i) columns.emplace_back(PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
        PQclear(r);
      }
      if (columns.empty()) {
        Exec(CreateTable(keys_, "BIGINT", "DOUBLE PRECISION"), PGRES_COMMAND_OK, "cannot create the table");
        Exec(CreateIndex(keys_), PGRES_COMMAND_OK, "cannot create the index");
      } else if (std::string why = CheckColumns(columns, keys_); !why.empty()) {
        Fail(why);
      }
      Exec("COMMIT", PGRES_COMMAND_OK, "cannot create the table");
      Exec("BEGIN", PGRES_COMMAND_OK, "cannot begin a transaction");
      {
        const char* params[1] = {run_id_.c_str()};
        PGresult* r = PQexecParams(conn_, "SELECT pg_advisory_xact_lock(hashtext('manymodels.predictions'), "
                                   "hashtext($1))", 1, nullptr, params, nullptr, nullptr, 0);
        Check(r, PGRES_TUPLES_OK, "cannot lock the run id");
        PQclear(r);
      }
      const char* params[1] = {run_id_.c_str()};
      PGresult* r = PQexecParams(conn_, (std::string("DELETE FROM ") + kTable + " WHERE run_id = $1").c_str(), 1,
                                 nullptr, params, nullptr, nullptr, 0);
      Check(r, PGRES_COMMAND_OK, ("cannot delete the rows of run id " + run_id_).c_str());
      PQclear(r);
      Exec(std::string("COPY ") + kTable + " (" + ColumnList(keys_) + ") FROM STDIN (FORMAT csv)", PGRES_COPY_IN,
           "cannot start COPY");
      in_copy_ = true;
    } catch (...) {
      Close();
      throw;
    }
  }
  ~PostgresSink() override { Close(); }

 protected:
  void Insert(const Row& row) override {
    for (size_t i = 0; i < keys_.size(); ++i) {
      const KeyColumn& col = row.keys->columns[static_cast<size_t>((*row.key_order)[i])];
      if (col.is_text) Text(col.texts[row.series]);
      else buffer_ += std::to_string(col.ints[row.series]);
      buffer_ += ',';
    }
    Text(run_id_);
    buffer_ += ',';
    Text(*row.version);
    buffer_ += ',';
    buffer_ += std::to_string(row.step);
    buffer_ += ',';
    Text(*row.time);
    for (double v : row.values) {
      buffer_ += ',';
      if (std::isnan(v)) continue;  // an unquoted empty field is NULL
      if (std::isinf(v)) {
        buffer_ += v > 0 ? "Infinity" : "-Infinity";
      } else {
        char buf[32];
        auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
        buffer_.append(buf, ptr);
      }
    }
    buffer_ += ',';
    Text(*row.model);
    buffer_ += '\n';
    if (buffer_.size() >= (1u << 20)) Flush();
  }

  void Finish() override {
    Flush();
    if (PQputCopyEnd(conn_, nullptr) != 1) Fail("cannot end COPY: " + Message(nullptr));
    in_copy_ = false;
    PGresult* r = PQgetResult(conn_);
    Check(r, PGRES_COMMAND_OK, "cannot insert the rows");
    PQclear(r);
    Drain();
    Exec("COMMIT", PGRES_COMMAND_OK, "cannot commit");
    in_transaction_ = false;
  }

 private:
  // A quoted CSV field (quoted even when empty: an empty text is not NULL).
  void Text(const std::string& s) {
    buffer_ += '"';
    for (char c : s) {
      if (c == '"') buffer_ += '"';
      buffer_ += c;
    }
    buffer_ += '"';
  }
  void Flush() {
    if (buffer_.empty()) return;
    if (PQputCopyData(conn_, buffer_.data(), static_cast<int>(buffer_.size())) != 1)
      Fail("cannot send rows: " + Message(nullptr));
    buffer_.clear();
  }
  // The server's message for `r` (its primary message and detail), else the connection's.
  std::string Message(const PGresult* r) const {
    std::string m;
    if (r) {
      const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
      const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
      if (primary) m = primary;
      if (detail) m += std::string(" (") + detail + ")";
    }
    if (m.empty()) m = OneLine(PQerrorMessage(conn_));
    if (m.empty() && r) m = PQresStatus(PQresultStatus(r));
    return OneLine(m);
  }
  void Check(PGresult* r, ExecStatusType expected, const char* what) {
    if (r && PQresultStatus(r) == expected) return;
    const std::string m = Message(r);
    PQclear(r);
    Fail(std::string(what) + ": " + m);
  }
  void Exec(const std::string& sql, ExecStatusType expected, const char* what) {
    PGresult* r = PQexec(conn_, sql.c_str());
    Check(r, expected, what);
    PQclear(r);
  }
  void Drain() {
    while (PGresult* r = PQgetResult(conn_)) PQclear(r);
  }
  void Close() {
    if (!conn_) return;
    if (in_copy_ && PQstatus(conn_) == CONNECTION_OK) {
      PQputCopyEnd(conn_, "abandoned");
      Drain();
    }
    if (in_transaction_ && PQstatus(conn_) == CONNECTION_OK) PQclear(PQexec(conn_, "ROLLBACK"));
    in_copy_ = in_transaction_ = false;
    PQfinish(conn_);  // an open transaction dies with the connection anyway
    conn_ = nullptr;
  }

  PGconn* conn_ = nullptr;
  bool in_transaction_ = false, in_copy_ = false;
  std::string buffer_;
};

const std::regex& ConninfoStart() {
  static const std::regex re(R"(^\s*[A-Za-z_]+\s*=)");
  return re;
}

}  // namespace

std::vector<SqlKeyColumn> SqlKeyColumns(const KeyTable& keys) {
  std::vector<SqlKeyColumn> out;
  for (const auto& c : keys.columns) out.push_back({c.name, c.is_text});
  return out;
}

bool IsSqlUrl(const std::string& url) {
  return StartsWith(url, "sqlite://") || StartsWith(url, "postgresql://") || StartsWith(url, "postgres://");
}

std::string RedactSqlUrl(const std::string& url) {
  std::string s = url;
  // key=value conninfo or URI query parameter: password=VALUE or password='VALUE'
  static const std::regex param(R"((^|[\s?&/])(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*))");
  s = std::regex_replace(s, param, "$1$2***");
  // URI userinfo: scheme://user:PASSWORD@host
  const size_t scheme = s.find("://");
  if (scheme != std::string::npos && !std::regex_search(s.substr(scheme + 3), ConninfoStart())) {
    const size_t start = scheme + 3;
    const size_t end = s.find_first_of("/?", start);
    const std::string authority = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const size_t at = authority.rfind('@');
    if (at != std::string::npos) {
      const size_t colon = authority.find(':');
      if (colon < at) s.replace(start + colon + 1, at - colon - 1, "***");
    }
  }
  return s;
}

void SqlPredictionsSink::Fail(const std::string& what) const { throw SqlError(url_ + ": " + what); }

std::unique_ptr<SqlPredictionsSink> SqlPredictionsSink::Open(const std::string& url,
                                                             const std::vector<SqlKeyColumn>& keys,
                                                             const std::string& run_id, const SqlOptions& options) {
  const std::string shown = RedactSqlUrl(url);
  if (run_id.empty()) throw std::invalid_argument(shown + ": the run id is empty");
  if (keys.empty()) throw std::invalid_argument(shown + ": no key columns");
  for (size_t i = 0; i < keys.size(); ++i) {
    if (IsFixed(keys[i].name))
      throw std::invalid_argument(shown + ": the key column '" + keys[i].name +
                                  "' has the name of a column the predictions table has anyway");
    for (size_t j = 0; j < i; ++j)
      if (keys[j].name == keys[i].name)
        throw std::invalid_argument(shown + ": the key column '" + keys[i].name + "' is named twice");
  }
  if (StartsWith(url, "sqlite://")) {
    const std::string path = url.substr(9);
    if (path.empty() || path == "/")
      throw std::invalid_argument(shown + ": no database file (sqlite:///abs/path.db or sqlite://relative.db)");
    return std::make_unique<SqliteSink>(url, path, keys, run_id, options);
  }
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (!StartsWith(url, scheme)) continue;
    const std::string rest = url.substr(scheme.size());
    const std::string conninfo = std::regex_search(rest, ConninfoStart()) ? rest : url;
    return std::make_unique<PostgresSink>(url, conninfo, keys, run_id);
  }
  throw std::invalid_argument("'" + shown +
                              "' is not a database URL: sqlite:///abs/path.db, sqlite://relative.db or "
                              "postgresql://user@host:port/db");
}

void SqlPredictionsSink::Write(const PredictionsTable& table, const std::string& version) {
  if (done_) throw std::logic_error("SqlPredictionsSink::Write after Commit");
  if (failed_) Fail("an earlier write failed; nothing will be committed");
  std::vector<int> order;
  for (const auto& k : keys_) {
    for (size_t j = 0; j < table.keys.columns.size(); ++j)
      if (table.keys.columns[j].name == k.name && table.keys.columns[j].is_text == k.is_text)
        order.push_back(static_cast<int>(j));
  }
  if (order.size() != keys_.size() || table.keys.columns.size() != keys_.size())
    throw std::invalid_argument(url_ + ": these predictions have the key columns " +
                                Describe(SqlKeyColumns(table.keys)) + ", the sink was opened for " +
                                Describe(keys_));
  try {
    Row row{&table.keys, 0, &order, &version, 0, nullptr, {}, nullptr};
    std::string time;
    for (size_t s = 0; s < table.keys.size(); ++s) {
      row.series = s;
      row.model = &table.model[s];
      for (auto r = static_cast<size_t>(table.offsets[s]); r < static_cast<size_t>(table.offsets[s + 1]); ++r) {
        time = FormatPeriod(table.meta.frequency, table.period[r], table.meta.weekly_anchor);
        row.time = &time;
        row.step = table.step[r];
        row.values[0] = table.forecast[r];
        row.values[1] = table.lo80[r];
        row.values[2] = table.hi80[r];
        row.values[3] = table.lo95[r];
        row.values[4] = table.hi95[r];
        Insert(row);
        ++rows_;
      }
    }
  } catch (...) {
    failed_ = true;  // the transaction holds part of the batch: it must not be committed
    throw;
  }
}

int64_t SqlPredictionsSink::Commit() {
  if (done_) throw std::logic_error("SqlPredictionsSink::Commit twice");
  if (failed_) Fail("an earlier write failed; nothing was committed");
  try {
    Finish();
  } catch (...) {
    failed_ = true;
    throw;
  }
  done_ = true;
  return rows_;
}

}  // namespace mm

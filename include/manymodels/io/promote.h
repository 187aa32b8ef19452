// Promotion of staged models to a production registry, and its rollback (DESIGN.md §4-5).
//
// The production registry is a registry file (kind manymodels-registry, schema 2, the same columns and
// attributes, so `registry list` and `registry show` read it) with several rows per key: rows sorted by key,
// then by version; the key's current model has status `production`, the models it replaced `archived` (they
// stay, so a promotion can be undone). A root attribute `role` = "production" marks it. An audit table, appended
// at every promotion or rollback, lives in the group /audit, one dictionary-coded text column per field (see
// io/columns.h): key ("store=1, item=5"), old_version, new_version, action (promote, kept, rejected,
// rollback), reason, time (UTC, ISO 8601), user.
//
// Rules: "METRIC OP VALUE", METRIC one of mae, rmse, mape, smape, mase, n_obs; OP one of <, <=, >, >=; VALUE a
// finite number. A staged model is a candidate when its status is `staged` (never `failed`); it passes when every
// rule holds, and a rule on a metric that is NaN for it fails. Champion/challenger (`compare`): a candidate that
// passes the rules replaces the key's production model only if compare-metric(new) <= compare-metric(old) *
// (1 - margin) and compare-metric(new) < compare-metric(old) -- a relative margin, on error metrics where lower
// is better; a champion whose metric is NaN loses to a challenger whose metric is defined, a challenger whose
// metric is NaN never wins. A key without a production model takes a candidate that passes the rules. A
// candidate whose version is already among its key's rows (promoted before, or rolled back) is left alone.
//
// Rollback of VERSION: each key whose production row has that version goes back to the version that row
// replaced, as the audit records it (the latest `promote` audit row of the key with new_version = VERSION; when
// the audit has none, the key's latest archived version older than VERSION); the rolled-back row becomes
// `archived`. A key with no earlier version is left with no production row (every row archived).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "manymodels/io/lake.h"
#include "manymodels/io/registry.h"

namespace mm {

enum class RuleOp { kLess, kLessEqual, kGreater, kGreaterEqual };

struct Rule {
  std::string metric;  // mae, rmse, mape, smape, mase or n_obs
  RuleOp op = RuleOp::kLess;
  double value = 0;
  std::string text;  // as written, without spaces: "smape<20"
  // False when the metric is NaN.
  bool Passes(const ModelRecord& r) const;
};

// Parses "smape<20" (spaces allowed around the parts). Throws std::invalid_argument naming the rule.
Rule ParseRule(const std::string& text);
// The names a rule or --compare may use; --compare takes the error metrics only (not n_obs).
bool IsRuleMetric(const std::string& name);
bool IsCompareMetric(const std::string& name);
// A model's value of a metric name (n_obs as a double); NaN when undefined.
double MetricOf(const ModelRecord& r, const std::string& metric);

struct PromoteOptions {
  std::string registry;    // the staging registry (read only); unused by a rollback
  std::string production;  // read when it exists, then replaced by the new file
  std::vector<Rule> rules;
  std::string compare;     // a metric, or empty: passing the rules is enough
  double margin = 0;       // relative, in [0, 1)
  std::string keys_file;   // CSV naming the key columns in its header, one row per key; empty: every key
  std::optional<std::string> rollback;  // a version
  bool dry_run = false;
  std::string user, time;  // for the audit rows; empty: the process's user, and now
};

struct AuditRow {
  std::string key, old_version, new_version, action, reason, time, user;
};

struct PromoteResult {
  std::vector<AuditRow> audit;  // this run's audit rows, in key order
  int64_t staged = 0;           // rows of status staged in the staging registry
  int64_t failed = 0;           // rows of status failed (never candidates)
  int64_t outside_keys = 0;     // staged rows whose key --keys does not name
  int64_t unknown_keys = 0;     // keys of --keys in no registry row
  int64_t unchanged = 0;        // candidates whose version the key already has
  int64_t promoted = 0, new_keys = 0, replaced = 0, kept = 0;
  std::vector<std::pair<std::string, int64_t>> rejected;  // by the first rule failed, in the rules' order
  int64_t rolled_back = 0, withdrawn = 0;                  // rollback: restored, and left with no production row
  int64_t production_keys = 0, archived_rows = 0, audit_rows = 0;  // in the new production registry
  bool written = false;
};

// Reads the staging and production registries, decides, and (unless dry_run) writes the new production
// registry under a temporary name and renames it into place. Throws InputError for a bad --keys file,
// std::runtime_error for registries that do not fit together or a rollback that matches no key.
PromoteResult Promote(const PromoteOptions& o, const Provenance& provenance);

// What the summary prints: one line per key changed (promote, rollback), then the counts.
std::string PromoteReport(const PromoteOptions& o, const PromoteResult& r);

// The audit rows of a production registry, oldest first (none when it has no /audit group).
std::vector<AuditRow> ReadAudit(const std::string& path);
// Rows [first, first + count) of an /audit group.
std::vector<AuditRow> ReadAuditRows(const h5::Location& group, size_t first = 0, size_t count = h5::Location::npos);

}  // namespace mm

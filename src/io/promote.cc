#include "manymodels/io/promote.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>
#include <stdexcept>

#include "manymodels/io/csv.h"
#include "manymodels/io/files.h"

namespace mm {
namespace {

constexpr const char* kProductionRole = "production";

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string Number(double v) {
  if (std::isnan(v)) return "undefined";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

const char* OpText(RuleOp op) {
  switch (op) {
    case RuleOp::kLess: return "<";
    case RuleOp::kLessEqual: return "<=";
    case RuleOp::kGreater: return ">";
    case RuleOp::kGreaterEqual: return ">=";
  }
  return "?";
}

std::string UserName() {
  if (const passwd* pw = ::getpwuid(::geteuid()); pw && pw->pw_name && *pw->pw_name) return pw->pw_name;
  for (const char* v : {"LOGNAME", "USER"})
    if (const char* s = std::getenv(v); s && *s) return s;
  return "uid " + std::to_string(::geteuid());
}

std::string NowUtc() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// A registry's rows without their models' bytes and notes (Planned says where those are; Promote copies them
// in batches as it writes).
struct Table {
  KeyTable keys;
  std::vector<ModelRecord> rows;
  TableMeta meta;
  std::vector<AuditRow> audit;
};

Table Load(const std::string& path) {
  RegistryTable t = ReadRegistry(path, /*load_params=*/false, /*load_notes=*/false);
  Table out{std::move(t.keys), std::move(t.rows), t.meta, {}};
  return out;
}

// A row of the new file as it is planned: its record without the model's bytes and note, and the row of the
// staging or the production registry they come from.
struct Planned {
  ModelRecord record;
  bool staged = false;
  size_t row = 0;
};

void CheckSameKeys(const KeyTable& a, const std::string& a_path, const KeyTable& b, const std::string& b_path) {
  auto describe = [](const KeyTable& t) {
    std::string s;
    for (const auto& c : t.columns) s += (s.empty() ? "" : ", ") + c.name + (c.is_text ? " (text)" : " (integer)");
    return s;
  };
  bool same = a.columns.size() == b.columns.size();
  for (size_t c = 0; same && c < a.columns.size(); ++c)
    same = a.columns[c].name == b.columns[c].name && a.columns[c].is_text == b.columns[c].is_text;
  if (!same)
    throw std::runtime_error(a_path + " and " + b_path + " have different key columns (" + describe(a) + " against " +
                             describe(b) + "): models of one data set only");
}

// The keys of a --keys file, in the registry's key column order and types, sorted, each once.
KeyTable ReadKeysFile(const std::string& path, const KeyTable& like) {
  CsvReader csv(path);
  std::vector<std::string_view> fields;
  if (!csv.Next(&fields)) throw InputError(path + ":1:1: empty file; the header names the key columns");
  const size_t n = like.columns.size();
  std::vector<size_t> column_of(n, static_cast<size_t>(-1));  // key column -> field
  for (size_t f = 0; f < fields.size(); ++f) {
    const std::string name = Trim(std::string(fields[f]));
    size_t c = 0;
    while (c < n && like.columns[c].name != name) ++c;
    if (c == n) {
      std::string names;
      for (const auto& col : like.columns) names += (names.empty() ? "" : ", ") + col.name;
      throw InputError(path + ":1:" + std::to_string(f + 1) + ": '" + name +
                       "' is not a key column of the registry (key columns: " + names + ")");
    }
    if (column_of[c] != static_cast<size_t>(-1))
      throw InputError(path + ":1:" + std::to_string(f + 1) + ": column '" + name + "' is named twice");
    column_of[c] = f;
  }
  for (size_t c = 0; c < n; ++c)
    if (column_of[c] == static_cast<size_t>(-1))
      throw InputError(path + ":1:1: the header does not name key column '" + like.columns[c].name + "'");
  KeyTable keys = like.EmptyLike();
  while (csv.Next(&fields)) {
    if (fields.size() == 1 && fields[0].empty()) continue;  // an empty line
    if (fields.size() != column_of.size())
      throw InputError(path + ":" + std::to_string(csv.line()) + ":1: " + std::to_string(fields.size()) +
                       " fields, the header has " + std::to_string(n));
    for (size_t c = 0; c < n; ++c) {
      KeyColumn& col = keys.columns[c];
      const std::string value(fields[column_of[c]]);
      if (col.is_text) {
        col.texts.push_back(value);
        continue;
      }
      int64_t v = 0;
      const std::string t = Trim(value);
      const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (t.empty() || ec != std::errc() || ptr != t.data() + t.size())
        throw InputError(path + ":" + std::to_string(csv.line()) + ":" + std::to_string(column_of[c] + 1) + ": '" +
                         value + "' is not an integer (key column '" + col.name + "' holds integers)");
      col.ints.push_back(v);
    }
  }
  // Sorted, each key once.
  std::vector<size_t> order(keys.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return keys.Compare(a, keys, b) < 0; });
  KeyTable sorted = keys.EmptyLike();
  for (size_t k = 0; k < order.size(); ++k)
    if (k == 0 || keys.Compare(order[k - 1], keys, order[k]) != 0) sorted.Append(keys, order[k]);
  return sorted;
}

// The index of row `row` of `keys` in the sorted `subset`, if it is there.
std::optional<size_t> FindIn(const KeyTable& subset, const KeyTable& keys, size_t row) {
  size_t lo = 0, hi = subset.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const int cmp = subset.Compare(mid, keys, row);
    if (cmp == 0) return mid;
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return std::nullopt;
}

void CheckSorted(const KeyTable& keys, const std::string& path, bool unique) {
  for (size_t i = 1; i < keys.size(); ++i) {
    const int cmp = keys.Compare(i - 1, keys, i);
    if (cmp > 0 || (unique && cmp == 0))
      throw std::runtime_error(path + ": rows " + std::to_string(i - 1) + " and " + std::to_string(i) + " (" +
                               keys.Describe(i) + ") are " + (cmp > 0 ? "out of key order" : "the same key") +
                               (unique ? ": not a registry written by train" : ": not a registry written by promote"));
  }
}

void WriteAudit(const h5::Location& root, const std::vector<AuditRow>& audit) {
  h5::Location group = root.CreateGroup("audit");
  group.SetAttr("columns", std::vector<std::string>{"key", "old_version", "new_version", "action", "reason", "time",
                                                    "user"});
  auto column = [&](const char* name, std::string AuditRow::*field) {
    DictionaryColumnWriter writer(group, name, audit.size());
    std::vector<std::string> values(audit.size());
    for (size_t i = 0; i < audit.size(); ++i) values[i] = audit[i].*field;
    if (!values.empty()) writer.Put(0, values);
    writer.Close();
  };
  column("key", &AuditRow::key);
  column("old_version", &AuditRow::old_version);
  column("new_version", &AuditRow::new_version);
  column("action", &AuditRow::action);
  column("reason", &AuditRow::reason);
  column("time", &AuditRow::time);
  column("user", &AuditRow::user);
  group.Close();
}

// A key's rows as they go into the new file: sorted by version (stable, so equal versions keep their order).
void Emit(const KeyTable& from, size_t key_row, std::vector<Planned> rows, KeyTable* keys,
          std::vector<Planned>* out) {
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Planned& a, const Planned& b) { return a.record.version < b.record.version; });
  for (auto& r : rows) {
    keys->Append(from, key_row);
    out->push_back(std::move(r));
  }
}

// The index of the row with status `production` among `rows`, or -1.
std::ptrdiff_t ProductionRow(const std::vector<Planned>& rows) {
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].record.status == "production") return static_cast<std::ptrdiff_t>(i);
  return -1;
}

}  // namespace

bool IsRuleMetric(const std::string& name) { return IsCompareMetric(name) || name == "n_obs"; }

bool IsCompareMetric(const std::string& name) {
  return name == "mae" || name == "rmse" || name == "mape" || name == "smape" || name == "mase";
}

double MetricOf(const ModelRecord& r, const std::string& metric) {
  if (metric == "mae") return r.metrics.mae;
  if (metric == "rmse") return r.metrics.rmse;
  if (metric == "mape") return r.metrics.mape;
  if (metric == "smape") return r.metrics.smape;
  if (metric == "mase") return r.metrics.mase;
  if (metric == "n_obs") return static_cast<double>(r.n_obs);
  throw std::invalid_argument("'" + metric + "' is not a metric");
}

bool Rule::Passes(const ModelRecord& r) const {
  const double v = MetricOf(r, metric);
  if (std::isnan(v)) return false;
  switch (op) {
    case RuleOp::kLess: return v < value;
    case RuleOp::kLessEqual: return v <= value;
    case RuleOp::kGreater: return v > value;
    case RuleOp::kGreaterEqual: return v >= value;
  }
  return false;
}

Rule ParseRule(const std::string& text) {
  auto bad = [&text](const std::string& why) {
    return std::invalid_argument("--rule '" + text + "': " + why +
                                 " (a rule is METRIC<VALUE: METRIC one of mae, rmse, mape, smape, mase, n_obs; "
                                 "the operator <, <=, > or >=; e.g. smape<20)");
  };
  const size_t at = text.find_first_of("<>");
  if (at == std::string::npos) throw bad("no comparison operator");
  Rule r;
  r.metric = Trim(text.substr(0, at));
  for (char& ch : r.metric) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (r.metric.empty()) throw bad("no metric before the operator");
  if (!IsRuleMetric(r.metric)) throw bad("'" + r.metric + "' is not a metric");
  size_t rest = at + 1;
  const bool or_equal = rest < text.size() && text[rest] == '=';
  if (or_equal) ++rest;
  r.op = text[at] == '<' ? (or_equal ? RuleOp::kLessEqual : RuleOp::kLess)
                         : (or_equal ? RuleOp::kGreaterEqual : RuleOp::kGreater);
  const std::string value = Trim(text.substr(rest));
  if (value.empty()) throw bad("no value after the operator");
  char* end = nullptr;
  r.value = std::strtod(value.c_str(), &end);
  if (end != value.c_str() + value.size() || !std::isfinite(r.value) ||
      value.find_first_of("xXpP") != std::string::npos)
    throw bad("'" + value + "' is not a finite number");
  r.text = r.metric + OpText(r.op) + value;
  return r;
}

std::vector<AuditRow> ReadAuditRows(const h5::Location& group, size_t first, size_t count) {
  std::vector<AuditRow> rows;
  bool sized = false;
  auto column = [&](const char* name, std::string AuditRow::*field) {
    const std::vector<std::string> values = ReadDictionaryColumn(group, name, first, count);
    if (!sized) rows.resize(values.size()), sized = true;
    if (values.size() != rows.size())
      throw h5::Error(group.name() + ": audit column '" + std::string(name) + "' has the wrong length");
    for (size_t i = 0; i < values.size(); ++i) rows[i].*field = values[i];
  };
  column("key", &AuditRow::key);
  column("old_version", &AuditRow::old_version);
  column("new_version", &AuditRow::new_version);
  column("action", &AuditRow::action);
  column("reason", &AuditRow::reason);
  column("time", &AuditRow::time);
  column("user", &AuditRow::user);
  return rows;
}

std::vector<AuditRow> ReadAudit(const std::string& path) {
  const h5::Location f = h5::Location::OpenFile(path);
  if (!f.Exists("audit")) return {};
  return ReadAuditRows(f.Group("audit"));
}

PromoteResult Promote(const PromoteOptions& o, const Provenance& provenance) {
  const bool rollback = o.rollback.has_value();
  const std::string user = o.user.empty() ? UserName() : o.user;
  const std::string time = o.time.empty() ? NowUtc() : o.time;

  // The current production registry, when there is one.
  const bool have_production = FileExists(o.production);
  Table prod;
  if (have_production) {
    {
      const h5::Location f = h5::Location::OpenFile(o.production);
      CheckKind(f, "manymodels-registry", kRegistrySchemaVersion, kRegistryOldestSchemaVersion);
      if (!f.HasAttr("role") || f.GetAttrString("role") != kProductionRole)
        throw std::runtime_error(o.production +
                                 ": a registry that promote did not write (no role=production attribute); "
                                 "--production names the production registry, which promote creates");
    }
    prod = Load(o.production);
    prod.audit = ReadAudit(o.production);
    CheckSorted(prod.keys, o.production, /*unique=*/false);
  } else if (rollback) {
    throw std::runtime_error(o.production + ": no such production registry, nothing to roll back");
  }

  Table stage;
  if (!rollback) {
    stage = Load(o.registry);
    CheckSorted(stage.keys, o.registry, /*unique=*/true);
    if (have_production) {
      CheckSameKeys(stage.keys, o.registry, prod.keys, o.production);
      if (stage.meta.frequency != prod.meta.frequency || stage.meta.weekly_anchor != prod.meta.weekly_anchor)
        throw std::runtime_error(o.registry + " and " + o.production +
                                 " have different frequencies: models of one data set only");
    }
  }
  const Table& base = rollback ? prod : stage;

  std::optional<KeyTable> subset;
  std::vector<bool> subset_seen;
  if (!o.keys_file.empty()) {
    subset = ReadKeysFile(o.keys_file, base.keys.EmptyLike());
    subset_seen.assign(subset->size(), false);
  }
  // Whether row `row` of `keys` is one the run may touch (every key without --keys).
  auto selected = [&](const KeyTable& keys, size_t row) {
    if (!subset) return true;
    const auto at = FindIn(*subset, keys, row);
    if (!at) return false;
    subset_seen[*at] = true;
    return true;
  };

  PromoteResult result;
  for (const auto& rule : o.rules) result.rejected.emplace_back(rule.text, 0);
  KeyTable out_keys = base.keys.EmptyLike();
  std::vector<Planned> out_rows;
  auto audit = [&](const std::string& key, const std::string& old_version, const std::string& new_version,
                   const char* action, const std::string& reason) {
    result.audit.push_back(AuditRow{key, old_version, new_version, action, reason, time, user});
  };
  // The end of the key range that starts at row `a` of the production registry.
  auto range_end = [&prod](size_t a) {
    size_t b = a;
    while (b < prod.rows.size() && prod.keys.Compare(b, prod.keys, a) == 0) ++b;
    return b;
  };
  auto range_rows = [&prod](size_t a, size_t b) {
    std::vector<Planned> rows;
    for (size_t k = a; k < b; ++k) rows.push_back({prod.rows[k], false, k});
    return rows;
  };

  if (!rollback) {
    std::string rules_text;
    for (const auto& rule : o.rules) rules_text += (rules_text.empty() ? "" : ", ") + rule.text;
    // The decision for staged row j, whose key has the production rows `rows` (maybe none).
    auto decide = [&](size_t j, std::vector<Planned> rows) {
      const ModelRecord& s = stage.rows[j];
      if (s.status != "staged") {
        if (s.status == "failed") ++result.failed;
        return rows;
      }
      ++result.staged;
      if (!selected(stage.keys, j)) {
        ++result.outside_keys;
        return rows;
      }
      for (const auto& r : rows)
        if (r.record.version == s.version) {
          ++result.unchanged;
          return rows;
        }
      const std::string key = stage.keys.Describe(j);
      const std::ptrdiff_t cur = ProductionRow(rows);
      const std::string old_version = cur >= 0 ? rows[static_cast<size_t>(cur)].record.version : "";
      for (size_t k = 0; k < o.rules.size(); ++k) {
        const Rule& rule = o.rules[k];
        if (rule.Passes(s)) continue;
        ++result.rejected[k].second;
        audit(key, old_version, s.version, "rejected",
              "rule " + rule.text + " failed: " + rule.metric + " " + Number(MetricOf(s, rule.metric)));
        return rows;
      }
      std::string reason = "rules " + rules_text + " passed";
      if (cur < 0) {
        reason += "; no production model";
      } else if (!o.compare.empty()) {
        const double challenger = MetricOf(s, o.compare);
        const double champion = MetricOf(rows[static_cast<size_t>(cur)].record, o.compare);
        const double bar = champion * (1 - o.margin);
        const std::string test = o.compare + " " + Number(challenger) + " against " + Number(champion) +
                                 " * (1 - " + Number(o.margin) + ") = " + Number(bar);
        bool wins = false;
        if (std::isnan(challenger))
          wins = false;
        else if (std::isnan(champion))
          wins = true;
        else
          wins = challenger <= bar && challenger < champion;
        if (!wins) {
          ++result.kept;
          audit(key, old_version, s.version, "kept",
                std::isnan(challenger) ? o.compare + " undefined for the challenger: champion kept"
                                       : test + ": not better by the margin, champion kept");
          return rows;
        }
        reason += "; " + (std::isnan(champion) ? o.compare + " undefined for the champion" : test);
      }
      if (cur >= 0) {
        rows[static_cast<size_t>(cur)].record.status = "archived";
        ++result.replaced;
      } else {
        ++result.new_keys;
      }
      ++result.promoted;
      Planned promoted{s, true, j};
      promoted.record.status = "production";
      rows.push_back(std::move(promoted));
      audit(key, old_version, s.version, "promote", reason);
      return rows;
    };
    size_t i = 0, j = 0;
    while (i < prod.rows.size() || j < stage.rows.size()) {
      const int cmp = i == prod.rows.size() ? 1 : j == stage.rows.size() ? -1 : prod.keys.Compare(i, stage.keys, j);
      if (cmp < 0) {  // a key only production has
        const size_t b = range_end(i);
        Emit(prod.keys, i, range_rows(i, b), &out_keys, &out_rows);
        i = b;
        continue;
      }
      const size_t b = cmp == 0 ? range_end(i) : i;
      Emit(stage.keys, j, decide(j, range_rows(i, b)), &out_keys, &out_rows);
      i = b;
      ++j;
    }
  } else {
    const std::string& version = *o.rollback;
    // What each promotion to `version` replaced, by key (the latest such promotion).
    std::map<std::string, std::string> replaced;
    for (const auto& a : prod.audit)
      if (a.action == "promote" && a.new_version == version) replaced[a.key] = a.old_version;
    for (size_t i = 0; i < prod.rows.size();) {
      const size_t b = range_end(i);
      std::vector<Planned> rows = range_rows(i, b);
      const std::ptrdiff_t cur = ProductionRow(rows);
      if (selected(prod.keys, i) && cur >= 0 && rows[static_cast<size_t>(cur)].record.version == version) {
        const std::string key = prod.keys.Describe(i);
        std::string back;
        if (auto it = replaced.find(key); it != replaced.end()) {
          back = it->second;
        } else {  // no audit row: the latest archived version older than the rolled-back one
          for (const auto& p : rows) {
            const ModelRecord& r = p.record;
            if (r.status == "archived" && r.version < version && r.version > back) back = r.version;
          }
        }
        std::ptrdiff_t restore = -1;
        for (size_t k = 0; k < rows.size() && !back.empty(); ++k)
          if (rows[k].record.version == back && static_cast<std::ptrdiff_t>(k) != cur)
            restore = static_cast<std::ptrdiff_t>(k);
        rows[static_cast<size_t>(cur)].record.status = "archived";
        if (restore >= 0) {
          rows[static_cast<size_t>(restore)].record.status = "production";
          ++result.rolled_back;
          audit(key, version, back, "rollback", "rollback of " + version + ": back to " + back);
        } else {
          ++result.withdrawn;
          audit(key, version, "", "rollback",
                "rollback of " + version + ": no earlier version" +
                    (back.empty() ? "" : " (" + back + " is not in the production registry)") +
                    ", the key has no production model");
        }
      }
      Emit(prod.keys, i, std::move(rows), &out_keys, &out_rows);
      i = b;
    }
    if (result.rolled_back + result.withdrawn == 0)
      throw std::runtime_error("--rollback " + version + ": no production model" +
                               (subset ? std::string(" of a key in ") + o.keys_file : std::string()) +
                               " has this version in " + o.production + "; nothing to roll back");
  }
  if (subset)
    for (bool seen : subset_seen) result.unknown_keys += seen ? 0 : 1;

  for (const auto& r : out_rows) {
    if (r.record.status == "production")
      ++result.production_keys;
    else if (r.record.status == "archived")
      ++result.archived_rows;
  }
  std::vector<AuditRow> all_audit = prod.audit;
  all_audit.insert(all_audit.end(), result.audit.begin(), result.audit.end());
  result.audit_rows = static_cast<int64_t>(all_audit.size());
  if (o.dry_run) return result;

  RegistryWriter writer(o.production, out_keys, base.meta, provenance);
  writer.root().SetAttr("role", std::string(kProductionRole));
  // The models' bytes and notes, copied from where they are in batches: a batch's rows of one registry lie
  // together there (both are sorted by key), so each batch is a few hyperslab reads.
  std::optional<RegistryReader> from_prod, from_stage;
  if (have_production) from_prod.emplace(o.production);
  if (!rollback) from_stage.emplace(o.registry);
  constexpr size_t kBatch = 4096;
  for (size_t first = 0; first < out_rows.size(); first += kBatch) {
    const size_t n = std::min(kBatch, out_rows.size() - first);
    std::vector<ModelRecord> batch(n);
    for (const bool staged : {false, true}) {
      std::vector<size_t> at, rows;  // batch index, registry row
      for (size_t i = 0; i < n; ++i)
        if (out_rows[first + i].staged == staged) at.push_back(i), rows.push_back(out_rows[first + i].row);
      if (at.empty()) continue;
      const RegistryReader& reader = staged ? *from_stage : *from_prod;
      std::vector<std::vector<uint8_t>> params = reader.ReadParams(rows);
      std::vector<std::string> notes = reader.ReadNotes(rows);
      for (size_t k = 0; k < at.size(); ++k) {
        batch[at[k]] = std::move(out_rows[first + at[k]].record);
        batch[at[k]].params = std::move(params[k]);
        batch[at[k]].note = std::move(notes[k]);
      }
    }
    writer.Write(first, batch);
  }
  WriteAudit(writer.root(), all_audit);
  writer.Commit();
  result.written = true;
  return result;
}

std::string PromoteReport(const PromoteOptions& o, const PromoteResult& r) {
  std::string out;
  for (const auto& a : r.audit) {
    if (a.action != "promote" && a.action != "rollback") continue;
    out += a.action + "  " + a.key + "  " + (a.old_version.empty() ? "-" : a.old_version) + " -> " +
           (a.new_version.empty() ? "-" : a.new_version) + "  (" + a.reason + ")\n";
  }
  auto line = [&out](const char* name, const std::string& text) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "  %-12s ", name);
    out += buf + text + "\n";
  };
  const std::string what = o.dry_run ? " (dry run: nothing written)" : "";
  if (o.rollback) {
    out += "manymodels promote --rollback " + *o.rollback + what + ": " + o.production + "\n";
    line("rolled back", std::to_string(r.rolled_back) + " key(s) back to the version they replaced, " +
                            std::to_string(r.withdrawn) + " left without a production model (no earlier version)");
  } else {
    out += "manymodels promote" + what + ": " + o.registry + " -> " + o.production + "\n";
    line("staged", std::to_string(r.staged) + " (failed, not candidates: " + std::to_string(r.failed) +
                       (o.keys_file.empty() ? "" : "; outside --keys: " + std::to_string(r.outside_keys)) +
                       "; version already in production: " + std::to_string(r.unchanged) + ")");
    line("promoted", std::to_string(r.promoted) + " (new keys " + std::to_string(r.new_keys) +
                         ", replacing a production model " + std::to_string(r.replaced) + ")");
    if (!o.compare.empty())
      line("kept", std::to_string(r.kept) + " (the production model stays: the challenger is not better on " +
                       o.compare + " by the margin " + Number(o.margin) + ")");
    int64_t rejected = 0;
    std::string by;
    for (const auto& [rule, n] : r.rejected) {
      rejected += n;
      by += (by.empty() ? "" : ", ") + rule + " failed: " + std::to_string(n);
    }
    line("rejected", std::to_string(rejected) + (by.empty() ? "" : " (" + by + ")"));
  }
  if (!o.keys_file.empty())
    line("--keys", std::to_string(r.unknown_keys) + " key(s) of " + o.keys_file +
                       (o.rollback ? " not in the production registry" : " with no model in the staging registry"));
  line("production", std::to_string(r.production_keys) + " key(s) in production, " +
                         std::to_string(r.archived_rows) + " archived row(s), " + std::to_string(r.audit_rows) +
                         " audit row(s)" + (o.dry_run ? " (would be)" : "") + " in " + o.production);
  return out;
}

}  // namespace mm

#include "manymodels/io/ingest.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "manymodels/io/csv.h"
#include "manymodels/io/files.h"

namespace mm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Distinct values of one key column, in order of first appearance.
struct Interner {
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> ids;
  std::vector<std::string> values;
  uint32_t Id(std::string_view s) {
    auto it = ids.find(s);
    if (it != ids.end()) return it->second;
    const auto id = static_cast<uint32_t>(values.size());
    values.emplace_back(s);
    ids.emplace(values.back(), id);
    return id;
  }
};

// Exact powers of ten up to 1e22, for the fast decimal path below.
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool ParseNumber(std::string_view s, double* out) {
  // Fast path for plain decimals ("-12", "4.25") with at most 15 digits: the digits form an exact integer and
  // dividing by an exact power of ten rounds correctly (IEEE division), so this equals from_chars.
  {
    size_t i = 0;
    const bool neg = !s.empty() && s[0] == '-';
    i += neg;
    uint64_t mant = 0;
    int digits = 0, frac = -1;
    for (; i < s.size(); ++i) {
      const unsigned d = static_cast<unsigned>(s[i]) - '0';
      if (d <= 9) {
        mant = mant * 10 + d;
        ++digits;
        if (frac >= 0) ++frac;
      } else if (s[i] == '.' && frac < 0) {
        frac = 0;
      } else {
        break;
      }
    }
    if (i == s.size() && digits > 0 && digits <= 15 && frac != 0) {
      double v = static_cast<double>(mant);
      if (frac > 0) v /= kPow10[frac];
      *out = neg ? -v : v;
      return true;
    }
  }
  if (s.empty() || s == "NA" || s == "NaN" || s == "nan" || s == "null") {
    *out = kNaN;
    return true;
  }
  const char* b = s.data();
  if (*b == '+') ++b;
  auto [ptr, ec] = std::from_chars(b, s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool ParseInt(std::string_view s, int64_t* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

std::string Where(const std::string& path, int64_t line, size_t column) {
  return path + ":" + std::to_string(line) + ":" + std::to_string(column + 1) + ": ";
}

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, surrogates or values past U+10FFFF),
// 0 if there is none.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  const unsigned c = b(0);
  const auto cont = [&](size_t k) { return (b(k) & 0xC0u) == 0x80u; };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return b(1) >= lo && b(1) <= hi && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return b(1) >= lo && b(1) <= hi && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Byte offset of the first invalid UTF-8 sequence or NUL byte in s, or npos.
size_t FirstBadByte(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = Utf8Length(s, i);
    if (n == 0 || s[i] == '\0') return i;
    i += n;
  }
  return std::string_view::npos;
}

// Field text as it may be shown in a message: control bytes and invalid UTF-8 as \xNN, long text cut short.
std::string Printable(std::string_view s) {
  constexpr size_t kMax = 60;
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (out.size() >= kMax) return out + "...";
    const size_t n = Utf8Length(s, i);
    const auto c = static_cast<unsigned char>(s[i]);
    if (n == 0 || c < 0x20 || c == 0x7F) {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

// ingest --append: the lake the input's rows must fit (in), and where each of them came from (out).
struct Fit {
  const LakeIndex* lake = nullptr;
  std::string lake_path;
  std::vector<int64_t> slot_line;  // line of the row that filled each slot of the input's lake; 0: none
  size_t target_col = 0;
  std::vector<size_t> cov_cols;
};

LakeData ReadCsv(const IngestOptions& opt, IngestSummary* summary, Fit* fit);

}  // namespace

void CheckColumnOptions(const IngestOptions& opt) {
  if (opt.keys.empty()) throw std::invalid_argument("--keys names no column");
  std::unordered_map<std::string, std::pair<std::string, std::string>> roles;  // name -> option, role
  auto claim = [&roles](const std::string& name, const std::string& option, const std::string& role) {
    if (name.empty()) throw std::invalid_argument(option + ": empty column name");
    const auto [it, fresh] = roles.try_emplace(name, option, role);
    if (fresh) return;
    if (it->second.first == option) throw std::invalid_argument(option + ": column '" + name + "' is named twice");
    throw std::invalid_argument(option + ": column '" + name + "' is already " + it->second.second + " (" +
                                it->second.first + ")");
  };
  for (const auto& k : opt.keys) claim(k, "--keys", "a key column");
  claim(opt.time, "--time", "the time column");
  claim(opt.target, "--target", "the target column");
  for (const auto& c : opt.covariates) claim(c, "--covariates", "a covariate");
}

LakeData ReadLongCsv(const IngestOptions& opt, IngestSummary* summary) { return ReadCsv(opt, summary, nullptr); }

namespace {

LakeData ReadCsv(const IngestOptions& opt, IngestSummary* summary, Fit* fit) {
  CsvReader csv(opt.input);
  std::vector<std::string_view> fields;
  if (!csv.Next(&fields) || (fields.size() == 1 && fields[0].empty()))
    throw InputError(opt.input + ":1: empty file (no header line)");
  const std::vector<std::string> header(fields.begin(), fields.end());
  {
    std::unordered_map<std::string_view, size_t> first;
    for (size_t i = 0; i < header.size(); ++i) {
      const auto [it, fresh] = first.try_emplace(header[i], i);
      if (!fresh)
        throw InputError(Where(opt.input, 1, i) + "duplicate column name '" + Printable(header[i]) + "' (columns " +
                         std::to_string(it->second + 1) + " and " + std::to_string(i + 1) + ")");
    }
  }
  auto column = [&](const std::string& name, const char* role) -> size_t {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      std::string cols;
      for (const auto& h : header) cols += (cols.empty() ? "" : ", ") + Printable(h);
      throw InputError(opt.input + ":1: no " + role + " column named '" + Printable(name) +
                       "' in the header (columns: " + cols + ")");
    }
    return static_cast<size_t>(it - header.begin());
  };
  CheckColumnOptions(opt);
  std::vector<size_t> key_cols;
  for (const auto& k : opt.keys) {
    if (k.find('/') != std::string::npos || k.empty()) throw InputError(opt.input + ":1: bad key column name '" + k + "'");
    key_cols.push_back(column(k, "key"));
  }
  const size_t time_col = column(opt.time, "time");
  const size_t target_col = column(opt.target, "target");
  std::vector<size_t> cov_cols;
  for (const auto& c : opt.covariates) cov_cols.push_back(column(c, "covariate"));
  const size_t ncol = header.size(), nkeys = key_cols.size(), ncov = cov_cols.size();

  // Pass 1: parse every row into columns; series identified by their tuple of interned key ids.
  std::vector<Interner> interners(nkeys);
  std::unordered_map<uint64_t, uint32_t> series_of_pair;          // up to two key columns
  std::unordered_map<std::string, uint32_t> series_of_tuple;      // more
  std::vector<std::vector<uint32_t>> series_keys;                 // series -> key ids
  std::vector<uint32_t> row_series;
  std::vector<int64_t> row_time;
  // Line numbers are kept only where they stop following the row numbers (blank lines, quoted line breaks):
  // row r is on line marks[k].line + (r - marks[k].row) for the last mark at or before r.
  struct LineMark {
    size_t row;
    int64_t line;
  };
  std::vector<LineMark> marks;
  auto line_of = [&marks](size_t r) {
    const auto it = std::upper_bound(marks.begin(), marks.end(), r,
                                     [](size_t row, const LineMark& m) { return row < m.row; });
    return std::prev(it)->line + static_cast<int64_t>(r - std::prev(it)->row);
  };
  std::vector<double> row_target;
  std::vector<std::vector<double>> row_cov(ncov);
  {
    // Reserve for the rows a plain file likely holds (gzip: unknown), to avoid regrowing large arrays.
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(opt.input, ec);
    if (!ec && opt.input.size() > 3 && opt.input.compare(opt.input.size() - 3, 3, ".gz") != 0) {
      const size_t guess = static_cast<size_t>(bytes / (8 + 4 * ncol));
      row_series.reserve(guess), row_time.reserve(guess), row_target.reserve(guess);
      for (auto& c : row_cov) c.reserve(guess);
    }
  }
  std::vector<uint32_t> ids(nkeys);
  std::string tuple;
  std::optional<TimeKind> kind;
  std::string last_time_text;
  RawTime last_time{TimeKind::kInteger, 0};

  while (csv.Next(&fields)) {
    const int64_t line = csv.line();
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != ncol)
      throw InputError(opt.input + ":" + std::to_string(line) + ": expected " + std::to_string(ncol) +
                       " fields, found " + std::to_string(fields.size()));
    for (size_t k = 0; k < nkeys; ++k) {
      const std::string_view v = fields[key_cols[k]];
      if (v.empty()) throw InputError(Where(opt.input, line, key_cols[k]) + "empty key '" + opt.keys[k] + "'");
      const size_t known = interners[k].values.size();
      ids[k] = interners[k].Id(v);
      if (interners[k].values.size() != known) {  // a new value: check it once
        if (const size_t bad = FirstBadByte(v); bad != std::string_view::npos)
          throw InputError(Where(opt.input, line, key_cols[k]) + "key '" + opt.keys[k] + "' value '" + Printable(v) +
                           "' " + (v[bad] == '\0' ? "holds a NUL byte" : "is not valid UTF-8") + " (at byte " +
                           std::to_string(bad + 1) + ")");
        int64_t as_int;
        if (fit && !fit->lake->keys.columns[k].is_text && !ParseInt(v, &as_int))
          throw InputError(Where(opt.input, line, key_cols[k]) + "key '" + opt.keys[k] + "' value '" + Printable(v) +
                           "' is not an integer, and the lake " + fit->lake_path + " stores key column '" +
                           opt.keys[k] + "' as integers");
      }
    }
    uint32_t sid;
    const auto next_sid = static_cast<uint32_t>(series_keys.size());
    if (nkeys <= 2) {
      const uint64_t pair = (static_cast<uint64_t>(ids[0]) << 32) | (nkeys == 2 ? ids[1] : 0u);
      sid = series_of_pair.try_emplace(pair, next_sid).first->second;
    } else {
      tuple.assign(reinterpret_cast<const char*>(ids.data()), nkeys * sizeof(uint32_t));
      sid = series_of_tuple.try_emplace(tuple, next_sid).first->second;
    }
    if (sid == next_sid) series_keys.push_back(ids);

    const std::string_view tt = fields[time_col];
    if (tt != last_time_text) {
      auto t = ParseTime(tt);
      if (!t)
        throw InputError(Where(opt.input, line, time_col) + "cannot parse '" + Printable(tt) + "' in column '" +
                         opt.time + "' as a date (YYYY-MM-DD), datetime or integer period");
      if (t->kind == TimeKind::kDate && kind == TimeKind::kDateTime) t = RawTime{TimeKind::kDateTime, t->value * 86400};
      if (kind && *kind != t->kind) {
        if (*kind == TimeKind::kDate && t->kind == TimeKind::kDateTime) {
          for (auto& v : row_time) v *= 86400;  // dates so far become midnights
          kind = TimeKind::kDateTime;
        } else {
          throw InputError(Where(opt.input, line, time_col) + "'" + Printable(tt) + "' in column '" + opt.time +
                           "' mixes integer periods with dates");
        }
      }
      if (!kind) kind = t->kind;
      last_time = *t;
      last_time_text.assign(tt);
    }
    double y;
    if (!ParseNumber(fields[target_col], &y) || std::isinf(y))
      throw InputError(Where(opt.input, line, target_col) + "cannot parse '" + Printable(fields[target_col]) +
                       "' in column '" + opt.target + "' as a number");
    for (size_t c = 0; c < ncov; ++c) {
      double x;
      if (!ParseNumber(fields[cov_cols[c]], &x) || std::isinf(x))
        throw InputError(Where(opt.input, line, cov_cols[c]) + "cannot parse '" + Printable(fields[cov_cols[c]]) +
                         "' in column '" + opt.covariates[c] + "' as a number");
      row_cov[c].push_back(x);
    }
    row_series.push_back(sid);
    row_time.push_back(last_time.value);
    if (marks.empty() || marks.back().line + static_cast<int64_t>(row_series.size() - 1 - marks.back().row) != line)
      marks.push_back({row_series.size() - 1, line});
    row_target.push_back(y);
  }
  const size_t nrows = row_series.size();
  if (nrows == 0) throw InputError(opt.input + ":2: no data rows after the header");

  // Frequency: given, or inferred from the distinct times.
  Frequency freq;
  if (fit) {
    freq = fit->lake->frequency;
  } else if (opt.frequency) {
    freq = *opt.frequency;
  } else {
    std::unordered_set<int64_t> distinct(row_time.begin(), row_time.end());
    std::vector<int64_t> sorted(distinct.begin(), distinct.end());
    std::sort(sorted.begin(), sorted.end());
    auto inferred = InferFrequency(*kind, sorted);
    if (!inferred)
      throw InputError(opt.input + ": cannot infer the frequency of column '" + opt.time + "'; give --freq");
    freq = *inferred;
  }
  int anchor = 0;
  if (fit) {
    anchor = fit->lake->weekly_anchor;
  } else if (freq == Frequency::kWeekly) {
    const int64_t days = *kind == TimeKind::kDateTime ? row_time[0] / 86400 : row_time[0];
    anchor = static_cast<int>(((days % 7) + 7) % 7);
  }

  // Key columns: integer when every value is one, else text. Series sorted by their key tuples.
  LakeData lake;
  LakeIndex& ix = lake.index;
  std::vector<std::vector<uint32_t>> rank(nkeys);  // key id -> rank of its value
  for (size_t k = 0; k < nkeys; ++k) {
    const auto& vals = interners[k].values;
    KeyColumn col;
    col.name = opt.keys[k];
    std::vector<int64_t> ints(vals.size());
    col.is_text = fit && fit->lake->keys.columns[k].is_text;  // appending: the lake's type
    for (size_t i = 0; i < vals.size() && !col.is_text; ++i) col.is_text = !ParseInt(vals[i], &ints[i]);
    std::vector<uint32_t> order(vals.size());
    std::iota(order.begin(), order.end(), 0u);
    if (col.is_text) std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return vals[a] < vals[b]; });
    else std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return ints[a] < ints[b]; });
    rank[k].resize(vals.size());
    for (size_t r = 0; r < order.size(); ++r) rank[k][order[r]] = static_cast<uint32_t>(r);
    if (!col.is_text) {
      for (size_t r = 1; r < order.size(); ++r)
        if (ints[order[r]] == ints[order[r - 1]])
          throw InputError(opt.input + ": key column '" + col.name + "' holds '" + vals[order[r]] + "' and '" +
                           vals[order[r - 1]] + "', the same integer written two ways");
    }
    col.ints = std::move(ints);
    col.texts = vals;
    ix.keys.columns.push_back(std::move(col));
  }
  const size_t nseries = series_keys.size();
  std::vector<uint32_t> order(nseries);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    for (size_t k = 0; k < nkeys; ++k)
      if (rank[k][series_keys[a][k]] != rank[k][series_keys[b][k]])
        return rank[k][series_keys[a][k]] < rank[k][series_keys[b][k]];
    return false;
  });
  std::vector<uint32_t> position(nseries);
  for (size_t i = 0; i < nseries; ++i) position[order[i]] = static_cast<uint32_t>(i);
  // Final key columns in sorted series order.
  for (size_t k = 0; k < nkeys; ++k) {
    KeyColumn& col = ix.keys.columns[k];
    KeyColumn sorted = col.EmptyLike();
    for (size_t i = 0; i < nseries; ++i) {
      const uint32_t id = series_keys[order[i]][k];
      if (col.is_text) sorted.texts.push_back(col.texts[id]);
      else sorted.ints.push_back(col.ints[id]);
    }
    col = std::move(sorted);
  }

  // Periods, spans per series, and the dense arrays.
  std::vector<int64_t> row_period(nrows);
  std::vector<int64_t> lo(nseries, std::numeric_limits<int64_t>::max()), hi(nseries, std::numeric_limits<int64_t>::min());
  for (size_t r = 0; r < nrows; ++r) {
    auto p = ToPeriod(RawTime{*kind, row_time[r]}, freq, anchor);
    if (!p) {
      throw InputError(Where(opt.input, line_of(r), time_col) + "time in column '" + opt.time +
                       "' is not on the grid of frequency " + std::string(1, FrequencyCode(freq)) +
                       (freq == Frequency::kWeekly ? " (weeks start on " + FormatPeriod(freq, 0, anchor) + "'s weekday)" : ""));
    }
    row_period[r] = *p;
    const uint32_t s = position[row_series[r]];
    lo[s] = std::min(lo[s], *p);
    hi[s] = std::max(hi[s], *p);
  }
  ix.offsets.assign(nseries + 1, 0);
  ix.start.resize(nseries);
  // Checked arithmetic: integer periods far apart (int64's extremes, say) must not wrap around.
  const auto limit = static_cast<int64_t>(4 * nrows + 1000000);
  double span = 0;  // for the message only
  bool too_long = false;
  for (size_t s = 0; s < nseries; ++s) {
    ix.start[s] = lo[s];
    span += static_cast<double>(hi[s]) - static_cast<double>(lo[s]) + 1;
    int64_t len = 0;
    too_long = too_long || __builtin_sub_overflow(hi[s], lo[s], &len) || len >= limit ||
               __builtin_add_overflow(ix.offsets[s], len + 1, &ix.offsets[s + 1]) || ix.offsets[s + 1] > limit;
  }
  if (too_long) {
    char text[32];
    std::snprintf(text, sizeof text, "%.0f", span);
    throw InputError(opt.input + ": the rows span " + text + " periods at frequency " +
                     std::string(1, FrequencyCode(freq)) + " for " + std::to_string(nrows) +
                     " rows; is --freq right?");
  }
  if (fit) {
    fit->slot_line.assign(static_cast<size_t>(ix.offsets[nseries]), 0);
    fit->target_col = target_col;
    fit->cov_cols = cov_cols;
  }
  const auto total = static_cast<size_t>(ix.offsets[nseries]);
  lake.target.assign(total, kNaN);
  lake.covariates.assign(ncov, std::vector<double>(total, kNaN));
  std::vector<uint64_t> filled((total + 63) / 64, 0);  // one bit per period slot
  for (size_t r = 0; r < nrows; ++r) {
    const uint32_t s = position[row_series[r]];
    const auto slot = static_cast<size_t>(ix.offsets[s] + (row_period[r] - lo[s]));
    if (filled[slot / 64] >> (slot % 64) & 1) {
      // A duplicate: find the row that filled the slot first (this scan runs once, on the error path).
      size_t first = 0;
      while (position[row_series[first]] != s || row_period[first] != row_period[r]) ++first;
      throw InputError(opt.input + ":" + std::to_string(line_of(r)) + ": duplicate (" + ix.keys.Describe(s) + ", " +
                       FormatPeriod(freq, row_period[r], anchor) + "), first seen at line " +
                       std::to_string(line_of(first)));
    }
    filled[slot / 64] |= uint64_t{1} << (slot % 64);
    if (fit) fit->slot_line[slot] = line_of(r);
    lake.target[slot] = row_target[r];
    for (size_t c = 0; c < ncov; ++c) lake.covariates[c][slot] = row_cov[c][r];
  }
  ix.frequency = freq;
  ix.weekly_anchor = anchor;
  ix.season_lengths = fit                           ? fit->lake->season_lengths
                      : opt.season_lengths.empty() ? DefaultSeasonLengths(freq)
                                                   : opt.season_lengths;
  ix.time_column = opt.time;
  ix.target_column = opt.target;
  ix.covariates = opt.covariates;

  summary->rows = static_cast<int64_t>(nrows);
  summary->series = static_cast<int64_t>(nseries);
  summary->periods = static_cast<int64_t>(total);
  summary->missing = 0;
  for (double v : lake.target) summary->missing += std::isnan(v) ? 1 : 0;
  summary->frequency = freq;
  return lake;
}

}  // namespace

namespace {

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ',';
    out += n;
  }
  return out;
}

std::string Number(double v) {
  std::string out;
  AppendNumber(&out, v);
  return out;
}

std::string Numbers(const std::vector<double>& v) {
  std::string out;
  for (double x : v) {
    if (!out.empty()) out += ',';
    AppendNumber(&out, x);
  }
  return out;
}

// --append: the options must describe the lake's own columns and grid; a command that cannot work with this
// lake is a usage error. Covariates may be named in any order and are put in the lake's.
void CheckAgainstLake(IngestOptions* opt, const LakeIndex& ix) {
  auto refuse = [&](const std::string& option, const std::string& given, const std::string& has) {
    throw UsageError(option + " " + given + ", but the lake " + opt->out + " has " + has +
                     " (--append adds rows with the lake's columns and frequency)");
  };
  if (opt->keys != ix.keys.Names())
    refuse("--keys", "'" + Join(opt->keys) + "'", "key columns '" + Join(ix.keys.Names()) + "'");
  if (opt->time != ix.time_column) refuse("--time", "'" + opt->time + "'", "time column '" + ix.time_column + "'");
  if (opt->target != ix.target_column)
    refuse("--target", "'" + opt->target + "'", "target column '" + ix.target_column + "'");
  auto given = opt->covariates, has = ix.covariates;
  std::sort(given.begin(), given.end());
  std::sort(has.begin(), has.end());
  if (given != has)
    refuse("--covariates", "'" + Join(opt->covariates) + "'",
           ix.covariates.empty() ? std::string("no covariates") : "covariates '" + Join(ix.covariates) + "'");
  opt->covariates = ix.covariates;
  if (opt->frequency && *opt->frequency != ix.frequency)
    refuse("--freq", std::string(1, FrequencyCode(*opt->frequency)),
           "frequency " + std::string(1, FrequencyCode(ix.frequency)));
  if (!opt->season_lengths.empty() && opt->season_lengths != ix.season_lengths)
    refuse("--season-length", Numbers(opt->season_lengths), "season lengths " + Numbers(ix.season_lengths));
}

// The lake with the input's rows added: series merged in key order, each series' span the union of both, the
// input's values written where the lake has none; a value known in both must be the same.
LakeData Merge(const LakeData& old, const LakeData& add, const Fit& fit, const IngestOptions& opt,
               IngestSummary* summary) {
  const LakeIndex &a = old.index, &b = add.index;
  const size_t na = a.num_series(), nb = b.num_series(), ncov = a.covariates.size();
  struct Part {
    int64_t old = -1, add = -1, start = 0, length = 0;
  };
  std::vector<Part> parts;
  parts.reserve(na + nb);
  LakeData out;
  LakeIndex& ix = out.index;
  ix = a;
  ix.keys = a.keys.EmptyLike();
  ix.offsets.assign(1, 0);
  ix.start.clear();
  // Checked arithmetic, as in ReadCsv: rows far from the lake's periods (a wrong year) must not wrap around
  // or allocate without bound.
  const auto limit = static_cast<int64_t>(4 * (a.offsets.back() + summary->rows) + 1000000);
  for (size_t i = 0, j = 0; i < na || j < nb;) {
    const int c = i == na ? 1 : j == nb ? -1 : a.keys.Compare(i, b.keys, j);
    Part p;
    int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
    if (c <= 0) {
      p.old = static_cast<int64_t>(i);
      lo = a.start[i];
      hi = a.start[i] + a.length(i) - 1;
      ix.keys.Append(a.keys, i++);
    }
    if (c >= 0) {
      p.add = static_cast<int64_t>(j);
      lo = std::min(lo, b.start[j]);
      hi = std::max(hi, b.start[j] + b.length(j) - 1);
      if (c > 0) ix.keys.Append(b.keys, j);
      ++j;
    }
    int64_t len = 0, end = 0;
    if (__builtin_sub_overflow(hi, lo, &len) || len >= limit || __builtin_add_overflow(ix.offsets.back(), len + 1, &end) ||
        end > limit) {
      const size_t s = ix.keys.size() - 1;
      throw InputError(opt.input + ": the rows of (" + ix.keys.Describe(s) + ") and the lake's span " +
                       FormatPeriod(a.frequency, lo, a.weekly_anchor) + " to " +
                       FormatPeriod(a.frequency, hi, a.weekly_anchor) + " together; are the times right?");
    }
    p.start = lo;
    p.length = len + 1;
    ix.start.push_back(lo);
    ix.offsets.push_back(end);
    parts.push_back(p);
  }
  const auto total = static_cast<size_t>(ix.offsets.back());
  out.target.assign(total, kNaN);
  out.covariates.assign(ncov, std::vector<double>(total, kNaN));
  int64_t filled = 0;
  for (size_t s = 0; s < parts.size(); ++s) {
    const Part& p = parts[s];
    const auto base = static_cast<size_t>(ix.offsets[s]);
    size_t old_lo = 0, old_hi = 0;  // the lake's slots of this series, in the merged series
    if (p.old >= 0) {
      const auto i = static_cast<size_t>(p.old);
      const auto from = static_cast<size_t>(a.offsets[i]), n = static_cast<size_t>(a.length(i));
      old_lo = base + static_cast<size_t>(a.start[i] - p.start);
      old_hi = old_lo + n;
      std::copy_n(old.target.begin() + static_cast<ptrdiff_t>(from), n, out.target.begin() + static_cast<ptrdiff_t>(old_lo));
      for (size_t c = 0; c < ncov; ++c)
        std::copy_n(old.covariates[c].begin() + static_cast<ptrdiff_t>(from), n,
                    out.covariates[c].begin() + static_cast<ptrdiff_t>(old_lo));
    }
    if (p.add < 0) continue;
    const auto j = static_cast<size_t>(p.add);
    for (int64_t q = 0; q < b.length(j); ++q) {
      const auto k = static_cast<size_t>(b.offsets[j] + q);
      const int64_t line = fit.slot_line[k];
      if (line == 0) continue;  // no row for this period
      const auto m = base + static_cast<size_t>(b.start[j] + q - p.start);
      const bool in_lake = m >= old_lo && m < old_hi;
      auto merge = [&](double* into, double v, size_t column, const std::string& name) {
        if (std::isnan(v)) return;  // an empty value never erases a known one
        if (std::isnan(*into)) {
          *into = v;
          filled += in_lake;
          return;
        }
        if (*into == v) return;  // the same value sent again
        throw InputError(Where(opt.input, line, column) + "(" + ix.keys.Describe(s) + ", " +
                         FormatPeriod(a.frequency, b.start[j] + q, a.weekly_anchor) + "): " + name + " " + Number(v) +
                         " differs from " + Number(*into) + " in the lake " + opt.out +
                         "; --append adds periods and fills empty values, it does not change known ones");
      };
      merge(&out.target[m], add.target[k], fit.target_col, a.target_column);
      for (size_t c = 0; c < ncov; ++c) merge(&out.covariates[c][m], add.covariates[c][k], fit.cov_cols[c], a.covariates[c]);
    }
  }
  summary->new_series = static_cast<int64_t>(parts.size() - na);
  summary->new_periods = ix.offsets.back() - a.offsets.back();
  summary->filled = filled;
  summary->series = static_cast<int64_t>(parts.size());
  summary->periods = static_cast<int64_t>(total);
  summary->missing = 0;
  for (double v : out.target) summary->missing += std::isnan(v) ? 1 : 0;
  return out;
}

IngestSummary Append(IngestOptions opt, Provenance provenance) {
  LakeData old;
  std::string history;
  std::vector<std::pair<std::string, std::string>> inputs;
  {
    const LakeReader reader(opt.out);
    CheckAgainstLake(&opt, reader.index());
    old.index = reader.index();
    const size_t n = old.index.num_series();
    old.target = reader.ReadTarget(0, n);
    for (size_t c = 0; c < old.index.covariates.size(); ++c) old.covariates.push_back(reader.ReadCovariate(c, 0, n));
    // Provenance: the earlier inputs stay listed, and the version replaced joins the history.
    history = reader.TextAttribute("history") + reader.TextAttribute("created") + " " +
              reader.TextAttribute("command_line") + "\n";
    const std::string earlier = reader.TextAttribute("inputs");
    for (size_t at = 0; at < earlier.size();) {
      size_t eol = earlier.find('\n', at);
      if (eol == std::string::npos) eol = earlier.size();
      const std::string entry = earlier.substr(at, eol - at);
      if (const size_t eq = entry.find('='); eq != std::string::npos)
        inputs.emplace_back(entry.substr(0, eq), entry.substr(eq + 1));
      at = eol + 1;
    }
  }
  Fit fit;
  fit.lake = &old.index;
  fit.lake_path = opt.out;
  IngestSummary summary;
  const LakeData add = ReadCsv(opt, &summary, &fit);
  const LakeData merged = Merge(old, add, fit, opt, &summary);
  inputs.insert(inputs.end(), provenance.inputs.begin(), provenance.inputs.end());
  provenance.inputs = std::move(inputs);
  WriteLake(opt.out, merged, provenance, history);
  return summary;
}

}  // namespace

IngestSummary Ingest(const IngestOptions& options, const Provenance& provenance) {
  if (options.append) return Append(options, provenance);
  IngestSummary summary;
  const LakeData lake = ReadLongCsv(options, &summary);
  WriteLake(options.out, lake, provenance);
  return summary;
}

}  // namespace mm

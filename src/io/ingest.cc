#include "manymodels/io/ingest.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <numeric>
#include <queue>
#include <stdexcept>
#include <unordered_map>

#include "manymodels/io/csv.h"
#include "manymodels/io/files.h"
#include "manymodels/io/spill.h"

namespace mm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Bytes of scratch written or read at a time (a run spilled, each run read back while merging).
constexpr size_t kStagingBytes = size_t{1} << 20;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
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

// Distinct values of one key column, in order of first appearance, and each as an integer where it is one.
struct Interner {
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> ids;
  std::vector<std::string> values;
  std::vector<int64_t> ints;
  bool all_ints = true;  // every value so far an integer
  uint32_t Id(std::string_view s) {
    auto it = ids.find(s);
    if (it != ids.end()) return it->second;
    const auto id = static_cast<uint32_t>(values.size());
    values.emplace_back(s);
    ids.emplace(values.back(), id);
    int64_t v = 0;
    all_ints = ParseInt(s, &v) && all_ints;
    ints.push_back(v);
    return id;
  }
};

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

uint64_t RowBudget(uint64_t memory) { return memory - std::min(memory / 2, kMemoryReserve); }

std::string ScratchFolder(const IngestOptions& opt) {
  if (!opt.tmpdir.empty()) return opt.tmpdir;
  const std::string folder = std::filesystem::path(opt.out).parent_path().string();
  return folder.empty() ? "." : folder;
}

LakeData ReadLongCsv(const IngestOptions& opt, IngestSummary* summary) { return ReadCsv(opt, summary, nullptr); }

namespace {

// ------------------------------------------------------------------ rows
// A parsed row as it is held and spilled: a record of fixed size holding the series id (in order of first
// appearance), the raw time, the line it came from and the values (the target, then the covariates).
constexpr size_t kRowSeries = 0, kRowTime = 4, kRowLine = 12, kRowValues = 20;
size_t RowSize(size_t ncov) { return kRowValues + sizeof(double) * (1 + ncov); }
template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <typename T>
void Store(char* p, T v) {
  std::memcpy(p, &v, sizeof v);
}
uint32_t RowSeries(const char* r) { return Load<uint32_t>(r + kRowSeries); }
int64_t RowTime(const char* r) { return Load<int64_t>(r + kRowTime); }
int64_t RowLine(const char* r) { return Load<int64_t>(r + kRowLine); }
double RowValue(const char* r, size_t i) { return Load<double>(r + kRowValues + sizeof(double) * i); }

// Rows in blocks that never move (growing never copies, so never holds the rows twice), kept from run to run.
class RowBuffer {
 public:
  explicit RowBuffer(size_t row_size) : row_size_(row_size) {}
  size_t size() const { return size_; }
  size_t row_size() const { return row_size_; }
  char* Add() {
    if (size_ == blocks_.size() * kBlockRows) blocks_.emplace_back(new char[kBlockRows * row_size_]);
    return at(size_++);
  }
  char* at(size_t i) { return blocks_[i / kBlockRows].get() + (i % kBlockRows) * row_size_; }
  const char* at(size_t i) const { return blocks_[i / kBlockRows].get() + (i % kBlockRows) * row_size_; }
  void Clear() { size_ = 0; }
  // Frees the blocks the rows do not use.
  void Trim() { blocks_.resize((size_ + kBlockRows - 1) / kBlockRows); }

 private:
  static constexpr size_t kBlockRows = 16384;
  size_t row_size_, size_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
};

// One key column's distinct values in key order: numerically unless `text`, else bytewise.
std::vector<uint32_t> ValueOrder(const Interner& in, bool text) {
  std::vector<uint32_t> order(in.values.size());
  std::iota(order.begin(), order.end(), 0u);
  if (text) std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return in.values[a] < in.values[b]; });
  else std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return in.ints[a] < in.ints[b]; });
  return order;
}

// The series (ids) in key order, given each key column's value order and each series' key ids (series s's
// are series_keys[s * nkeys .. s * nkeys + nkeys)).
std::vector<uint32_t> SeriesOrder(const std::vector<std::vector<uint32_t>>& value_order,
                                  const std::vector<uint32_t>& series_keys) {
  const size_t nkeys = value_order.size();
  std::vector<std::vector<uint32_t>> rank(nkeys);  // key id -> rank of its value
  for (size_t k = 0; k < nkeys; ++k) {
    rank[k].resize(value_order[k].size());
    for (size_t r = 0; r < value_order[k].size(); ++r) rank[k][value_order[k][r]] = static_cast<uint32_t>(r);
  }
  std::vector<uint32_t> order(series_keys.size() / nkeys);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    for (size_t k = 0; k < nkeys; ++k) {
      const uint32_t x = rank[k][series_keys[a * nkeys + k]], y = rank[k][series_keys[b * nkeys + k]];
      if (x != y) return x < y;
    }
    return false;
  });
  return order;
}

std::vector<uint32_t> Positions(const std::vector<uint32_t>& order) {
  std::vector<uint32_t> position(order.size());
  for (size_t i = 0; i < order.size(); ++i) position[order[i]] = static_cast<uint32_t>(i);
  return position;
}

// The order of `rows` by (position of their series, time); rows alike in both stay in the order they were read.
std::vector<uint32_t> SortRows(const RowBuffer& rows, const std::vector<uint32_t>& position) {
  const size_t n = rows.size();
  std::vector<uint32_t> begin(position.size() + 1, 0);
  for (size_t i = 0; i < n; ++i) ++begin[position[RowSeries(rows.at(i))] + 1];
  std::partial_sum(begin.begin(), begin.end(), begin.begin());
  std::vector<uint32_t> order(n), next(begin.begin(), begin.end() - 1);
  for (size_t i = 0; i < n; ++i) order[next[position[RowSeries(rows.at(i))]]++] = static_cast<uint32_t>(i);
  const auto by_time = [&rows](uint32_t a, uint32_t b) { return RowTime(rows.at(a)) < RowTime(rows.at(b)); };
  for (size_t s = 0; s + 1 < begin.size(); ++s) {
    const auto first = order.begin() + begin[s], last = order.begin() + begin[s + 1];
    if (!std::is_sorted(first, last, by_time)) std::stable_sort(first, last, by_time);
  }
  return order;
}

// A sorted run of rows on the scratch file.
struct Run {
  uint64_t offset = 0, rows = 0;
  std::vector<bool> text;  // the key columns compared as text when it was sorted
  bool days = false;       // its times are dates in days, the later ones datetimes in seconds
};

// One sorted run being merged: the rows in hand, through their order, or a run read back from scratch.
class RunCursor {
 public:
  RunCursor(const RowBuffer& rows, const std::vector<uint32_t>& order) : rows_(&rows), order_(&order) {}
  RunCursor(const ScratchFile& file, const Run& run, size_t row_size, size_t buffer, bool to_seconds)
      : reader_(std::make_unique<ScratchReader>(file, run.offset, run.rows * row_size, row_size, buffer)),
        row_(to_seconds ? row_size : 0) {}
  // The next row, valid until the next call; nullptr after the last.
  const char* Next() {
    if (!reader_) return next_ < order_->size() ? rows_->at((*order_)[next_++]) : nullptr;
    const char* r = reader_->Next();
    if (!r || row_.empty()) return r;
    std::memcpy(row_.data(), r, row_.size());
    Store<int64_t>(row_.data() + kRowTime, RowTime(r) * 86400);
    return row_.data();
  }

 private:
  const RowBuffer* rows_ = nullptr;
  const std::vector<uint32_t>* order_ = nullptr;
  size_t next_ = 0;
  std::unique_ptr<ScratchReader> reader_;
  std::vector<char> row_;  // a row whose date became a datetime (midnight)
};

// Where Merge puts each row: its slot in the lake's value columns. Slots come in ascending order; a duplicate
// row repeats its slot.
class SlotSink {
 public:
  virtual ~SlotSink() = default;
  virtual void Put(size_t slot, const char* row) = 0;
  virtual void Finish() {}  // after the last row
};

// ------------------------------------------------------------------ the input
// Ingest's reading of a long CSV, in one pass over the file: the constructor parses and checks every row as it
// comes, holding the rows in memory up to RowBudget(--memory) and sorting them into runs on a scratch file each
// time they reach it; Index then decides what needs the whole input (the frequency, the key columns' types and
// order, the grid, each series' span) from the key index and the distinct times alone; Merge hands every row, in
// the lake's order, to a sink. With no run spilled the rows in hand are the one run: the same code, checks and
// messages whatever the number of runs.
class LongCsv {
 public:
  LongCsv(const IngestOptions& opt, Fit* fit);
  const LakeIndex& Index(IngestSummary* summary);
  void Merge(SlotSink* sink, IngestSummary* summary);

 private:
  void Parse(CsvReader* csv, size_t ncol);
  void ToSeconds();
  std::vector<bool> TextColumns() const;
  void Spill();
  void Resort(Run* run);
  uint64_t WriteSorted(const std::vector<uint32_t>& order, uint64_t offset);

  const IngestOptions& opt_;
  Fit* fit_;
  std::vector<size_t> key_cols_, cov_cols_;
  size_t time_col_ = 0, target_col_ = 0;
  // Keys: series identified by their tuple of interned key ids.
  std::vector<Interner> interners_;
  std::vector<uint32_t> series_keys_;               // series s -> its key ids, at s * nkeys
  size_t nseries_ = 0;
  std::vector<int64_t> series_lo_, series_hi_;      // series -> first and last raw time
  // Times: every distinct raw time and the line it first appears on; the kind, and the first row's.
  std::unordered_map<int64_t, int64_t> time_line_;
  std::optional<TimeKind> kind_;
  int64_t first_time_ = 0;
  int64_t nrows_ = 0;
  // Rows: those in hand, and the sorted runs spilled.
  uint64_t budget_;
  size_t capacity_;  // rows in hand at most
  RowBuffer rows_;
  std::unique_ptr<ScratchFile> scratch_;
  std::vector<Run> runs_;
  // Index's decisions, for Merge.
  LakeIndex ix_;
  // Series id -> position in key order: the lake's once Index has run, before that the last run's (under the
  // key types position_text_).
  std::vector<uint32_t> position_;
  std::vector<bool> position_text_;
};

LongCsv::LongCsv(const IngestOptions& opt, Fit* fit)
    : opt_(opt), fit_(fit), budget_(RowBudget(opt.memory)), capacity_(0), rows_(RowSize(opt.covariates.size())) {
  capacity_ = static_cast<size_t>(std::clamp<uint64_t>(budget_ / (rows_.row_size() + sizeof(uint32_t)), 1,
                                                       std::numeric_limits<uint32_t>::max()));
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
  for (const auto& k : opt.keys) {
    if (k.find('/') != std::string::npos || k.empty()) throw InputError(opt.input + ":1: bad key column name '" + k + "'");
    key_cols_.push_back(column(k, "key"));
  }
  time_col_ = column(opt.time, "time");
  target_col_ = column(opt.target, "target");
  for (const auto& c : opt.covariates) cov_cols_.push_back(column(c, "covariate"));
  interners_.resize(key_cols_.size());
  Parse(&csv, header.size());
}

void LongCsv::Parse(CsvReader* csv, size_t ncol) {
  const IngestOptions& opt = opt_;
  const size_t nkeys = key_cols_.size(), ncov = cov_cols_.size();
  std::unordered_map<uint64_t, uint32_t> series_of_pair;      // up to two key columns
  std::unordered_map<std::string, uint32_t> series_of_tuple;  // more
  std::vector<std::string_view> fields;
  std::vector<uint32_t> ids(nkeys);
  std::vector<double> values(1 + ncov);
  std::string tuple;
  std::string last_time_text;
  RawTime last_time{TimeKind::kInteger, 0};

  while (csv->Next(&fields)) {
    const int64_t line = csv->line();
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != ncol)
      throw InputError(opt.input + ":" + std::to_string(line) + ": expected " + std::to_string(ncol) +
                       " fields, found " + std::to_string(fields.size()));
    for (size_t k = 0; k < nkeys; ++k) {
      const std::string_view v = fields[key_cols_[k]];
      if (v.empty()) throw InputError(Where(opt.input, line, key_cols_[k]) + "empty key '" + opt.keys[k] + "'");
      const size_t known = interners_[k].values.size();
      ids[k] = interners_[k].Id(v);
      if (interners_[k].values.size() != known) {  // a new value: check it once
        if (const size_t bad = FirstBadByte(v); bad != std::string_view::npos)
          throw InputError(Where(opt.input, line, key_cols_[k]) + "key '" + opt.keys[k] + "' value '" + Printable(v) +
                           "' " + (v[bad] == '\0' ? "holds a NUL byte" : "is not valid UTF-8") + " (at byte " +
                           std::to_string(bad + 1) + ")");
        if (fit_ && !fit_->lake->keys.columns[k].is_text && !interners_[k].all_ints)
          throw InputError(Where(opt.input, line, key_cols_[k]) + "key '" + opt.keys[k] + "' value '" + Printable(v) +
                           "' is not an integer, and the lake " + fit_->lake_path + " stores key column '" +
                           opt.keys[k] + "' as integers");
      }
    }
    uint32_t sid;
    const auto next_sid = static_cast<uint32_t>(nseries_);
    if (nkeys <= 2) {
      const uint64_t pair = (static_cast<uint64_t>(ids[0]) << 32) | (nkeys == 2 ? ids[1] : 0u);
      sid = series_of_pair.try_emplace(pair, next_sid).first->second;
    } else {
      tuple.assign(reinterpret_cast<const char*>(ids.data()), nkeys * sizeof(uint32_t));
      sid = series_of_tuple.try_emplace(tuple, next_sid).first->second;
    }
    if (sid == next_sid) {
      series_keys_.insert(series_keys_.end(), ids.begin(), ids.end());
      ++nseries_;
      series_lo_.push_back(std::numeric_limits<int64_t>::max());
      series_hi_.push_back(std::numeric_limits<int64_t>::min());
    }

    const std::string_view tt = fields[time_col_];
    if (tt != last_time_text) {
      auto t = ParseTime(tt);
      if (!t)
        throw InputError(Where(opt.input, line, time_col_) + "cannot parse '" + Printable(tt) + "' in column '" +
                         opt.time + "' as a date (YYYY-MM-DD), datetime or integer period");
      if (t->kind == TimeKind::kDate && kind_ == TimeKind::kDateTime) t = RawTime{TimeKind::kDateTime, t->value * 86400};
      if (kind_ && *kind_ != t->kind) {
        if (*kind_ == TimeKind::kDate && t->kind == TimeKind::kDateTime) {
          ToSeconds();  // dates so far become midnights
        } else {
          throw InputError(Where(opt.input, line, time_col_) + "'" + Printable(tt) + "' in column '" + opt.time +
                           "' mixes integer periods with dates");
        }
      }
      if (!kind_) {
        kind_ = t->kind;
        first_time_ = t->value;
      }
      last_time = *t;
      last_time_text.assign(tt);
      time_line_.try_emplace(t->value, line);
    }
    if (!ParseNumber(fields[target_col_], &values[0]) || std::isinf(values[0]))
      throw InputError(Where(opt.input, line, target_col_) + "cannot parse '" + Printable(fields[target_col_]) +
                       "' in column '" + opt.target + "' as a number");
    for (size_t c = 0; c < ncov; ++c) {
      if (!ParseNumber(fields[cov_cols_[c]], &values[1 + c]) || std::isinf(values[1 + c]))
        throw InputError(Where(opt.input, line, cov_cols_[c]) + "cannot parse '" + Printable(fields[cov_cols_[c]]) +
                         "' in column '" + opt.covariates[c] + "' as a number");
    }
    series_lo_[sid] = std::min(series_lo_[sid], last_time.value);
    series_hi_[sid] = std::max(series_hi_[sid], last_time.value);
    if (rows_.size() == capacity_) Spill();
    char* row = rows_.Add();
    Store<uint32_t>(row + kRowSeries, sid);
    Store<int64_t>(row + kRowTime, last_time.value);
    Store<int64_t>(row + kRowLine, line);
    std::memcpy(row + kRowValues, values.data(), values.size() * sizeof(double));
    ++nrows_;
  }
}

// The first datetime after dates: every time so far becomes a midnight, in seconds. The runs already spilled
// keep their days (Run::days) and are converted as they are read back.
void LongCsv::ToSeconds() {
  kind_ = TimeKind::kDateTime;
  for (size_t i = 0; i < rows_.size(); ++i) Store<int64_t>(rows_.at(i) + kRowTime, RowTime(rows_.at(i)) * 86400);
  for (size_t s = 0; s < series_lo_.size(); ++s) series_lo_[s] *= 86400, series_hi_[s] *= 86400;
  std::unordered_map<int64_t, int64_t> seconds;
  for (const auto& [t, line] : time_line_) seconds.emplace(t * 86400, line);
  time_line_ = std::move(seconds);
  first_time_ *= 86400;
}

// Key columns stored as text: a column is text once one of its values is not an integer (appending: the lake's
// type).
std::vector<bool> LongCsv::TextColumns() const {
  std::vector<bool> text(interners_.size());
  for (size_t k = 0; k < text.size(); ++k)
    text[k] = (fit_ && fit_->lake->keys.columns[k].is_text) || !interners_[k].all_ints;
  return text;
}

// The rows in hand, sorted by series (in key order as far as the keys are known: later keys fall in between,
// keeping the order; see Resort) and time, as a new run at the end of the scratch file.
void LongCsv::Spill() {
  if (!scratch_)
    scratch_ = std::make_unique<ScratchFile>(ScratchFolder(opt_), "rows of " + opt_.input + " sorted by series");
  Run run;
  run.text = TextColumns();
  run.days = kind_ == TimeKind::kDate;
  run.rows = rows_.size();
  if (position_.size() != nseries_ || position_text_ != run.text) {  // new series since the last run, or types
    std::vector<std::vector<uint32_t>> value_order;
    for (size_t k = 0; k < interners_.size(); ++k) value_order.push_back(ValueOrder(interners_[k], run.text[k]));
    position_ = Positions(SeriesOrder(value_order, series_keys_));
    position_text_ = run.text;
  }
  run.offset = WriteSorted(SortRows(rows_, position_), scratch_->size());
  runs_.push_back(std::move(run));
  rows_.Clear();
}

// Writes the rows in hand in `order` to the scratch file at `offset` (its end: appended); returns the offset.
uint64_t LongCsv::WriteSorted(const std::vector<uint32_t>& order, uint64_t offset) {
  const size_t row_size = rows_.row_size();
  std::vector<char> staging(std::max<size_t>(1, kStagingBytes / row_size) * row_size);
  const uint64_t start = offset;
  size_t used = 0;
  auto flush = [&] {
    if (offset == scratch_->size()) scratch_->Append(staging.data(), used);
    else scratch_->Overwrite(offset, staging.data(), used);
    offset += used;
    used = 0;
  };
  for (const uint32_t i : order) {
    if (used == staging.size()) flush();
    std::memcpy(staging.data() + used, rows_.at(i), row_size);
    used += row_size;
  }
  flush();
  return start;
}

// A run sorted while a key column was still all integers, which has since turned out to be text: read back into
// memory (a run is never more than the rows in hand) and sorted again in the lake's order, in place.
void LongCsv::Resort(Run* run) {
  const size_t row_size = rows_.row_size();
  rows_.Clear();
  ScratchReader reader(*scratch_, run->offset, run->rows * row_size, row_size, kStagingBytes);
  while (const char* r = reader.Next()) std::memcpy(rows_.Add(), r, row_size);
  WriteSorted(SortRows(rows_, position_), run->offset);
  run->text = TextColumns();
  rows_.Clear();
}

const LakeIndex& LongCsv::Index(IngestSummary* summary) {
  const IngestOptions& opt = opt_;
  if (nrows_ == 0) throw InputError(opt.input + ":2: no data rows after the header");
  const TimeKind kind = *kind_;
  std::vector<int64_t> times;  // distinct, sorted
  times.reserve(time_line_.size());
  for (const auto& [t, line] : time_line_) times.push_back(t);
  std::sort(times.begin(), times.end());

  // Frequency: given, or inferred from the distinct times.
  Frequency freq;
  if (fit_) {
    freq = fit_->lake->frequency;
  } else if (opt.frequency) {
    freq = *opt.frequency;
  } else {
    auto inferred = InferFrequency(kind, times);
    if (!inferred)
      throw InputError(opt.input + ": cannot infer the frequency of column '" + opt.time + "'; give --freq");
    freq = *inferred;
  }
  int anchor = 0;
  if (fit_) {
    anchor = fit_->lake->weekly_anchor;
  } else if (freq == Frequency::kWeekly) {
    const int64_t days = kind == TimeKind::kDateTime ? first_time_ / 86400 : first_time_;
    anchor = static_cast<int>(((days % 7) + 7) % 7);
  }

  // Key columns: integer when every value is one, else text. Series sorted by their key tuples.
  LakeIndex& ix = ix_;
  const size_t nkeys = interners_.size(), nseries = nseries_;
  const std::vector<bool> text = TextColumns();
  std::vector<std::vector<uint32_t>> value_order(nkeys);
  for (size_t k = 0; k < nkeys; ++k) {
    const Interner& in = interners_[k];
    value_order[k] = ValueOrder(in, text[k]);
    KeyColumn col;
    col.name = opt.keys[k];
    col.is_text = text[k];
    if (!col.is_text) {
      const auto& order = value_order[k];
      for (size_t r = 1; r < order.size(); ++r)
        if (in.ints[order[r]] == in.ints[order[r - 1]])
          throw InputError(opt.input + ": key column '" + col.name + "' holds '" + in.values[order[r]] + "' and '" +
                           in.values[order[r - 1]] + "', the same integer written two ways");
    }
    ix.keys.columns.push_back(std::move(col));
  }
  const std::vector<uint32_t> order = SeriesOrder(value_order, series_keys_);
  position_ = Positions(order);
  position_text_ = text;
  // Final key columns in sorted series order.
  for (size_t k = 0; k < nkeys; ++k) {
    KeyColumn& col = ix.keys.columns[k];
    for (size_t i = 0; i < nseries; ++i) {
      const uint32_t id = series_keys_[order[i] * nkeys + k];
      if (col.is_text) col.texts.push_back(interners_[k].values[id]);
      else col.ints.push_back(interners_[k].ints[id]);
    }
  }

  // Every time on the grid: the first row (by line) whose time is not is the error.
  int64_t off_grid = std::numeric_limits<int64_t>::max();
  for (const auto& [t, line] : time_line_)
    if (line < off_grid && !ToPeriod(RawTime{kind, t}, freq, anchor)) off_grid = line;
  if (off_grid != std::numeric_limits<int64_t>::max()) {
    throw InputError(Where(opt.input, off_grid, time_col_) + "time in column '" + opt.time +
                     "' is not on the grid of frequency " + std::string(1, FrequencyCode(freq)) +
                     (freq == Frequency::kWeekly ? " (weeks start on " + FormatPeriod(freq, 0, anchor) + "'s weekday)" : ""));
  }

  // Spans per series, in key order.
  ix.offsets.assign(nseries + 1, 0);
  ix.start.resize(nseries);
  // Checked arithmetic: integer periods far apart (int64's extremes, say) must not wrap around.
  const auto limit = static_cast<int64_t>(4 * nrows_ + 1000000);
  double span = 0;  // for the message only
  bool too_long = false;
  for (size_t s = 0; s < nseries; ++s) {
    const uint32_t sid = order[s];
    const int64_t lo = *ToPeriod(RawTime{kind, series_lo_[sid]}, freq, anchor);
    const int64_t hi = *ToPeriod(RawTime{kind, series_hi_[sid]}, freq, anchor);
    ix.start[s] = lo;
    span += static_cast<double>(hi) - static_cast<double>(lo) + 1;
    int64_t len = 0;
    too_long = too_long || __builtin_sub_overflow(hi, lo, &len) || len >= limit ||
               __builtin_add_overflow(ix.offsets[s], len + 1, &ix.offsets[s + 1]) || ix.offsets[s + 1] > limit;
  }
  if (too_long) {
    char text_span[32];
    std::snprintf(text_span, sizeof text_span, "%.0f", span);
    throw InputError(opt.input + ": the rows span " + text_span + " periods at frequency " +
                     std::string(1, FrequencyCode(freq)) + " for " + std::to_string(nrows_) +
                     " rows; is --freq right?");
  }
  const auto total = static_cast<size_t>(ix.offsets[nseries]);
  if (fit_) {
    fit_->slot_line.assign(total, 0);
    fit_->target_col = target_col_;
    fit_->cov_cols = cov_cols_;
  }
  ix.frequency = freq;
  ix.weekly_anchor = anchor;
  ix.season_lengths = fit_                          ? fit_->lake->season_lengths
                      : opt.season_lengths.empty() ? DefaultSeasonLengths(freq)
                                                   : opt.season_lengths;
  ix.time_column = opt.time;
  ix.target_column = opt.target;
  ix.covariates = opt.covariates;

  summary->rows = nrows_;
  summary->series = static_cast<int64_t>(nseries);
  summary->periods = static_cast<int64_t>(total);
  summary->frequency = freq;
  return ix;
}

void LongCsv::Merge(SlotSink* sink, IngestSummary* summary) {
  const LakeIndex& ix = ix_;
  const size_t row_size = rows_.row_size();
  const std::vector<bool> text = TextColumns();
  bool resort = false;
  for (const Run& run : runs_) resort = resort || run.text != text;
  // The rows in hand join the runs on scratch when memory is wanted for reading those back (or for sorting one
  // of them again).
  const size_t buffer =
      std::max<size_t>(row_size, static_cast<size_t>(std::min<uint64_t>(budget_ / (2 * (runs_.size() + 1)), kStagingBytes)));
  if (!runs_.empty() && rows_.size() > 0 &&
      (resort || rows_.size() * (row_size + sizeof(uint32_t)) + runs_.size() * buffer > budget_))
    Spill();
  for (Run& run : runs_)
    if (run.text != text) Resort(&run);
  rows_.Trim();
  summary->runs = static_cast<int64_t>(runs_.size());
  summary->spilled_bytes = scratch_ ? static_cast<int64_t>(scratch_->size()) : 0;

  // The runs in input order: the spilled ones, then the rows in hand.
  std::vector<RunCursor> cursors;
  for (const Run& run : runs_)
    cursors.emplace_back(*scratch_, run, row_size, buffer, run.days && *kind_ == TimeKind::kDateTime);
  const std::vector<uint32_t> in_hand = SortRows(rows_, position_);
  if (rows_.size() > 0) cursors.emplace_back(rows_, in_hand);

  const TimeKind kind = *kind_;
  constexpr size_t kNone = std::numeric_limits<size_t>::max();
  size_t last_slot = kNone;
  int64_t first = 0, second = 0;  // the smallest lines of the rows of the last slot
  struct Duplicate {
    int64_t line = std::numeric_limits<int64_t>::max(), first = 0, period = 0;
    size_t series = 0;
  } duplicate;  // the one whose row comes first in the input
  int64_t known = 0;  // rows with a target
  auto put = [&](const char* row) {
    const uint32_t s = position_[RowSeries(row)];
    const auto period = ToPeriod(RawTime{kind, RowTime(row)}, ix.frequency, ix.weekly_anchor);
    const auto slot = static_cast<size_t>(ix.offsets[s] + (period.value_or(0) - ix.start[s]));
    if (!period || slot >= static_cast<size_t>(ix.offsets[s + 1]) || (last_slot != kNone && slot < last_slot))
      throw std::logic_error(opt_.input + ": line " + std::to_string(RowLine(row)) + " merged out of order");
    const int64_t line = RowLine(row);
    if (slot != last_slot) {
      last_slot = slot;
      first = line;
      second = std::numeric_limits<int64_t>::max();
    } else {
      if (line < first) second = first, first = line;
      else second = std::min(second, line);
      if (second < duplicate.line) duplicate = {second, first, *period, s};
    }
    known += !std::isnan(RowValue(row, 0));
    sink->Put(slot, row);
  };
  if (cursors.size() == 1) {
    while (const char* row = cursors[0].Next()) put(row);
  } else {
    // k-way merge by (position, time, run): runs earlier in the input first among equals.
    struct Head {
      uint32_t position;
      int64_t time;
      uint32_t cursor;
      const char* row;
      bool operator>(const Head& o) const {
        return position != o.position ? position > o.position : time != o.time ? time > o.time : cursor > o.cursor;
      }
    };
    std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
    auto push = [&](uint32_t c) {
      if (const char* row = cursors[c].Next()) heads.push({position_[RowSeries(row)], RowTime(row), c, row});
    };
    for (uint32_t c = 0; c < cursors.size(); ++c) push(c);
    while (!heads.empty()) {
      const Head h = heads.top();
      heads.pop();
      put(h.row);
      push(h.cursor);
    }
  }
  sink->Finish();
  if (duplicate.line != std::numeric_limits<int64_t>::max())
    throw InputError(opt_.input + ":" + std::to_string(duplicate.line) + ": duplicate (" + ix.keys.Describe(duplicate.series) +
                     ", " + FormatPeriod(ix.frequency, duplicate.period, ix.weekly_anchor) + "), first seen at line " +
                     std::to_string(duplicate.first));
  summary->missing = summary->periods - known;
}

// The rows into a lake in memory (and, appending, the line of each slot's row).
class MemorySink : public SlotSink {
 public:
  MemorySink(LakeData* lake, Fit* fit) : lake_(lake), fit_(fit) {}
  void Put(size_t slot, const char* row) override {
    lake_->target[slot] = RowValue(row, 0);
    for (size_t c = 0; c < lake_->covariates.size(); ++c) lake_->covariates[c][slot] = RowValue(row, 1 + c);
    if (fit_) fit_->slot_line[slot] = RowLine(row);
  }

 private:
  LakeData* lake_;
  Fit* fit_;
};

// The rows into a lake file, a chunk of each value column at a time (empty slots NaN).
class WriterSink : public SlotSink {
 public:
  WriterSink(LakeWriter* writer, size_t columns, size_t total)
      : writer_(writer), chunk_(writer->chunk_rows()), total_(total), columns_(columns) {
    for (auto& c : columns_) c.assign(chunk_, kNaN);
  }
  void Put(size_t slot, const char* row) override {
    while (slot >= base_ + chunk_) Flush();
    for (size_t c = 0; c < columns_.size(); ++c) columns_[c][slot - base_] = RowValue(row, c);
  }
  void Finish() override {
    while (base_ < total_) Flush();
  }

 private:
  void Flush() {
    const size_t n = std::min(chunk_, total_ - base_);
    std::vector<const double*> covariates;
    for (size_t c = 1; c < columns_.size(); ++c) covariates.push_back(columns_[c].data());
    writer_->Write(n, columns_[0].data(), covariates);
    for (auto& c : columns_) std::fill(c.begin(), c.end(), kNaN);
    base_ += n;
  }
  LakeWriter* writer_;
  size_t chunk_, total_, base_ = 0;
  std::vector<std::vector<double>> columns_;  // the target, then the covariates
};

LakeData ReadCsv(const IngestOptions& opt, IngestSummary* summary, Fit* fit) {
  LongCsv csv(opt, fit);
  LakeData lake;
  lake.index = csv.Index(summary);
  const auto total = static_cast<size_t>(lake.index.offsets.back());
  lake.target.assign(total, kNaN);
  lake.covariates.assign(opt.covariates.size(), std::vector<double>(total, kNaN));
  MemorySink sink(&lake, fit);
  csv.Merge(&sink, summary);
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
  LongCsv csv(options, nullptr);
  const LakeIndex& ix = csv.Index(&summary);
  LakeWriter writer(options.out, ix, provenance);
  WriterSink sink(&writer, 1 + ix.covariates.size(), static_cast<size_t>(ix.offsets.back()));
  csv.Merge(&sink, &summary);
  writer.Commit();
  return summary;
}

}  // namespace mm

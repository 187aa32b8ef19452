#include "manymodels/io/ingest.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <compare>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <queue>
#include <span>
#include <stdexcept>
#include <unordered_map>

#include "manymodels/core/bytes.h"
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
  uint64_t text_bytes = 0;  // the values' characters kept outside their std::string (longer than 15)
  // The value's id, a new one if it is new; kFull for a new value when `limit` values are known.
  uint32_t Id(std::string_view s, uint64_t limit) {
    auto it = ids.find(s);
    if (it != ids.end()) return it->second;
    if (values.size() >= limit) return kFull;
    const auto id = static_cast<uint32_t>(values.size());
    values.emplace_back(s);
    ids.emplace(values.back(), id);
    int64_t v = 0;
    all_ints = ParseInt(s, &v) && all_ints;
    ints.push_back(v);
    if (s.size() > 15) text_bytes += s.size() + 1;
    return id;
  }
  // The bytes it holds: each value twice (the list and the map's key), its integer, the map's node and
  // bucket.
  uint64_t Bytes() const {
    return values.capacity() * sizeof(std::string) + ints.capacity() * sizeof(int64_t) + 2 * text_bytes +
           ids.size() * (sizeof(std::string) + 32) + ids.bucket_count() * sizeof(void*);
  }
  static constexpr uint32_t kFull = std::numeric_limits<uint32_t>::max();
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

// Rows and messages name a line of one of the input files by one number, its code: the file's index (in the
// order --input gives them), then the line. Codes compare as the lines of the files read one after the other.
constexpr int kLineBits = 40;
int64_t LineCode(size_t file, int64_t line) { return (static_cast<int64_t>(file) << kLineBits) | line; }
size_t FileOf(int64_t code) { return static_cast<size_t>(code >> kLineBits); }
int64_t LineOf(int64_t code) { return code & ((int64_t{1} << kLineBits) - 1); }

// An InputError about one line of the input (its code): across ranks, the one that comes first is reported.
class LineError : public InputError {
 public:
  LineError(int64_t code, const std::string& message) : InputError(message), code_(code) {}
  int64_t code() const { return code_; }

 private:
  int64_t code_;
};

// A part of the input that one rank reads: the whole file `file` (plain or gzip), or bytes [begin, end) of a
// plain one, starting at the file's line `line`.
struct Piece {
  size_t file = 0;
  bool whole = true;
  uint64_t begin = 0, end = 0;
  int64_t line = 1;
};

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

std::vector<std::string> InputFiles(const std::string& input) {
  std::vector<std::string> files;
  for (size_t at = 0; at <= input.size();) {
    size_t comma = input.find(',', at);
    if (comma == std::string::npos) comma = input.size();
    const std::string part = input.substr(at, comma - at);
    at = comma + 1;
    if (part.empty()) continue;
    if (part.find_first_of("*?[") == std::string::npos) {
      files.push_back(part);
      continue;
    }
    glob_t g{};
    const int rc = ::glob(part.c_str(), 0, nullptr, &g);
    for (size_t i = 0; rc == 0 && i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
    globfree(&g);
    if (rc != 0) throw InputError(part + ": no file matches this pattern (--input)");
  }
  if (files.empty()) throw InputError("--input '" + input + "' names no file");
  return files;
}

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
  void Trim() { Keep(size_); }
  // Frees the blocks beyond those `rows` rows need (kept from an earlier, larger run).
  void Keep(size_t rows) {
    blocks_.resize(std::min(blocks_.size(), (std::max(rows, size_) + kBlockRows - 1) / kBlockRows));
  }

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

// One sorted stream of rows being merged, each row with the position of its series in the lake's order.
class RowStream {
 public:
  virtual ~RowStream() = default;
  // The next row, valid until the next call, and its position; nullptr after the last.
  virtual const char* Next(uint32_t* position) = 0;
};

// Rows [begin, end) of one sorted run of this rank's rows: the rows in hand, through their order, or a run
// read back from scratch; `position` maps their series ids to positions.
class RunCursor : public RowStream {
 public:
  RunCursor(const RowBuffer& rows, const std::vector<uint32_t>& order, const std::vector<uint32_t>& position,
            size_t begin, size_t end)
      : position_(&position), rows_(&rows), order_(&order), next_(begin), end_(end) {}
  RunCursor(const ScratchFile& file, const Run& run, size_t row_size, size_t buffer, bool to_seconds,
            const std::vector<uint32_t>& position, uint64_t begin, uint64_t end)
      : position_(&position),
        reader_(std::make_unique<ScratchReader>(file, run.offset + begin * row_size, (end - begin) * row_size,
                                                row_size, buffer)),
        row_(to_seconds ? row_size : 0) {}
  const char* Next(uint32_t* position) override {
    const char* r = NextRow();
    if (r) *position = (*position_)[RowSeries(r)];
    return r;
  }

 private:
  const char* NextRow() {
    if (!reader_) return next_ < end_ ? rows_->at((*order_)[next_++]) : nullptr;
    const char* r = reader_->Next();
    if (!r || row_.empty()) return r;
    std::memcpy(row_.data(), r, row_.size());
    Store<int64_t>(row_.data() + kRowTime, RowTime(r) * 86400);
    return row_.data();
  }
  const std::vector<uint32_t>* position_;
  const RowBuffer* rows_ = nullptr;
  const std::vector<uint32_t>* order_ = nullptr;
  size_t next_ = 0, end_ = 0;
  std::unique_ptr<ScratchReader> reader_;
  std::vector<char> row_;  // a row whose date became a datetime (midnight)
};

// A row's place in a merge of sorted streams: by (position, time), then by stream, earlier streams first.
struct MergeKey {
  uint32_t position;
  int64_t time;
  uint32_t stream;
  bool operator>(const MergeKey& o) const {
    return position != o.position ? position > o.position
           : time != o.time       ? time > o.time
                                  : stream > o.stream;
  }
};

// The rows of several sorted streams as one, in the lake's order (MergeKey).
class MergedStream : public RowStream {
 public:
  explicit MergedStream(std::vector<std::unique_ptr<RowStream>> streams) : streams_(std::move(streams)) {
    if (streams_.size() > 1)
      for (uint32_t c = 0; c < streams_.size(); ++c) Push(c);
  }
  const char* Next(uint32_t* position) override {
    if (streams_.size() == 1) return streams_[0]->Next(position);
    // The stream of the row returned last moves on only now: its row stayed valid until this call.
    if (last_ != kNone) Push(last_);
    last_ = kNone;
    if (heads_.empty()) return nullptr;
    const Head h = heads_.top();
    heads_.pop();
    last_ = h.key.stream;
    *position = h.key.position;
    return h.row;
  }

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  struct Head {
    MergeKey key;
    const char* row;
    bool operator>(const Head& o) const { return key > o.key; }
  };
  void Push(uint32_t c) {
    uint32_t position = 0;
    if (const char* row = streams_[c]->Next(&position)) heads_.push({{position, RowTime(row), c}, row});
  }
  std::vector<std::unique_ptr<RowStream>> streams_;
  std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads_;
  uint32_t last_ = kNone;
};

// How a row's time becomes a period of the lake's grid, and the first slot of a range of the lake as a key
// rows compare with: the position of its series and its period (positions past the last series: the end).
struct Grid {
  TimeKind kind = TimeKind::kInteger;
  Frequency frequency = Frequency::kDaily;
  int anchor = 0;
  int64_t Period(const char* row) const {
    return ToPeriod(RawTime{kind, RowTime(row)}, frequency, anchor).value_or(0);  // checked by Index
  }
};
struct SlotKey {
  uint32_t position = 0;
  int64_t period = 0;
  auto operator<=>(const SlotKey&) const = default;
};

// Where Merge puts each row: its slot in the lake's value columns. Slots come in ascending order; a duplicate
// row repeats its slot.
class SlotSink {
 public:
  virtual ~SlotSink() = default;
  virtual void Put(size_t slot, const char* row) = 0;
  virtual void Finish() {}  // after the last row
};

// Two rows for one slot: the one whose line comes second in the input (`line`), the first one's line, and the
// slot's series (its position in the lake) and period. Of several, the one with the earliest `line` is
// reported.
struct Duplicate {
  int64_t line = std::numeric_limits<int64_t>::max(), first = 0, period = 0;
  uint32_t series = 0;
  explicit operator bool() const { return line != std::numeric_limits<int64_t>::max(); }
  void Keep(const Duplicate& o) {
    if (o.line < line) *this = o;
  }
  void Put(ByteWriter* w) const { w->PutI64(line), w->PutI64(first), w->PutI64(period), w->PutU64(series); }
  static Duplicate Get(ByteReader* r) {
    Duplicate d;
    d.line = r->GetI64(), d.first = r->GetI64(), d.period = r->GetI64();
    d.series = static_cast<uint32_t>(r->GetU64());
    return d;
  }
};

// Puts the merged rows of the lake's series [first, first + start.size()) in their slots (`offsets` holds one
// more than `start`: the slot after the last), checking that they come in order, counting those with a target
// and finding duplicates.
class Placer {
 public:
  Placer(const Grid& grid, uint32_t first, std::span<const int64_t> offsets, std::span<const int64_t> start,
         SlotSink* sink)
      : grid_(grid), first_(first), offsets_(offsets), start_(start), sink_(sink) {}
  void Put(const char* row, uint32_t position) {
    const int64_t line = RowLine(row);
    const auto period = ToPeriod(RawTime{grid_.kind, RowTime(row)}, grid_.frequency, grid_.anchor);
    const size_t s = position - first_;
    if (position < first_ || s >= start_.size() || !period || *period < start_[s] ||
        *period - start_[s] >= offsets_[s + 1] - offsets_[s])
      OutOfOrder(line);
    const auto slot = static_cast<size_t>(offsets_[s] + (*period - start_[s]));
    if (last_slot_ != kNone && slot < last_slot_) OutOfOrder(line);
    if (slot != last_slot_) {
      last_slot_ = slot;
      first_line_ = line;
      second_line_ = std::numeric_limits<int64_t>::max();
    } else {
      if (line < first_line_)
        second_line_ = first_line_, first_line_ = line;
      else
        second_line_ = std::min(second_line_, line);
      if (second_line_ < duplicate_.line) duplicate_ = {second_line_, first_line_, *period, position};
    }
    known_ += !std::isnan(RowValue(row, 0));
    sink_->Put(slot, row);
  }
  const Duplicate& duplicate() const { return duplicate_; }
  int64_t known() const { return known_; }  // rows with a target

 private:
  [[noreturn]] static void OutOfOrder(int64_t line) {
    throw std::logic_error("ingest: the row of line " + std::to_string(LineOf(line)) + " of input file " +
                           std::to_string(FileOf(line) + 1) + " was merged out of order");
  }
  static constexpr size_t kNone = std::numeric_limits<size_t>::max();
  Grid grid_;
  uint32_t first_;
  std::span<const int64_t> offsets_, start_;
  SlotSink* sink_;
  size_t last_slot_ = kNone;
  int64_t first_line_ = 0, second_line_ = 0;  // the smallest lines of the rows of the last slot
  Duplicate duplicate_;
  int64_t known_ = 0;
};

// The rows of slots [begin, end) of the lake (begin a multiple of `chunk`), a chunk of each value column at a
// time (empty slots NaN), handed to `flush` with the slot of the chunk's first value and its length.
class ChunkSink : public SlotSink {
 public:
  using Output = std::function<void(size_t first, size_t n, const std::vector<std::vector<double>>& columns)>;
  ChunkSink(size_t chunk, size_t columns, size_t begin, size_t end, Output flush)
      : chunk_(chunk), base_(begin), end_(end), columns_(columns), flush_(std::move(flush)) {
    for (auto& c : columns_) c.assign(chunk_, kNaN);
  }
  void Put(size_t slot, const char* row) override {
    while (slot >= base_ + chunk_) Flush();
    for (size_t c = 0; c < columns_.size(); ++c) columns_[c][slot - base_] = RowValue(row, c);
  }
  void Finish() override {
    while (base_ < end_) Flush();
  }

 private:
  void Flush() {
    const size_t n = std::min(chunk_, end_ - base_);
    flush_(base_, n, columns_);
    for (auto& c : columns_) std::fill(c.begin(), c.end(), kNaN);
    base_ += n;
  }
  size_t chunk_, base_, end_;
  std::vector<std::vector<double>> columns_;  // the target, then the covariates
  Output flush_;
};

// ------------------------------------------------------------------ the input
// Ingest's reading of a long CSV, in one pass over the file: the constructor parses and checks every row as
// it comes, holding the rows in memory up to RowBudget(--memory) and sorting them into runs on a scratch file
// each time they reach it; Index then decides what needs the whole input (the frequency, the key columns'
// types and order, the grid, each series' span) from the key index and the distinct times alone; Merge hands
// every row, in the lake's order, to a sink. With no run spilled the rows in hand are the one run: the same
// code, checks and messages whatever the number of runs.
//
// Across ranks each rank makes one of the parts of the input it reads (Piece); rank 0 takes in the others'
// key indexes (Export, Absorb) before Index, the others sort their rows by the lake's order (Adopt); then
// each rank hands the rows of each rank's range of slots to that rank (Prepare, Rows), which places them
// (Placer).
class LongCsv {
 public:
  // Reads every file's header; Read then parses the parts of the input given (a rank's), in input order.
  LongCsv(const IngestOptions& opt, Fit* fit, std::vector<std::string> files);
  void Read(const std::vector<Piece>& pieces);
  const LakeIndex& Index(IngestSummary* summary);
  void Merge(SlotSink* sink, IngestSummary* summary);
  // The error of a duplicate found placing the rows (rank 0, after Index).
  LineError DuplicateError(const Duplicate& d) const;

  // Across ranks. The first row of this rank's part: its line code (none: INT64_MAX), time kind and text.
  struct First {
    int64_t line = std::numeric_limits<int64_t>::max();
    TimeKind kind = TimeKind::kInteger;
    std::string text;
  };
  First first() const {
    return {kind_ ? first_line_ : std::numeric_limits<int64_t>::max(), kind_.value_or(TimeKind::kInteger),
            first_text_};
  }
  // The error of a first row whose kind of time (integer or date) is not the first row's of the input.
  LineError MixedKinds(int64_t line, std::string_view text) const;
  // Throws the error of more than opt.max_series `what` (at `line`, or -1: the input as a whole).
  [[noreturn]] void TooMany(int64_t line, const std::string& what) const;
  // This rank's rows and key index, for rank 0 (Export), which adds them to its own (Absorb) and tells each
  // series of the sender its position in the lake (PositionsOf, for Adopt).
  void Export(ByteWriter* out) const;
  std::vector<uint32_t> Absorb(ByteReader* in, const First& first);
  std::vector<uint32_t> PositionsOf(const std::vector<uint32_t>& sids) const;
  TimeKind kind() const { return kind_.value_or(TimeKind::kInteger); }
  std::vector<bool> KeyTypes() const { return TextColumns(); }
  // Not rank 0: the lake's decisions this rank's rows follow (its grid, the key types, the position in the
  // lake of each of this rank's series).
  void Adopt(const Grid& grid, const std::vector<bool>& text, std::vector<uint32_t> position);
  // Readies the rows for reading, `ways` streams at once (spilling the rows in hand if need be); returns each
  // run cursor's read buffer. Then Rows: this rank's rows from slot key `from` to `to` (none: from the first,
  // to the last), in the lake's order, with their positions (in this rank's order: LakePosition gives the
  // lake's). The runs spilled and their bytes, for the summary.
  size_t Prepare(size_t ways);
  std::unique_ptr<RowStream> Rows(size_t buffer, const SlotKey* from, const SlotKey* to);
  uint32_t LakePosition(uint32_t p) const { return lake_position_.empty() ? p : lake_position_[p]; }
  const Grid& grid() const { return grid_; }
  int64_t runs() const { return static_cast<int64_t>(runs_.size()); }
  int64_t spilled_bytes() const { return scratch_ ? static_cast<int64_t>(scratch_->size()) : 0; }

 private:
  struct Columns {  // of one input file
    size_t count = 0, time = 0, target = 0;
    std::vector<size_t> keys, covariates;
  };
  Columns Header(size_t file) const;
  uint32_t SeriesId(const std::vector<uint32_t>& ids);
  void Parse(CsvReader* csv, size_t file);
  template <typename Key>
  static uint64_t LowerBound(uint64_t n, const SlotKey& key, Key key_of);
  std::string Line(int64_t code) const { return files_[FileOf(code)] + ":" + std::to_string(LineOf(code)); }
  std::string Where(int64_t code, size_t column) const {
    return Line(code) + ":" + std::to_string(column + 1) + ": ";
  }
  void ToSeconds();
  std::vector<bool> TextColumns() const;
  uint64_t IndexBytes() const;
  uint64_t RowBytes() const;
  size_t RowCapacity() const {
    return static_cast<size_t>(std::clamp<uint64_t>(RowBytes() / (rows_.row_size() + sizeof(uint32_t)), 1,
                                                    std::numeric_limits<uint32_t>::max()));
  }
  void Spill();
  void Resort(Run* run);
  uint64_t WriteSorted(const std::vector<uint32_t>& order, uint64_t offset);

  const IngestOptions& opt_;
  Fit* fit_;
  std::vector<std::string> files_;
  std::vector<Columns> columns_;  // of each file
  // Keys: series identified by their tuple of interned key ids.
  std::vector<Interner> interners_;
  std::unordered_map<uint64_t, uint32_t> series_of_pair_;      // up to two key columns
  std::unordered_map<std::string, uint32_t> series_of_tuple_;  // more
  std::string tuple_;
  std::vector<uint32_t> series_keys_;               // series s -> its key ids, at s * nkeys
  size_t nseries_ = 0;
  std::vector<int64_t> series_lo_, series_hi_;      // series -> first and last raw time
  // Times: every distinct raw time and the line it first appears on; the kind, and the first row's.
  std::unordered_map<int64_t, int64_t> time_line_;
  std::optional<TimeKind> kind_;
  int64_t first_time_ = 0, first_line_ = 0;
  std::string first_text_;
  std::optional<std::vector<bool>> text_;  // the key columns' types, decided elsewhere (Adopt)
  int64_t nrows_ = 0;
  // Rows: those in hand, and the sorted runs spilled.
  uint64_t budget_;
  size_t capacity_;  // rows in hand at most
  RowBuffer rows_;
  std::unique_ptr<ScratchFile> scratch_;
  std::vector<Run> runs_;
  // Index's decisions, for Merge (the grid also Adopt's).
  LakeIndex ix_;
  Grid grid_;
  // Series id -> position in key order: the lake's once Index has run, before that the last run's (under the
  // key types position_text_).
  std::vector<uint32_t> position_;
  std::vector<bool> position_text_;
  std::vector<uint32_t> in_hand_;        // the order of the rows in hand, merging
  std::vector<uint32_t> lake_position_;  // Adopt: position_ -> position in the lake
};

LongCsv::LongCsv(const IngestOptions& opt, Fit* fit, std::vector<std::string> files)
    : opt_(opt),
      fit_(fit),
      files_(std::move(files)),
      budget_(RowBudget(opt.memory)),
      capacity_(0),
      rows_(RowSize(opt.covariates.size())) {
  capacity_ = RowCapacity();
  CheckColumnOptions(opt);
  for (const auto& k : opt.keys)
    if (k.find('/') != std::string::npos || k.empty())
      throw LineError(LineCode(0, 1), files_[0] + ":1: bad key column name '" + k + "'");
  // Every file's header, read by every rank: a header error is the same on each.
  for (size_t f = 0; f < files_.size(); ++f) columns_.push_back(Header(f));
  interners_.resize(opt.keys.size());
}

void LongCsv::Read(const std::vector<Piece>& pieces) {
  std::vector<std::string_view> fields;
  for (const Piece& piece : pieces) {
    const std::string& path = files_[piece.file];
    std::unique_ptr<CsvReader> csv =
        piece.whole ? std::make_unique<CsvReader>(path)
                    : std::make_unique<CsvReader>(path, piece.begin, piece.end, piece.line);
    if (piece.begin == 0) csv->Next(&fields);  // the header
    Parse(csv.get(), piece.file);
  }
}

LongCsv::Columns LongCsv::Header(size_t file) const {
  const IngestOptions& opt = opt_;
  const std::string& path = files_[file];
  const int64_t first = LineCode(file, 1);
  CsvReader csv(path);
  std::vector<std::string_view> fields;
  if (!csv.Next(&fields) || (fields.size() == 1 && fields[0].empty()))
    throw LineError(first, path + ":1: empty file (no header line)");
  const std::vector<std::string> header(fields.begin(), fields.end());
  {
    std::unordered_map<std::string_view, size_t> seen;
    for (size_t i = 0; i < header.size(); ++i) {
      const auto [it, fresh] = seen.try_emplace(header[i], i);
      if (!fresh)
        throw LineError(first, Where(first, i) + "duplicate column name '" + Printable(header[i]) +
                                   "' (columns " + std::to_string(it->second + 1) + " and " +
                                   std::to_string(i + 1) + ")");
    }
  }
  auto column = [&](const std::string& name, const char* role) -> size_t {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      std::string cols;
      for (const auto& h : header) cols += (cols.empty() ? "" : ", ") + Printable(h);
      throw LineError(first, path + ":1: no " + role + " column named '" + Printable(name) +
                                 "' in the header (columns: " + cols + ")");
    }
    return static_cast<size_t>(it - header.begin());
  };
  Columns c;
  c.count = header.size();
  for (const auto& k : opt.keys) c.keys.push_back(column(k, "key"));
  c.time = column(opt.time, "time");
  c.target = column(opt.target, "target");
  for (const auto& v : opt.covariates) c.covariates.push_back(column(v, "covariate"));
  return c;
}

LineError LongCsv::MixedKinds(int64_t line, std::string_view text) const {
  return LineError(line, Where(line, columns_[FileOf(line)].time) + "'" + Printable(text) + "' in column '" +
                             opt_.time + "' mixes integer periods with dates");
}

void LongCsv::TooMany(int64_t line, const std::string& what) const {
  const std::string message =
      "more than " + std::to_string(opt_.max_series) + " " + what +
      ": the most one ingest takes (32-bit ids; the key index holds about 100 bytes a series)";
  if (line < 0) throw InputError(opt_.input + ": " + message);
  throw LineError(line, Line(line) + ": " + message);
}

// The id of the series with these key ids, a new one if they are new; Interner::kFull for new ones when
// opt.max_series are known.
uint32_t LongCsv::SeriesId(const std::vector<uint32_t>& ids) {
  const size_t nkeys = ids.size();
  const auto next_sid = static_cast<uint32_t>(nseries_);
  auto find_or_add = [&](auto& map, const auto& key) {
    const auto [it, fresh] = map.try_emplace(key, next_sid);
    if (!fresh || nseries_ < opt_.max_series) return it->second;
    map.erase(it);  // one series too many
    return Interner::kFull;
  };
  uint32_t sid;
  if (nkeys <= 2) {
    sid = find_or_add(series_of_pair_, (static_cast<uint64_t>(ids[0]) << 32) | (nkeys == 2 ? ids[1] : 0u));
  } else {
    tuple_.assign(reinterpret_cast<const char*>(ids.data()), nkeys * sizeof(uint32_t));
    sid = find_or_add(series_of_tuple_, tuple_);
  }
  if (sid == next_sid) {
    series_keys_.insert(series_keys_.end(), ids.begin(), ids.end());
    ++nseries_;
    series_lo_.push_back(std::numeric_limits<int64_t>::max());
    series_hi_.push_back(std::numeric_limits<int64_t>::min());
  }
  return sid;
}

void LongCsv::Parse(CsvReader* csv, size_t file) {
  const IngestOptions& opt = opt_;
  const Columns& col = columns_[file];
  const size_t nkeys = col.keys.size(), ncov = col.covariates.size(), ncol = col.count;
  std::vector<std::string_view> fields;
  std::vector<uint32_t> ids(nkeys);
  std::vector<double> values(1 + ncov);
  std::string last_time_text;
  RawTime last_time{TimeKind::kInteger, 0};

  for (;;) {
    try {
      if (!csv->Next(&fields)) break;
    } catch (
        const InputError& e) {  // a quoted field not closed, a gzip error: at the line after the last read
      throw LineError(LineCode(file, csv->line() + 1), e.what());
    }
    const int64_t line = LineCode(file, csv->line());
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != ncol)
      throw LineError(line, Line(line) + ": expected " + std::to_string(ncol) + " fields, found " +
                                std::to_string(fields.size()));
    for (size_t k = 0; k < nkeys; ++k) {
      const std::string_view v = fields[col.keys[k]];
      if (v.empty()) throw LineError(line, Where(line, col.keys[k]) + "empty key '" + opt.keys[k] + "'");
      const size_t known = interners_[k].values.size();
      ids[k] = interners_[k].Id(v, opt.max_series);
      if (ids[k] == Interner::kFull) TooMany(line, "distinct values in key column '" + opt.keys[k] + "'");
      if (interners_[k].values.size() != known) {  // a new value: check it once
        if (const size_t bad = FirstBadByte(v); bad != std::string_view::npos)
          throw LineError(line, Where(line, col.keys[k]) + "key '" + opt.keys[k] + "' value '" +
                                    Printable(v) + "' " +
                                    (v[bad] == '\0' ? "holds a NUL byte" : "is not valid UTF-8") +
                                    " (at byte " + std::to_string(bad + 1) + ")");
        if (fit_ && !fit_->lake->keys.columns[k].is_text && !interners_[k].all_ints)
          throw LineError(line, Where(line, col.keys[k]) + "key '" + opt.keys[k] + "' value '" +
                                    Printable(v) + "' is not an integer, and the lake " + fit_->lake_path +
                                    " stores key column '" + opt.keys[k] + "' as integers");
      }
    }
    const uint32_t sid = SeriesId(ids);
    if (sid == Interner::kFull) TooMany(line, "series (distinct keys)");

    const std::string_view tt = fields[col.time];
    if (tt != last_time_text) {
      auto t = ParseTime(tt);
      if (!t)
        throw LineError(line, Where(line, col.time) + "cannot parse '" + Printable(tt) + "' in column '" +
                                  opt.time + "' as a date (YYYY-MM-DD), datetime or integer period");
      if (t->kind == TimeKind::kDate && kind_ == TimeKind::kDateTime) t = RawTime{TimeKind::kDateTime, t->value * 86400};
      if (kind_ && *kind_ != t->kind) {
        if (*kind_ == TimeKind::kDate && t->kind == TimeKind::kDateTime) {
          ToSeconds();  // dates so far become midnights
        } else {
          throw MixedKinds(line, tt);
        }
      }
      if (!kind_) {
        kind_ = t->kind;
        first_time_ = t->value;
        first_line_ = line;
        first_text_.assign(tt);
      }
      last_time = *t;
      last_time_text.assign(tt);
      time_line_.try_emplace(t->value, line);
    }
    if (!ParseNumber(fields[col.target], &values[0]) || std::isinf(values[0]))
      throw LineError(line, Where(line, col.target) + "cannot parse '" + Printable(fields[col.target]) +
                                "' in column '" + opt.target + "' as a number");
    for (size_t c = 0; c < ncov; ++c) {
      if (!ParseNumber(fields[col.covariates[c]], &values[1 + c]) || std::isinf(values[1 + c]))
        throw LineError(line, Where(line, col.covariates[c]) + "cannot parse '" +
                                  Printable(fields[col.covariates[c]]) + "' in column '" + opt.covariates[c] +
                                  "' as a number");
    }
    series_lo_[sid] = std::min(series_lo_[sid], last_time.value);
    series_hi_[sid] = std::max(series_hi_[sid], last_time.value);
    if ((nrows_ & 0xFFFF) == 0) capacity_ = RowCapacity();  // as the key index grows
    if (rows_.size() >= capacity_) Spill();
    char* row = rows_.Add();
    Store<uint32_t>(row + kRowSeries, sid);
    Store<int64_t>(row + kRowTime, last_time.value);
    Store<int64_t>(row + kRowLine, line);
    std::memcpy(row + kRowValues, values.data(), values.size() * sizeof(double));
    ++nrows_;
  }
}

// The bytes the key index holds, and will hold once Index has run, counted from its containers: the distinct
// values of each key column, the series' key ids, spans and positions, the distinct times, and what Index
// adds (the lake's key columns in key order, each series' offset and start, the order and its inverse). A
// hash node is counted as its value, a pointer and malloc's 8-byte header, rounded up to 16.
uint64_t LongCsv::IndexBytes() const {
  const auto node = [](uint64_t value) { return (value + 8 + 8 + 15) / 16 * 16; };
  uint64_t bytes = 0;
  for (const Interner& in : interners_) bytes += in.Bytes();
  bytes += series_of_pair_.size() * node(16) + series_of_pair_.bucket_count() * sizeof(void*);
  bytes += series_of_tuple_.size() * (node(sizeof(std::string) + 8) + tuple_.size()) +
           series_of_tuple_.bucket_count() * sizeof(void*);
  bytes += series_keys_.capacity() * sizeof(uint32_t) +
           (series_lo_.capacity() + series_hi_.capacity()) * sizeof(int64_t);
  bytes += time_line_.size() * node(16) + time_line_.bucket_count() * sizeof(void*);
  bytes += lake_position_.capacity() * sizeof(uint32_t);
  const uint64_t n = nseries_;
  bytes +=
      n * (2 * sizeof(int64_t) + 2 * sizeof(uint32_t));  // Index: offsets and starts; order and position_
  const std::vector<bool> text = TextColumns();
  for (size_t k = 0; k < interners_.size(); ++k)  // Index: the key columns, a copy of the values in key order
    bytes += text[k] ? n * sizeof(std::string) + interners_[k].text_bytes : n * sizeof(int64_t);
  return bytes;
}

// What the rows in hand, their sort order and the merge's read buffers may take: the row budget less the key
// index, but never less than an eighth of the budget (a key index that big exceeds --memory; see
// IngestSummary).
uint64_t LongCsv::RowBytes() const {
  const uint64_t index = IndexBytes();
  return budget_ - std::min(index, budget_ - budget_ / 8);
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
  if (text_) return *text_;
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
  capacity_ = RowCapacity();  // the key index has grown: the blocks of a larger run are given back
  rows_.Keep(capacity_);
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
  if (nrows_ == 0)
    throw InputError((files_.size() == 1 ? files_[0] + ":2" : opt.input) + ": no data rows after the header");
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
    throw LineError(
        off_grid,
        Where(off_grid, columns_[FileOf(off_grid)].time) + "time in column '" + opt.time +
            "' is not on the grid of frequency " + std::string(1, FrequencyCode(freq)) +
            (freq == Frequency::kWeekly ? " (weeks start on " + FormatPeriod(freq, 0, anchor) + "'s weekday)"
                                        : ""));
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
    fit_->target_col = columns_[0].target;
    fit_->cov_cols = columns_[0].covariates;
  }
  ix.frequency = freq;
  ix.weekly_anchor = anchor;
  grid_ = {kind, freq, anchor};
  ix.season_lengths = fit_                          ? fit_->lake->season_lengths
                      : opt.season_lengths.empty() ? DefaultSeasonLengths(freq)
                                                   : opt.season_lengths;
  ix.time_column = opt.time;
  ix.target_column = opt.target;
  ix.covariates = opt.covariates;

  summary->rows = nrows_;
  summary->series = static_cast<int64_t>(nseries);
  summary->index_bytes = static_cast<int64_t>(IndexBytes());
  summary->periods = static_cast<int64_t>(total);
  summary->frequency = freq;
  return ix;
}

size_t LongCsv::Prepare(size_t ways) {
  const size_t row_size = rows_.row_size();
  const std::vector<bool> text = TextColumns();
  bool resort = false;
  for (const Run& run : runs_) resort = resort || run.text != text;
  // The rows in hand join the runs on scratch when memory is wanted for reading those back (or for sorting one
  // of them again).
  const size_t buffer = std::max<size_t>(
      row_size,
      static_cast<size_t>(std::min<uint64_t>(RowBytes() / (2 * ways * (runs_.size() + 1)), kStagingBytes)));
  if (rows_.size() > 0 &&
      (resort || rows_.size() * (row_size + sizeof(uint32_t)) + ways * runs_.size() * buffer > RowBytes()))
    Spill();
  for (Run& run : runs_)
    if (run.text != text) Resort(&run);
  rows_.Trim();
  in_hand_ = SortRows(rows_, position_);
  return buffer;
}

// The first of `n` sorted rows whose slot key (key_of(k) for row k) is not below `key`.
template <typename Key>
uint64_t LongCsv::LowerBound(uint64_t n, const SlotKey& key, Key key_of) {
  uint64_t lo = 0, hi = n;
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (key_of(mid) < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// The runs, sorted in the lake's order (position_), merged in input order (the spilled ones, then the rows in
// hand); each cut to the rows from `from` to `to` by binary search.
std::unique_ptr<RowStream> LongCsv::Rows(size_t buffer, const SlotKey* from, const SlotKey* to) {
  const size_t row_size = rows_.row_size();
  std::vector<char> row(row_size);
  auto key = [&](const char* r, bool days) {
    std::memcpy(row.data(), r, row_size);
    if (days) Store<int64_t>(row.data() + kRowTime, RowTime(r) * 86400);
    return SlotKey{LakePosition(position_[RowSeries(row.data())]), grid_.Period(row.data())};
  };
  std::vector<std::unique_ptr<RowStream>> cursors;
  for (const Run& run : runs_) {
    const bool days = run.days && kind_ == TimeKind::kDateTime;
    auto key_of = [&](uint64_t k) {
      scratch_->Read(run.offset + k * row_size, row.data(), row_size);
      return key(row.data(), days);
    };
    const uint64_t begin = from ? LowerBound(run.rows, *from, key_of) : 0;
    const uint64_t end = to ? LowerBound(run.rows, *to, key_of) : run.rows;
    if (begin < end)
      cursors.push_back(
          std::make_unique<RunCursor>(*scratch_, run, row_size, buffer, days, position_, begin, end));
  }
  auto key_of = [&](uint64_t k) { return key(rows_.at(in_hand_[k]), false); };
  const size_t begin = from ? LowerBound(in_hand_.size(), *from, key_of) : 0;
  const size_t end = to ? LowerBound(in_hand_.size(), *to, key_of) : in_hand_.size();
  if (begin < end) cursors.push_back(std::make_unique<RunCursor>(rows_, in_hand_, position_, begin, end));
  return std::make_unique<MergedStream>(std::move(cursors));
}

void LongCsv::Export(ByteWriter* out) const {
  out->PutI64(nrows_);
  out->PutI64(first_time_);
  for (const Interner& in : interners_) {
    out->PutU64(in.values.size());
    for (const auto& v : in.values) out->PutString(v);
  }
  out->PutU64(nseries_);
  for (const uint32_t id : series_keys_) out->PutU64(id);
  for (size_t s = 0; s < nseries_; ++s) out->PutI64(series_lo_[s]), out->PutI64(series_hi_[s]);
  out->PutU64(time_line_.size());
  for (const auto& [t, line] : time_line_) out->PutI64(t), out->PutI64(line);
}

// Another rank's key index and times joined to this one's; its first row is `first` (see first()), its kind
// of time agrees with this rank's (dates and datetimes become datetimes). Returns its series ids' ids here.
std::vector<uint32_t> LongCsv::Absorb(ByteReader* in, const First& first) {
  const int64_t nrows = in->GetI64(), first_time = in->GetI64();
  int64_t scale = 1;  // to seconds, for dates joining datetimes
  if (first.line != std::numeric_limits<int64_t>::max()) {
    if (!kind_) {
      kind_ = first.kind;
      first_line_ = std::numeric_limits<int64_t>::max();
    } else if (*kind_ == TimeKind::kDate && first.kind == TimeKind::kDateTime) {
      ToSeconds();
    }
    if (*kind_ == TimeKind::kDateTime && first.kind == TimeKind::kDate) scale = 86400;
    if (first.line < first_line_) {
      first_line_ = first.line;
      first_time_ = first_time * scale;
      first_text_ = first.text;
    }
  }
  const size_t nkeys = interners_.size();
  std::vector<std::vector<uint32_t>> ids(nkeys);
  for (size_t k = 0; k < nkeys; ++k)
    for (uint64_t i = 0, n = in->GetU64(); i < n; ++i) {
      ids[k].push_back(interners_[k].Id(in->GetString(), opt_.max_series));
      if (ids[k].back() == Interner::kFull)
        TooMany(-1, "distinct values in key column '" + opt_.keys[k] + "'");
    }
  const uint64_t nseries = in->GetU64();
  std::vector<uint32_t> keys(nseries * nkeys), sids(nseries), tuple(nkeys);
  for (auto& id : keys) id = static_cast<uint32_t>(in->GetU64());
  for (size_t s = 0; s < nseries; ++s) {
    for (size_t k = 0; k < nkeys; ++k) tuple[k] = ids[k].at(keys[s * nkeys + k]);
    const uint32_t sid = sids[s] = SeriesId(tuple);
    if (sid == Interner::kFull) TooMany(-1, "series (distinct keys)");
    series_lo_[sid] = std::min(series_lo_[sid], in->GetI64() * scale);
    series_hi_[sid] = std::max(series_hi_[sid], in->GetI64() * scale);
  }
  for (uint64_t i = 0, n = in->GetU64(); i < n; ++i) {
    const int64_t t = in->GetI64() * scale, line = in->GetI64();
    const auto [it, fresh] = time_line_.try_emplace(t, line);
    if (!fresh) it->second = std::min(it->second, line);
  }
  nrows_ += nrows;
  return sids;
}

std::vector<uint32_t> LongCsv::PositionsOf(const std::vector<uint32_t>& sids) const {
  std::vector<uint32_t> out(sids.size());
  for (size_t i = 0; i < sids.size(); ++i) out[i] = position_[sids[i]];
  return out;
}

void LongCsv::Adopt(const Grid& grid, const std::vector<bool>& text, std::vector<uint32_t> position) {
  if (kind_ == TimeKind::kDate && grid.kind == TimeKind::kDateTime) ToSeconds();
  grid_ = grid;
  text_ = text;
  position_text_ = text;
  // Runs are sorted by dense positions (SortRows): this rank's series numbered in the lake's order.
  std::vector<uint32_t> order(position.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return position[a] < position[b]; });
  position_ = Positions(order);
  lake_position_.resize(order.size());
  for (size_t i = 0; i < order.size(); ++i) lake_position_[i] = position[order[i]];
}

void LongCsv::Merge(SlotSink* sink, IngestSummary* summary) {
  const std::unique_ptr<RowStream> rows = Rows(Prepare(1), nullptr, nullptr);
  summary->runs = runs();
  summary->spilled_bytes = spilled_bytes();
  Placer placer(grid_, 0, ix_.offsets, ix_.start, sink);
  uint32_t position = 0;
  while (const char* row = rows->Next(&position)) placer.Put(row, position);
  sink->Finish();
  if (placer.duplicate()) throw DuplicateError(placer.duplicate());
  summary->missing = summary->periods - placer.known();
}

LineError LongCsv::DuplicateError(const Duplicate& d) const {
  return LineError(
      d.line,
      Line(d.line) + ": duplicate (" + ix_.keys.Describe(d.series) + ", " +
          FormatPeriod(ix_.frequency, d.period, ix_.weekly_anchor) + "), first seen at " +
          (FileOf(d.first) == FileOf(d.line) ? "line " + std::to_string(LineOf(d.first)) : Line(d.first)));
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

// Each of the files, whole: the input read on one rank.
std::vector<Piece> WholeFiles(size_t n) {
  std::vector<Piece> pieces(n);
  for (size_t f = 0; f < n; ++f) pieces[f].file = f;
  return pieces;
}

LakeData ReadCsv(const IngestOptions& opt, IngestSummary* summary, Fit* fit) {
  std::vector<std::string> files = InputFiles(opt.input);
  const size_t n = files.size();
  LongCsv csv(opt, fit, std::move(files));
  csv.Read(WholeFiles(n));
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

namespace {

// ------------------------------------------------------------------ across ranks
// An error as it travels from rank to rank: what to throw, the line code it is about (none: INT64_MAX) and
// the message.
struct Failure {
  enum Kind : uint8_t { kNone, kInput, kUsage, kOther };
  Kind kind = kNone;
  int64_t line = std::numeric_limits<int64_t>::max();
  std::string message;

  explicit operator bool() const { return kind != kNone; }
  // Of this one and `o`, the one to report: the earlier line; this one among equals.
  void Keep(const Failure& o) {
    if (o && (!*this || o.line < line)) *this = o;
  }
  void Put(ByteWriter* w) const {
    w->PutU8(kind);
    w->PutI64(line);
    w->PutString(message);
  }
  static Failure Get(ByteReader* r) {
    Failure f;
    f.kind = static_cast<Kind>(r->GetU8());
    f.line = r->GetI64();
    f.message = r->GetString();
    return f;
  }
  [[noreturn]] void Throw() const {
    if (kind == kInput) throw InputError(message);
    if (kind == kUsage) throw UsageError(message);
    throw std::runtime_error(message);
  }
};

template <typename F>
Failure Try(F&& f) {
  try {
    f();
    return {};
  } catch (const LineError& e) {
    return {Failure::kInput, e.code(), e.what()};
  } catch (const InputError& e) {
    return {Failure::kInput, std::numeric_limits<int64_t>::max(), e.what()};
  } catch (const UsageError& e) {
    return {Failure::kUsage, std::numeric_limits<int64_t>::max(), e.what()};
  } catch (const std::exception& e) {
    return {Failure::kOther, std::numeric_limits<int64_t>::max(), e.what()};
  }
}

// An open file, closed when it goes.
struct Fd {
  explicit Fd(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd < 0) throw InputError(path + ": cannot open: " + std::strerror(errno));
  }
  ~Fd() { ::close(fd); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  // Up to n bytes at `offset`; throws naming the file on a read error.
  size_t Read(const std::string& path, uint64_t offset, char* data, size_t n) const {
    ssize_t k;
    do k = ::pread(fd, data, n, static_cast<off_t>(offset));
    while (k < 0 && errno == EINTR);
    if (k < 0) throw InputError(path + ": read error: " + std::strerror(errno));
    return static_cast<size_t>(k);
  }
  int fd;
};

// The first line start of a file at or past byte `at`: 0 for 0, else just past the first newline at or past
// `at`, or the file's size.
uint64_t LineStart(const Fd& file, const std::string& path, uint64_t at, uint64_t size) {
  if (at == 0) return 0;
  char buf[1 << 16];
  while (at < size) {
    const size_t n = file.Read(path, at, buf, static_cast<size_t>(std::min<uint64_t>(sizeof buf, size - at)));
    if (n == 0) break;
    if (const void* nl = std::memchr(buf, '\n', n))
      return at + static_cast<uint64_t>(static_cast<const char*>(nl) - buf) + 1;
    at += n;
  }
  return size;
}

// The parts of the input this rank reads. Plain files, as one stream of bytes, are cut into equal ranges, one
// a rank, moved to line starts; gzip files go whole to the rank with the fewest compressed bytes so far (the
// largest first). Each rank counts the newlines and quotes of its ranges, and the counts of the ranks before
// it (MPI_Exscan) give the first line of each: an odd number of quotes before a range's start means the cut
// is inside a quoted field, and that file is then read whole by the rank its first range was given to.
// Collective: every rank calls it, and a rank that fails (`failed`) still takes part, its parts empty.
std::vector<Piece> SplitInput(const std::vector<std::string>& files, Communicator& comm, Failure* failed) {
  const size_t nfiles = files.size();
  const auto rank = static_cast<uint64_t>(comm.rank()), nranks = static_cast<uint64_t>(comm.size());
  std::vector<Piece> pieces;
  std::vector<int64_t> counts(2 * nfiles, 0);  // newlines, quotes of this rank's range of each file
  *failed = Try([&] {
    std::vector<uint64_t> sizes(nfiles);
    std::vector<bool> gzip(nfiles);
    uint64_t plain = 0;
    for (size_t f = 0; f < nfiles; ++f) {
      const Fd file(files[f]);
      struct stat st {};
      if (::fstat(file.fd, &st) != 0 || S_ISDIR(st.st_mode))
        throw InputError(files[f] + ": is a directory, not a CSV file");
      sizes[f] = static_cast<uint64_t>(st.st_size);
      unsigned char magic[2] = {0, 0};
      gzip[f] = file.Read(files[f], 0, reinterpret_cast<char*>(magic), 2) == 2 && magic[0] == 0x1f &&
                magic[1] == 0x8b;
      if (!gzip[f]) plain += sizes[f];
    }
    std::vector<size_t> by_size;
    for (size_t f = 0; f < nfiles; ++f)
      if (gzip[f]) by_size.push_back(f);
    std::stable_sort(by_size.begin(), by_size.end(), [&](size_t a, size_t b) { return sizes[a] > sizes[b]; });
    std::vector<uint64_t> load(nranks, 0);
    std::vector<bool> mine(nfiles, false);
    for (const size_t f : by_size) {
      const auto r = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
      load[r] += sizes[f];
      mine[f] = r == rank;
    }
    const uint64_t lo = plain * rank / nranks, hi = plain * (rank + 1) / nranks;
    uint64_t at = 0;  // where this file starts in the stream of plain bytes
    for (size_t f = 0; f < nfiles; ++f) {
      if (gzip[f]) {
        if (mine[f]) pieces.push_back({f, true, 0, sizes[f], 1});
        continue;
      }
      const uint64_t b = std::max(lo, at), e = std::min(hi, at + sizes[f]);
      if (b < e) {
        const Fd file(files[f]);
        const Piece p{f, false, LineStart(file, files[f], b - at, sizes[f]),
                      LineStart(file, files[f], e - at, sizes[f]), 1};
        if (p.begin < p.end) {
          std::vector<char> buf(4 << 20);
          for (uint64_t x = p.begin; x < p.end;) {
            const size_t n = file.Read(files[f], x, buf.data(),
                                       static_cast<size_t>(std::min<uint64_t>(buf.size(), p.end - x)));
            if (n == 0) throw InputError(files[f] + ": shorter than it was (changed while read?)");
            counts[2 * f] += std::count(buf.data(), buf.data() + n, '\n');
            counts[2 * f + 1] += std::count(buf.data(), buf.data() + n, '"');
            x += n;
          }
          pieces.push_back(p);
        }
      }
      at += sizes[f];
    }
  });
  if (*failed) {
    pieces.clear();
    std::fill(counts.begin(), counts.end(), 0);
  }
  comm.SumBefore(&counts);
  std::vector<int64_t> cut_in_quotes(nfiles, 0);
  for (Piece& p : pieces) {
    if (p.whole) continue;
    p.line = 1 + counts[2 * p.file];
    if (counts[2 * p.file + 1] % 2 != 0) cut_in_quotes[p.file] = 1;
  }
  comm.MaxAll(&cut_in_quotes);
  std::vector<Piece> out;
  for (Piece p : pieces) {
    if (!p.whole && cut_in_quotes[p.file]) {
      if (p.begin > 0) continue;
      p.whole = true;
    }
    out.push_back(p);
  }
  return out;
}

// ------------------------------------------------------------------ across ranks: the exchange
// Each rank owns a range of the lake's slots, whole chunks of them (Plan): it merges the rows of its range
// from every rank, places them and encodes its chunks, which rank 0 writes. The rows travel in rounds of one
// AllToAll each. In a round, a rank sends each rank (itself too) the next rows of that rank's range, about
// `block` bytes, if that rank asked for them; a rank asks a sender for more once it has used up what the
// sender sent, and merges as far as the rows in hand allow (up to the rows of a sender it has used up that
// has not said it has no more). Its encoded chunks go to rank 0 in its next round. So no rank holds more than
// a block from each rank, and no rank can wait for another forever: the rounds end, on every rank at once,
// when every rank has said it is done, or when one has failed.

// The ranks' ranges of slots, and what a rank needs to place the rows of its own.
struct Plan {
  Grid grid;
  uint64_t chunk = 0;           // slots per chunk
  std::vector<uint64_t> slots;  // rank d's range is [slots[d], slots[d + 1])
  std::vector<SlotKey> bounds;  // the slot key of slots[d] (of the end: past the last series)
  // The rank's series, [first, first + start.size()): their offsets (one more) and starts.
  uint32_t first = 0;
  std::vector<int64_t> offsets, start;

  // Rank 0: the plan of rank `rank` of `nranks`, for the lake `ix` with chunks of `chunk` slots.
  static Plan Make(const LakeIndex& ix, const Grid& grid, uint64_t chunk, size_t rank, size_t nranks) {
    Plan p;
    p.grid = grid;
    p.chunk = chunk;
    const auto total = static_cast<uint64_t>(ix.offsets.back());
    const uint64_t chunks = (total + chunk - 1) / chunk;
    // The series holding a slot: the last whose first slot is not past it.
    auto series_of = [&](uint64_t slot) {
      return static_cast<size_t>(
                 std::upper_bound(ix.offsets.begin(), ix.offsets.end(), static_cast<int64_t>(slot)) -
                 ix.offsets.begin()) -
             1;
    };
    for (size_t d = 0; d <= nranks; ++d) {
      const uint64_t slot = std::min(total, chunk * (chunks * d / nranks));
      p.slots.push_back(slot);
      const size_t s = slot == total ? ix.num_series() : series_of(slot);
      p.bounds.push_back({static_cast<uint32_t>(s),
                          slot == total ? 0 : ix.start[s] + static_cast<int64_t>(slot) - ix.offsets[s]});
    }
    if (p.slots[rank] < p.slots[rank + 1]) {
      const size_t first = p.bounds[rank].position, last = series_of(p.slots[rank + 1] - 1);
      p.first = static_cast<uint32_t>(first);
      p.offsets.assign(ix.offsets.begin() + static_cast<ptrdiff_t>(first),
                       ix.offsets.begin() + static_cast<ptrdiff_t>(last + 2));
      p.start.assign(ix.start.begin() + static_cast<ptrdiff_t>(first),
                     ix.start.begin() + static_cast<ptrdiff_t>(last + 1));
    }
    return p;
  }
  void Put(ByteWriter* w) const {
    w->PutU8(static_cast<uint8_t>(grid.kind));
    w->PutU8(static_cast<uint8_t>(grid.frequency));
    w->PutI64(grid.anchor);
    w->PutU64(chunk);
    w->PutU64(slots.size());
    for (size_t d = 0; d < slots.size(); ++d)
      w->PutU64(slots[d]), w->PutU64(bounds[d].position), w->PutI64(bounds[d].period);
    w->PutU64(first);
    w->PutU64(start.size());
    for (size_t s = 0; s < start.size(); ++s) w->PutI64(offsets[s]), w->PutI64(start[s]);
    if (!start.empty()) w->PutI64(offsets.back());
  }
  static Plan Get(ByteReader* r) {
    Plan p;
    p.grid.kind = static_cast<TimeKind>(r->GetU8());
    p.grid.frequency = static_cast<Frequency>(r->GetU8());
    p.grid.anchor = static_cast<int>(r->GetI64());
    p.chunk = r->GetU64();
    for (uint64_t d = 0, count = r->GetU64(); d < count; ++d) {
      p.slots.push_back(r->GetU64());
      const auto position = static_cast<uint32_t>(r->GetU64());
      p.bounds.push_back({position, r->GetI64()});
    }
    p.first = static_cast<uint32_t>(r->GetU64());
    for (uint64_t s = 0, count = r->GetU64(); s < count; ++s)
      p.offsets.push_back(r->GetI64()), p.start.push_back(r->GetI64());
    if (!p.start.empty()) p.offsets.push_back(r->GetI64());
    return p;
  }
};

// What a rank's part of the exchange came to.
struct RangeOutcome {
  Failure failed;
  Duplicate duplicate;
  int64_t known = 0, runs = 0, bytes = 0;  // rows with a target placed; runs and scratch bytes spilled
  void Put(ByteWriter* w) const {
    failed.Put(w);
    duplicate.Put(w);
    w->PutI64(known), w->PutI64(runs), w->PutI64(bytes);
  }
  static RangeOutcome Get(ByteReader* r) {
    RangeOutcome o;
    o.failed = Failure::Get(r);
    o.duplicate = Duplicate::Get(r);
    o.known = r->GetI64(), o.runs = r->GetI64(), o.bytes = r->GetI64();
    return o;
  }
};

// The flags of a round's message (ExchangeRows' `build` gives its layout): the sender is not done, wants more
// rows from the receiver, has failed.
constexpr uint8_t kActive = 1, kWant = 2, kFailed = 4;

RangeOutcome ExchangeRows(LongCsv& csv, const Plan& plan, size_t columns, size_t block, Communicator& comm,
                          LakeWriter* writer) {
  const auto n = static_cast<size_t>(comm.size()), me = static_cast<size_t>(comm.rank());
  const size_t row_size = RowSize(columns - 1);
  RangeOutcome outcome;
  // Out: this rank's rows of each rank's range; whether that rank asked for more, and whether it has them
  // all.
  std::vector<std::unique_ptr<RowStream>> out(n);
  std::vector<uint8_t> may_send(n, 1), sent_all(n, 0);
  std::unique_ptr<h5::ChunkEncoder> encoder;
  outcome.failed = Try([&] {
    encoder = std::make_unique<h5::ChunkEncoder>(plan.chunk);
    const size_t buffer = csv.Prepare(n);
    for (size_t d = 0; d < n; ++d) out[d] = csv.Rows(buffer, &plan.bounds[d], &plan.bounds[d + 1]);
  });
  outcome.runs = csv.runs();
  outcome.bytes = csv.spilled_bytes();

  // In: the rows of this rank's range each rank sent, merged by (position, time, sender).
  struct Source {
    std::vector<uint8_t> rows;
    size_t at = 0;
    bool ended = false, asked = true;  // the first round asks every rank
  };
  std::vector<Source> in(n);
  std::priority_queue<MergeKey, std::vector<MergeKey>, std::greater<MergeKey>> heads;  // stream: the sender
  auto push = [&](uint32_t s) {
    const char* row = reinterpret_cast<const char*>(in[s].rows.data() + in[s].at);
    heads.push({RowSeries(row), RowTime(row), s});
  };
  size_t waiting = n;  // senders not ended whose rows are used up
  bool finished = false;
  std::vector<uint8_t> to_root;  // encoded chunks for rank 0: column, first slot, size, bytes
  uint64_t chunks_to_root = 0;
  auto put = [](std::vector<uint8_t>* v, const void* p, size_t k) {
    const auto* b = static_cast<const uint8_t*>(p);
    v->insert(v->end(), b, b + k);
  };
  auto put_u64 = [&](std::vector<uint8_t>* v, uint64_t x) { put(v, &x, sizeof x); };
  ChunkSink sink(plan.chunk, columns, plan.slots[me], plan.slots[me + 1],
                 [&](size_t first, size_t len, const std::vector<std::vector<double>>& values) {
                   for (size_t c = 0; c < values.size(); ++c) {
                     const std::vector<uint8_t>& stored = encoder->Encode(values[c].data(), len);
                     if (writer) {
                       writer->WriteChunk(c, first, stored);
                     } else {
                       put_u64(&to_root, c), put_u64(&to_root, first), put_u64(&to_root, stored.size());
                       put(&to_root, stored.data(), stored.size());
                       ++chunks_to_root;
                     }
                   }
                 });
  Placer placer(plan.grid, plan.first, plan.offsets, plan.start, &sink);
  auto merge = [&] {
    while (waiting == 0 && !heads.empty()) {
      const MergeKey h = heads.top();
      heads.pop();
      Source& src = in[h.stream];
      placer.Put(reinterpret_cast<const char*>(src.rows.data() + src.at), h.position);
      src.at += row_size;
      if (src.at < src.rows.size())
        push(h.stream);
      else if (!src.ended)
        ++waiting;
    }
    if (waiting == 0 && heads.empty() && !finished) {
      sink.Finish();
      finished = true;
    }
  };

  // A round's messages, one after the other in `sent` (kept from round to round, as are `got` and the
  // sources' rows): to each rank, flags (kActive, kWant, kFailed), whether this rank has no more rows of its
  // range after these, their size and the rows; to rank 0, the encoded chunks; and a failure.
  std::vector<uint8_t> sent, got;
  std::vector<uint64_t> sent_sizes(n), got_sizes(n);
  auto build = [&](bool failed) {
    sent.clear();
    std::vector<size_t> starts(n);
    for (size_t d = 0; d < n; ++d) {
      starts[d] = sent.size();
      sent.push_back(0);  // the flags, set below
      sent.push_back(0);  // no more rows
      put_u64(&sent, 0);  // the rows' size
      if (!failed && may_send[d] && !sent_all[d]) {
        may_send[d] = 0;
        const size_t rows_at = sent.size();
        uint32_t position = 0;
        while (sent.size() - rows_at < block) {
          const char* row = out[d]->Next(&position);
          if (!row) {
            sent[starts[d] + 1] = 1;
            sent_all[d] = 1;
            out[d].reset();  // its read buffers freed
            break;
          }
          const size_t at = sent.size();
          put(&sent, row, row_size);
          Store<uint32_t>(reinterpret_cast<char*>(sent.data() + at) + kRowSeries, csv.LakePosition(position));
        }
        const uint64_t size = sent.size() - rows_at;
        std::memcpy(sent.data() + starts[d] + 2, &size, sizeof size);
      }
      if (d == 0 && me != 0) {
        put_u64(&sent, failed ? 0 : chunks_to_root);
        if (!failed) put(&sent, to_root.data(), to_root.size());
      }
      if (failed) {
        ByteWriter w;
        outcome.failed.Put(&w);
        put(&sent, w.bytes().data(), w.bytes().size());
      }
      sent_sizes[d] = sent.size() - starts[d];
    }
    bool done = finished;
    for (size_t d = 0; d < n; ++d) done = done && sent_all[d];
    for (size_t d = 0; d < n; ++d) {
      Source& src = in[d];
      const bool want = !failed && !src.ended && !src.asked && src.at == src.rows.size();
      src.asked = src.asked || want;
      sent[starts[d]] =
          static_cast<uint8_t>((done ? 0 : kActive) | (want ? kWant : 0) | (failed ? kFailed : 0));
    }
    to_root.clear();
    chunks_to_root = 0;
  };

  for (bool stop = false; !stop;) {
    if (!outcome.failed) outcome.failed = Try([&] { build(false); });
    if (outcome.failed) build(true);
    comm.AllToAll(sent, sent_sizes, &got, &got_sizes);

    // What every rank sent: every rank sees the same flags, so all stop in the same round.
    bool active = false;
    const uint8_t* message = got.data();
    for (size_t s = 0; s < n; message += got_sizes[s], ++s) {
      ByteReader r(message, got_sizes[s]);
      const uint8_t flags = r.GetU8();
      active = active || (flags & kActive);
      if (flags & kWant) may_send[s] = 1;
      const bool ended = r.GetU8() != 0;
      const uint64_t size = r.GetU64();
      const uint8_t* rows = r.GetRaw(size);
      if (me == 0 && s != 0) {
        const uint64_t count = r.GetU64();
        for (uint64_t k = 0; k < count && !outcome.failed; ++k) {
          const uint64_t column = r.GetU64(), first = r.GetU64(), bytes = r.GetU64();
          const std::span<const uint8_t> stored(r.GetRaw(bytes), bytes);
          outcome.failed = Try([&] { writer->WriteChunk(column, first, stored); });
        }
      }
      if (flags & kFailed) {
        const Failure f = Failure::Get(&r);
        stop = true;
        if (s != me) outcome.failed.Keep(f);
      }
      if (size == 0 && !ended) continue;
      Source& src = in[s];
      if (!src.asked || src.ended || src.at != src.rows.size()) {  // a bug: stop every rank, as a failure
        if (!outcome.failed)
          outcome.failed = {Failure::kOther, std::numeric_limits<int64_t>::max(),
                            "ingest: rows sent by rank " + std::to_string(s) + " that were not asked for"};
        continue;
      }
      src.rows.assign(rows, rows + size);
      src.at = 0;
      src.ended = ended;
      src.asked = false;
      --waiting;
      if (size > 0) push(static_cast<uint32_t>(s));
    }
    stop = stop || !active;
    if (!outcome.failed) outcome.failed = Try(merge);
  }
  outcome.duplicate = placer.duplicate();
  outcome.known = placer.known();
  return outcome;
}

// Ingest with several ranks (see Ingest). The steps, each ending with every rank knowing whether all went
// well: (1) split the input and parse each part; every rank sends rank 0 its outcome, its first row and its
// key index, and rank 0 answers with the error to throw (the first by line, a first row whose kind of time is
// not the input's first row's included) or the lake's decisions: the key types, the position of each of the
// rank's series and the plan of the ranks' ranges (rank 0 has begun the lake file). (2) The rows are
// exchanged so that each rank places and encodes those of its range (ExchangeRows), rank 0 writing the
// chunks; each rank sends rank 0 its outcome, and rank 0 commits the lake and tells every rank the outcome.
IngestSummary IngestOnRanks(const IngestOptions& options, const Provenance& provenance,
                            std::vector<std::string> files, Communicator& comm) {
  const int rank = comm.rank(), nranks = comm.size();
  // The rows in flight come out of --memory (half the budget at most): a block to and from each rank and one
  // from each being merged, with room to spare. Blocks of 256 KiB exchanged faster than of 64 KiB or 1 MiB
  // (the reference panel on 2 ranks: merged in 3.6-3.8 s, 4.0-4.5 s, 4.4 s).
  const auto ranks = static_cast<uint64_t>(nranks);
  const uint64_t block = std::clamp<uint64_t>(options.memory / (64 * ranks), 4096, uint64_t{1} << 18);
  IngestOptions opt = options;
  opt.memory -= std::min(opt.memory / 2, 5 * ranks * block);
  Failure failed;
  const std::vector<Piece> pieces = SplitInput(files, comm, &failed);
  std::unique_ptr<LongCsv> csv;
  if (!failed) {
    failed = Try([&] { csv = std::make_unique<LongCsv>(opt, nullptr, files); });
    if (!failed) failed = Try([&] { csv->Read(pieces); });
  }
  const LongCsv::First first = csv ? csv->first() : LongCsv::First{};
  // The error a first row would be if the input's first row had the other kind of time.
  const std::string mixed =
      first.line != std::numeric_limits<int64_t>::max() ? csv->MixedKinds(first.line, first.text).what() : "";
  const size_t columns = 1 + opt.covariates.size();

  if (rank != 0) {
    ByteWriter w;
    failed.Put(&w);
    w.PutI64(first.line);
    w.PutU8(static_cast<uint8_t>(first.kind));
    w.PutString(first.text);
    w.PutString(mixed);
    if (!failed) csv->Export(&w);
    comm.SendToRoot(w.Take());
    std::vector<uint8_t> reply;
    comm.ReceiveFromRoot(&reply);
    ByteReader r(reply);
    if (const Failure agreed = Failure::Get(&r)) agreed.Throw();
    std::vector<bool> text(opt.keys.size());
    for (size_t k = 0; k < text.size(); ++k) text[k] = r.GetU8() != 0;
    std::vector<uint32_t> position(r.GetU64());
    for (auto& p : position) p = static_cast<uint32_t>(r.GetU64());
    const Plan plan = Plan::Get(&r);
    csv->Adopt(plan.grid, text, std::move(position));
    const RangeOutcome outcome = ExchangeRows(*csv, plan, columns, block, comm, nullptr);
    ByteWriter o;
    outcome.Put(&o);
    comm.SendToRoot(o.Take());
    comm.ReceiveFromRoot(&reply);
    ByteReader agreed(reply);
    if (const Failure f = Failure::Get(&agreed)) f.Throw();
    return {};
  }

  // Rank 0, step 1: the outcomes.
  std::vector<std::vector<uint8_t>> messages(static_cast<size_t>(nranks));
  for (int i = 1; i < nranks; ++i) {
    std::vector<uint8_t> m;
    int from = 0;
    comm.Receive(&m, &from);
    messages[static_cast<size_t>(from)] = std::move(m);
  }
  std::vector<ByteReader> readers;
  std::vector<LongCsv::First> firsts{first};
  std::vector<std::string> mixes{mixed};
  Failure agreed = failed;
  readers.emplace_back(nullptr, 0);
  for (int i = 1; i < nranks; ++i) {
    readers.emplace_back(messages[static_cast<size_t>(i)]);
    ByteReader& r = readers.back();
    agreed.Keep(Failure::Get(&r));
    LongCsv::First f;
    f.line = r.GetI64();
    f.kind = static_cast<TimeKind>(r.GetU8());
    f.text = r.GetString();
    firsts.push_back(f);
    mixes.push_back(r.GetString());
  }
  const auto earliest =
      static_cast<size_t>(std::min_element(firsts.begin(), firsts.end(),
                                           [](const auto& a, const auto& b) { return a.line < b.line; }) -
                          firsts.begin());
  const bool integer = firsts[earliest].kind == TimeKind::kInteger;
  for (size_t i = 0; i < firsts.size(); ++i)
    if (firsts[i].line != std::numeric_limits<int64_t>::max() &&
        (firsts[i].kind == TimeKind::kInteger) != integer)
      agreed.Keep({Failure::kInput, firsts[i].line, mixes[i]});
  IngestSummary summary;
  const LakeIndex* ix = nullptr;
  std::unique_ptr<LakeWriter> writer;
  std::vector<std::vector<uint32_t>> sids(static_cast<size_t>(nranks));
  if (!agreed)
    agreed = Try([&] {
      for (int i = 1; i < nranks; ++i)
        sids[static_cast<size_t>(i)] =
            csv->Absorb(&readers[static_cast<size_t>(i)], firsts[static_cast<size_t>(i)]);
      ix = &csv->Index(&summary);
      writer = std::make_unique<LakeWriter>(opt.out, *ix, provenance);
    });
  messages.clear();
  readers.clear();
  for (int i = 1; i < nranks; ++i) {
    ByteWriter w;
    agreed.Put(&w);
    if (!agreed) {
      for (const bool t : csv->KeyTypes()) w.PutU8(t ? 1 : 0);
      const std::vector<uint32_t> position = csv->PositionsOf(sids[static_cast<size_t>(i)]);
      w.PutU64(position.size());
      for (const uint32_t p : position) w.PutU64(p);
      Plan::Make(*ix, csv->grid(), writer->chunk_rows(), static_cast<size_t>(i), ranks).Put(&w);
    }
    comm.SendFromRoot(i, w.Take());
  }
  if (agreed) agreed.Throw();
  sids.clear();

  // Step 2: the rows exchanged, placed and written; the ranks' outcomes.
  const Plan plan = Plan::Make(*ix, csv->grid(), writer->chunk_rows(), 0, ranks);
  RangeOutcome outcome = ExchangeRows(*csv, plan, columns, block, comm, writer.get());
  agreed = outcome.failed;
  Duplicate duplicate = outcome.duplicate;
  int64_t known = outcome.known;
  summary.runs = outcome.runs;
  summary.spilled_bytes = outcome.bytes;
  for (int i = 1; i < nranks; ++i) {
    std::vector<uint8_t> m;
    int from = 0;
    comm.Receive(&m, &from);
    ByteReader r(m);
    const RangeOutcome o = RangeOutcome::Get(&r);
    agreed.Keep(o.failed);
    duplicate.Keep(o.duplicate);
    known += o.known;
    summary.runs += o.runs;
    summary.spilled_bytes += o.bytes;
  }
  if (duplicate) agreed.Keep(Try([&] { throw csv->DuplicateError(duplicate); }));
  if (!agreed) agreed = Try([&] { writer->Commit(); });
  writer.reset();  // not committed: no file
  for (int i = 1; i < nranks; ++i) {
    ByteWriter w;
    agreed.Put(&w);
    comm.SendFromRoot(i, w.Take());
  }
  if (agreed) agreed.Throw();
  summary.missing = summary.periods - known;
  return summary;
}

}  // namespace

IngestSummary Ingest(const IngestOptions& options, const Provenance& provenance, Communicator* comm) {
  const bool ranks = comm && comm->size() > 1;
  std::vector<std::string> files = InputFiles(options.input);
  if (options.append && ranks)
    throw UsageError("--append runs on one rank (" + std::to_string(comm->size()) +
                     " were started): run it without mpirun/srun");
  if (options.append && files.size() > 1)
    throw UsageError("--append takes one input file, --input names " + std::to_string(files.size()));
  if (options.append) return Append(options, provenance);
  if (ranks) return IngestOnRanks(options, provenance, std::move(files), *comm);
  IngestSummary summary;
  const size_t n = files.size();
  LongCsv csv(options, nullptr, std::move(files));
  csv.Read(WholeFiles(n));
  const LakeIndex& ix = csv.Index(&summary);
  LakeWriter writer(options.out, ix, provenance);
  ChunkSink sink(writer.chunk_rows(), 1 + ix.covariates.size(), 0, static_cast<size_t>(ix.offsets.back()),
                 [&](size_t, size_t len, const std::vector<std::vector<double>>& columns) {
                   std::vector<const double*> covariates;
                   for (size_t c = 1; c < columns.size(); ++c) covariates.push_back(columns[c].data());
                   writer.Write(len, columns[0].data(), covariates);
                 });
  csv.Merge(&sink, &summary);
  writer.Commit();
  return summary;
}

}  // namespace mm

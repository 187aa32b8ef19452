#include "manymodels/io/keys.h"

#include <charconv>
#include <stdexcept>

namespace mm {
namespace {

std::string Join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

int KeyColumn::Compare(size_t a, const KeyColumn& other, size_t b) const {
  if (is_text) return texts[a].compare(other.texts[b]);
  return ints[a] < other.ints[b] ? -1 : (ints[a] > other.ints[b] ? 1 : 0);
}

void KeyColumn::Append(const KeyColumn& from, size_t row) {
  if (is_text) texts.push_back(from.texts[row]);
  else ints.push_back(from.ints[row]);
}

std::vector<std::string> KeyTable::Names() const {
  std::vector<std::string> names;
  for (const auto& c : columns) names.push_back(c.name);
  return names;
}

std::string KeyTable::Describe(size_t row) const {
  std::string s;
  for (const auto& c : columns) s += (s.empty() ? "" : ", ") + c.name + "=" + c.Text(row);
  return s;
}

int KeyTable::Compare(size_t a, const KeyTable& other, size_t b) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (int c = columns[i].Compare(a, other.columns[i], b)) return c;
  return 0;
}

void KeyTable::Append(const KeyTable& from, size_t row) {
  for (size_t i = 0; i < columns.size(); ++i) columns[i].Append(from.columns[i], row);
}

KeyTable KeyTable::EmptyLike() const {
  KeyTable t;
  for (const auto& c : columns) t.columns.push_back(c.EmptyLike());
  return t;
}

KeyTable KeyTable::Slice(size_t begin, size_t end) const {
  KeyTable t = EmptyLike();
  for (size_t r = begin; r < end; ++r) t.Append(*this, r);
  return t;
}

std::optional<KeyTable> KeyTable::Parse(const std::vector<std::string>& values) const {
  if (values.size() != columns.size()) return std::nullopt;
  KeyTable want = EmptyLike();
  for (size_t c = 0; c < values.size(); ++c) {
    KeyColumn& col = want.columns[c];
    const std::string& v = values[c];
    if (col.is_text) {
      col.texts.push_back(v);
    } else {
      int64_t i = 0;
      const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), i);
      if (ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;  // not an integer
      col.ints.push_back(i);
    }
  }
  return want;
}

std::vector<std::string> ParseKeyText(const std::string& text, const std::vector<std::string>& columns) {
  std::vector<std::string> want(columns.size());
  std::vector<bool> seen(columns.size(), false);
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    std::string part = text.substr(begin, end - begin);
    begin = end + 1;
    const auto b = part.find_first_not_of(" \t"), e = part.find_last_not_of(" \t");
    if (b == std::string::npos) continue;  // an empty part: "store=1,,item=2" or a trailing comma
    part = part.substr(b, e - b + 1);
    const auto eq = part.find('=');
    const std::string name = part.substr(0, eq);
    size_t c = 0;
    while (c < columns.size() && columns[c] != name) ++c;
    if (eq == std::string::npos || c == columns.size())
      throw std::invalid_argument("'" + part + "' is not COLUMN=VALUE for a key column (" + Join(columns) + ")");
    if (seen[c]) throw std::invalid_argument("key column '" + name + "' is given twice");
    want[c] = part.substr(eq + 1);
    seen[c] = true;
  }
  for (size_t c = 0; c < seen.size(); ++c)
    if (!seen[c]) throw std::invalid_argument("no value for key column '" + columns[c] + "'");
  return want;
}

std::optional<size_t> KeyTable::Find(const KeyTable& want) const {
  size_t lo = 0, hi = size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const int cmp = Compare(mid, want, 0);
    if (cmp == 0) return mid;
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return std::nullopt;
}

}  // namespace mm

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace mm {

Grouping GroupSeries(const KeyTable& series_keys, const std::vector<std::string>& by) {
  KeyTable projected;
  const std::vector<std::string> names = series_keys.Names();
  const std::vector<std::string>& cols = by.empty() ? names : by;
  for (const auto& b : cols) {
    auto it = std::find(names.begin(), names.end(), b);
    if (it == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      throw std::invalid_argument("--partition-by: '" + b + "' is not a key column of the lake (keys: " + known + ")");
    }
    projected.columns.push_back(series_keys.columns[static_cast<size_t>(it - names.begin())]);
  }
  const size_t n = series_keys.size();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Stable, so members stay ascending; a prefix of the key columns keeps the lake's order and groups contiguous.
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return projected.Compare(a, projected, b) < 0; });
  Grouping g;
  g.keys = projected.EmptyLike();
  g.member_offsets.push_back(0);
  for (size_t i = 0; i < n; ++i) {
    const auto s = static_cast<size_t>(order[i]);
    if (i == 0 || projected.Compare(static_cast<size_t>(order[i - 1]), projected, s) != 0) {
      if (i > 0) g.member_offsets.push_back(static_cast<int64_t>(i));
      g.keys.Append(projected, s);
    }
    g.members.push_back(order[i]);
  }
  if (n > 0) g.member_offsets.push_back(static_cast<int64_t>(n));
  return g;
}

}  // namespace mm

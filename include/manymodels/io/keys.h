// Series keys: one column per key field (integer or text), rows sorted by the tuple of columns, integers
// numerically and text bytewise. The same type serves the lake, the registry and the predictions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mm {

struct KeyColumn {
  std::string name;
  bool is_text = false;
  std::vector<int64_t> ints;        // when !is_text
  std::vector<std::string> texts;   // when is_text
  size_t size() const { return is_text ? texts.size() : ints.size(); }
  std::string Text(size_t row) const { return is_text ? texts[row] : std::to_string(ints[row]); }
  int Compare(size_t a, const KeyColumn& other, size_t b) const;  // <0, 0, >0; same type required
  void Append(const KeyColumn& from, size_t row);
  KeyColumn EmptyLike() const { return KeyColumn{name, is_text, {}, {}}; }
};

struct KeyTable {
  std::vector<KeyColumn> columns;
  size_t size() const { return columns.empty() ? 0 : columns[0].size(); }
  std::vector<std::string> Names() const;
  // "store=1, item=5" — for messages and seeds.
  std::string Describe(size_t row) const;
  int Compare(size_t a, const KeyTable& other, size_t b) const;
  void Append(const KeyTable& from, size_t row);
  KeyTable EmptyLike() const;
  // The rows [begin, end).
  KeyTable Slice(size_t begin, size_t end) const;
  // A one-row table of this table's columns holding `values` (as text, in column order); nullopt when a value
  // cannot be one (a wrong count, or text for an integer column).
  std::optional<KeyTable> Parse(const std::vector<std::string>& values) const;
  // The row equal to row 0 of `want` in this table, sorted by key, by binary search.
  std::optional<size_t> Find(const KeyTable& want) const;
};

// "store=12,item=5": every one of `columns` named once, in any order; returns the values in `columns` order.
// Throws std::invalid_argument saying what is wrong.
std::vector<std::string> ParseKeyText(const std::string& text, const std::vector<std::string>& columns);

}  // namespace mm

namespace mm {

// Series grouped by a subset of the key columns (`--partition-by`): group g's key is the `by` columns of its
// members, and its members are the series members[member_offsets[g] .. member_offsets[g+1]), ascending.
// Groups are sorted by their key. With `by` empty or equal to all key columns every series is its own group.
struct Grouping {
  KeyTable keys;
  std::vector<int64_t> member_offsets;
  std::vector<int64_t> members;
  size_t size() const { return keys.size(); }
};

// Throws std::invalid_argument naming a column that is not a key column.
Grouping GroupSeries(const KeyTable& series_keys, const std::vector<std::string>& by);

}  // namespace mm

// Columns written in pieces that arrive in any order (results of many ranks), each HDF5 chunk written once,
// whole, when all its rows have arrived: no chunk is read back, recompressed or rewritten, and the datasets
// stay open for the whole run. Memory holds only the chunks still being filled (about one per sender).
//
// Text columns are dictionary-coded (what pandas calls a Categorical): group /<name> holds `codes` (int32, one
// per row, chunked and compressed) and `values` (UTF-8 strings, each distinct value once, in the order the
// writer met them). Run-level values (a version, a status, a method name) so cost four bytes a row.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "manymodels/io/hdf5.h"

namespace mm {

template <typename T>
class ColumnWriter {
 public:
  ColumnWriter() = default;
  // Creates the column `name` of `rows` rows in `where`; numbers are compressed unless `compress` is false;
  // `chunk` rows per chunk (0: the h5 default).
  ColumnWriter(const h5::Location& where, const std::string& name, size_t rows, bool compress = true,
               size_t chunk = 0);
  // Rows [first, first + values.size()). Each row is put once.
  void Put(size_t first, const std::vector<T>& values);
  // Every row must have been put; writes what is left and closes the dataset (checked).
  void Close();

 private:
  struct Pending {
    std::vector<T> values;
    size_t filled = 0;
  };
  void Flush(size_t chunk, Pending& p);
  h5::Dataset dataset_;
  size_t rows_ = 0, chunk_ = 1;
  std::map<size_t, Pending> pending_;  // chunk index -> its rows so far
};

class DictionaryColumnWriter {
 public:
  DictionaryColumnWriter() = default;
  DictionaryColumnWriter(const h5::Location& where, const std::string& name, size_t rows, size_t chunk = 0);
  void Put(size_t first, const std::vector<std::string>& values);
  void Close();

 private:
  std::unique_ptr<h5::Location> group_;
  ColumnWriter<int32_t> codes_;
  std::unordered_map<std::string, int32_t> code_of_;
  std::vector<std::string> values_;
};

// Variable-length bytes per row (fitted models), without HDF5's per-element heap: group /<name> holds
// `offset` and `size` (int64, one per row) into `bytes` (uint8, chunked and compressed), where each row's bytes
// are appended in the order they arrive. A row's bytes are one hyperslab read.
class BytesColumnWriter {
 public:
  BytesColumnWriter() = default;
  BytesColumnWriter(const h5::Location& where, const std::string& name, size_t rows, size_t chunk = 0);
  void Put(size_t first, const std::vector<std::vector<uint8_t>>& values);
  // Text, one value a row, as its UTF-8 bytes: for text that differs from row to row (a note), where a
  // dictionary would hold every value in memory until Close.
  void Put(size_t first, const std::vector<std::string>& values);
  void Close();

 private:
  template <typename Value>
  void PutValues(size_t first, const std::vector<Value>& values);
  void FlushBytes(bool all);
  std::unique_ptr<h5::Location> group_;
  ColumnWriter<int64_t> offset_, size_;
  h5::Dataset bytes_;
  std::vector<uint8_t> buffer_;  // not yet written, starting at `written_`
  size_t written_ = 0;
};

// A bytes column opened for many reads. A read takes the offsets and sizes of its rows' span once, and the
// bytes one hyperslab per run: the rows' byte ranges in file order, merged where they touch or lie less than
// a few KiB apart (rows written together lie together). The datasets stay open, so their chunk caches serve
// consecutive reads from one chunk without decompressing it again.
class BytesColumnReader {
 public:
  BytesColumnReader() = default;
  BytesColumnReader(const h5::Location& where, const std::string& name);
  size_t size() const { return rows_; }
  // The bytes of `rows` (any order, each below size()), in that order.
  std::vector<std::vector<uint8_t>> Read(const std::vector<size_t>& rows) const;

 private:
  std::string name_;  // for messages
  h5::Dataset offset_, size_, bytes_;
  size_t rows_ = 0, length_ = 0;
};

// Reads a dictionary-coded column, rows [offset, offset + count).
std::vector<std::string> ReadDictionaryColumn(const h5::Location& where, const std::string& name, size_t offset = 0,
                                              size_t count = h5::Location::npos);
// The same with the column's distinct values read before (ReadDictionaryValues): only the codes are read.
std::vector<std::string> ReadDictionaryColumn(const h5::Location& where, const std::string& name,
                                              const std::vector<std::string>& values, size_t offset, size_t count);
std::vector<std::string> ReadDictionaryValues(const h5::Location& where, const std::string& name);

}  // namespace mm

// CSV (RFC 4180) reading and writing. Reading takes plain or gzip-compressed files (zlib detects which) and
// yields one record at a time as string views; writing quotes a field only when it needs it.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mm {

class CsvReader {
 public:
  explicit CsvReader(std::string path);  // throws InputError if the file cannot be opened
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record into `fields` (views valid until the next call). Returns false at the end.
  // An empty line yields one empty field. Throws InputError on an unterminated quoted field.
  bool Next(std::vector<std::string_view>* fields);
  int64_t line() const { return record_line_; }  // 1-based line where the last record started
  const std::string& path() const { return path_; }

 private:
  bool Fill();  // moves unread bytes to the front and reads more; false when no new bytes came
  std::string path_;
  gzFile file_ = nullptr;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  int64_t next_line_ = 1, record_line_ = 0;
  std::string scratch_;  // unescaped quoted fields of the current record
};

// Appends `field` to `out`, quoted if it holds a comma, quote, CR or LF.
void AppendCsvField(std::string* out, std::string_view field);
// Shortest text that reads back as the same double; empty for NaN.
void AppendNumber(std::string* out, double v);

}  // namespace mm

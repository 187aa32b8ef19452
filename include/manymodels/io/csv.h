// CSV (RFC 4180) reading and writing. Reading takes plain or gzip-compressed files (detected by the gzip magic
// bytes, any number of members) and yields one record at a time as string views; a UTF-8 byte-order mark at the
// start is skipped. Writing quotes a field only when it needs it.
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
  // Throws InputError if the file cannot be opened or is a directory.
  explicit CsvReader(std::string path);
  // Bytes [begin, end) of a plain (not gzip) file, whose first line is line `first_line` of the file: one of
  // several ranges read apart (ingest across ranks). No byte-order mark is skipped unless begin is 0.
  CsvReader(std::string path, uint64_t begin, uint64_t end, int64_t first_line);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record into `fields` (views valid until the next call). Returns false at the end.
  // An empty line yields one empty field. Throws InputError ("FILE: message") on an unterminated quoted field, a
  // read error, and a gzip file that is truncated (anywhere, including inside a later member), fails its CRC or
  // length check, or has data after its last member that is neither another member nor zero padding.
  bool Next(std::vector<std::string_view>* fields);
  int64_t line() const { return record_line_; }  // 1-based line where the last record started
  const std::string& path() const { return path_; }

 private:
  void Open(uint64_t begin);
  void Start();  // detects gzip, skips a byte-order mark
  bool Fill();  // moves unread bytes to the front and reads more; false when no new bytes came
  size_t Read(char* dst, size_t cap);     // up to cap decompressed bytes; 0 at the (checked) end
  size_t ReadRaw();                       // moves in_'s unread bytes to the front, reads more; bytes added
  [[noreturn]] void Fail(const std::string& what) const;
  std::string path_;
  std::FILE* file_ = nullptr;
  bool gzip_ = false, member_end_ = false;
  std::unique_ptr<z_stream> zs_;          // gzip only
  std::vector<unsigned char> in_;         // compressed bytes read from the file, unread from in_pos_ to in_end_
  size_t in_pos_ = 0, in_end_ = 0;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  bool range_ = false;                 // a byte range from past the start: not gzip, no byte-order mark
  uint64_t remaining_ = ~uint64_t{0};  // bytes of the file still to read (a range's end)
  int64_t next_line_ = 1, record_line_ = 0;
  std::string scratch_;  // unescaped quoted fields of the current record
};

// Appends `field` to `out`, quoted if it holds a comma, quote, CR or LF.
void AppendCsvField(std::string* out, std::string_view field);
// Shortest text that reads back as the same double; empty for NaN.
void AppendNumber(std::string* out, double v);

}  // namespace mm

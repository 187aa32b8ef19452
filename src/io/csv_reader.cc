#include <cerrno>
#include <cstring>

#include "manymodels/io/csv.h"
#include "manymodels/io/files.h"

namespace mm {

namespace {
constexpr size_t kChunk = 8 << 20;
}

CsvReader::CsvReader(std::string path) : path_(std::move(path)) {
  file_ = gzopen(path_.c_str(), "rb");
  if (!file_) throw InputError(path_ + ": cannot open: " + std::strerror(errno));
  gzbuffer(file_, 1 << 20);
  buf_.resize(kChunk);
}

CsvReader::~CsvReader() {
  if (file_) gzclose(file_);
}

bool CsvReader::Fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // one record longer than the buffer
  const int n = gzread(file_, buf_.data() + end_, static_cast<unsigned>(buf_.size() - end_));
  if (n < 0) {
    int err;
    throw InputError(path_ + ": read error: " + gzerror(file_, &err));
  }
  if (n == 0) eof_ = true;
  end_ += static_cast<size_t>(n);
  return n > 0;
}

bool CsvReader::Next(std::vector<std::string_view>* fields) {
  fields->clear();
  // Fast path: one scan that splits at commas up to the LF, for records with no quote.
  for (;;) {
    const char* p = buf_.data() + pos_;
    const char* const end = buf_.data() + end_;
    const char* field = p;
    const char* c = p;
    bool quote = false;
    for (; c < end; ++c) {
      const char ch = *c;
      if (ch == ',') {
        fields->emplace_back(field, c - field);
        field = c + 1;
      } else if (ch == '\n') {
        break;
      } else if (ch == '"') {
        quote = true;
        break;
      }
    }
    if (quote) break;  // the slow path below
    if (c == end && !eof_) {
      fields->clear();
      Fill();
      continue;
    }
    if (c == end && pos_ == end_) return false;  // clean end of file
    const char* e = c;
    if (e > field && e[-1] == '\r') --e;
    fields->emplace_back(field, e - field);
    pos_ = static_cast<size_t>(c - buf_.data()) + (c < end ? 1 : 0);
    record_line_ = next_line_++;
    return true;
  }
  fields->clear();
  // Find the end of the record: the next LF outside quotes.
  size_t line_end;
  for (;;) {
    size_t q = pos_;
    bool inside = false;
    for (; q < end_; ++q) {
      if (buf_[q] == '"') inside = !inside;
      else if (buf_[q] == '\n' && !inside) break;
    }
    if (q < end_) {
      line_end = q;
      break;
    }
    if (!Fill()) {
      line_end = end_;  // last record without a final newline (or an unterminated quote: reported below)
      break;
    }
  }
  record_line_ = next_line_;
  const char* p = buf_.data() + pos_;
  const char* e = buf_.data() + line_end;
  pos_ = line_end < end_ ? line_end + 1 : line_end;
  if (e > p && e[-1] == '\r') --e;
  // Slow path: quoted fields, unescaped into scratch_ (reserved so views into it stay valid).
  scratch_.clear();
  scratch_.reserve(static_cast<size_t>(e - p));
  std::vector<std::pair<size_t, size_t>> spans;
  while (true) {
    const size_t field_start = scratch_.size();
    if (p < e && *p == '"') {
      ++p;
      for (;;) {
        if (p >= e) throw InputError(path_ + ":" + std::to_string(record_line_) + ": unterminated quoted field");
        if (*p == '"') {
          if (p + 1 < e && p[1] == '"') {
            scratch_ += '"';
            p += 2;
            continue;
          }
          ++p;
          break;
        }
        if (*p == '\n') ++next_line_;
        scratch_ += *p++;
      }
      // Anything between the closing quote and the comma is kept as is (lenient).
      while (p < e && *p != ',') scratch_ += *p++;
    } else {
      while (p < e && *p != ',') scratch_ += *p++;
    }
    spans.emplace_back(field_start, scratch_.size() - field_start);
    if (p >= e) break;
    ++p;  // comma
  }
  ++next_line_;
  for (const auto& [off, len] : spans) fields->emplace_back(scratch_.data() + off, len);
  return true;
}

}  // namespace mm

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "manymodels/io/csv.h"
#include "manymodels/io/files.h"

namespace mm {

namespace {
constexpr size_t kChunk = 8 << 20;
constexpr size_t kInChunk = 1 << 20;
}  // namespace

CsvReader::CsvReader(std::string path) : path_(std::move(path)) { Open(0); }

CsvReader::CsvReader(std::string path, uint64_t begin, uint64_t end, int64_t first_line)
    : path_(std::move(path)), range_(begin > 0), remaining_(end - begin), next_line_(first_line) {
  Open(begin);
}

void CsvReader::Open(uint64_t begin) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (!file_) throw InputError(path_ + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fileno(file_), &st) == 0 && S_ISDIR(st.st_mode)) {
    std::fclose(file_);
    file_ = nullptr;
    throw InputError(path_ + ": is a directory, not a CSV file");
  }
  try {
    if (begin > 0 && fseeko(file_, static_cast<off_t>(begin), SEEK_SET) != 0)
      Fail("cannot seek to byte " + std::to_string(begin) + ": " + std::strerror(errno));
    Start();
  } catch (...) {
    if (zs_) inflateEnd(zs_.get());
    std::fclose(file_);
    throw;
  }
}

void CsvReader::Start() {
  in_.resize(kInChunk);
  while (in_end_ < 2 && ReadRaw() > 0) {
  }
  gzip_ = !range_ && in_end_ >= 2 && in_[0] == 0x1f && in_[1] == 0x8b;
  if (gzip_) {
    zs_ = std::make_unique<z_stream>();
    if (inflateInit2(zs_.get(), 16 + MAX_WBITS) != Z_OK) {
      zs_.reset();
      Fail("cannot start gzip decompression");
    }
  }
  buf_.resize(kChunk);
  // Skip a UTF-8 byte-order mark (Excel writes one), so the first column's name matches.
  while (end_ < 3 && Fill()) {
  }
  if (!range_ && end_ >= 3 && static_cast<unsigned char>(buf_[0]) == 0xEF &&
      static_cast<unsigned char>(buf_[1]) == 0xBB && static_cast<unsigned char>(buf_[2]) == 0xBF)
    pos_ = 3;
}

CsvReader::~CsvReader() {
  if (zs_) inflateEnd(zs_.get());
  if (file_) std::fclose(file_);
}

void CsvReader::Fail(const std::string& what) const { throw InputError(path_ + ": " + what); }

size_t CsvReader::ReadRaw() {
  if (in_pos_ > 0) {
    std::memmove(in_.data(), in_.data() + in_pos_, in_end_ - in_pos_);
    in_end_ -= in_pos_;
    in_pos_ = 0;
  }
  const size_t n =
      std::fread(in_.data() + in_end_, 1, std::min<uint64_t>(in_.size() - in_end_, remaining_), file_);
  if (n == 0 && std::ferror(file_)) Fail(std::string("read error: ") + std::strerror(errno));
  in_end_ += n;
  remaining_ -= n;
  return n;
}

size_t CsvReader::Read(char* dst, size_t cap) {
  if (!gzip_) {
    if (in_pos_ < in_end_) {  // the bytes read to detect the format
      const size_t n = std::min(cap, in_end_ - in_pos_);
      std::memcpy(dst, in_.data() + in_pos_, n);
      in_pos_ += n;
      return n;
    }
    const size_t n = std::fread(dst, 1, std::min<uint64_t>(cap, remaining_), file_);
    if (n == 0 && std::ferror(file_)) Fail(std::string("read error: ") + std::strerror(errno));
    remaining_ -= n;
    return n;
  }
  constexpr const char* kTruncated = "truncated gzip input (unexpected end of file)";
  z_stream& z = *zs_;
  z.next_out = reinterpret_cast<Bytef*>(dst);
  z.avail_out = static_cast<uInt>(std::min<size_t>(cap, 1u << 30));
  const uInt want = z.avail_out;
  while (z.avail_out == want) {
    if (member_end_) {
      // After a complete member: the end, zero padding (as gzip(1) allows), or the next member's magic bytes.
      if (in_end_ - in_pos_ < 2) ReadRaw();
      if (in_pos_ == in_end_) return 0;
      if (in_[in_pos_] == 0) {
        do {
          for (; in_pos_ < in_end_; ++in_pos_)
            if (in_[in_pos_] != 0) Fail("data after the end of the gzip stream that is not a gzip member");
        } while (ReadRaw() > 0);
        return 0;
      }
      if (in_[in_pos_] != 0x1f || (in_end_ - in_pos_ >= 2 && in_[in_pos_ + 1] != 0x8b))
        Fail("data after the end of the gzip stream that is not a gzip member");
      if (in_end_ - in_pos_ < 2) Fail(kTruncated);
      inflateReset(&z);
      member_end_ = false;
    }
    if (in_pos_ == in_end_ && ReadRaw() == 0) Fail(kTruncated);
    z.next_in = in_.data() + in_pos_;
    z.avail_in = static_cast<uInt>(in_end_ - in_pos_);
    const int ret = inflate(&z, Z_NO_FLUSH);
    in_pos_ = static_cast<size_t>(z.next_in - in_.data());
    if (ret == Z_STREAM_END) {
      member_end_ = true;  // the CRC and length in the trailer were checked
    } else if (ret == Z_BUF_ERROR) {
      if (ReadRaw() == 0) Fail(kTruncated);
    } else if (ret == Z_DATA_ERROR) {
      const std::string msg = z.msg ? z.msg : "";
      if (msg == "incorrect data check") Fail("gzip CRC error (the data does not match its checksum)");
      if (msg == "incorrect length check") Fail("gzip length error (the trailer's length does not match the data)");
      Fail("corrupt gzip data (" + msg + ")");
    } else if (ret == Z_MEM_ERROR) {
      Fail("out of memory decompressing gzip data");
    } else if (ret != Z_OK) {
      Fail("gzip error " + std::to_string(ret));
    }
  }
  return want - z.avail_out;
}

bool CsvReader::Fill() {
  if (eof_) return false;
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // one record longer than the buffer
  const size_t n = Read(buf_.data() + end_, buf_.size() - end_);
  if (n == 0) eof_ = true;
  end_ += n;
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

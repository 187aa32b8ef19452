// Scratch space for data that does not fit in memory (ingest's sorted runs of rows).
//
// A ScratchFile is one file in a chosen folder that has no name from the moment it exists (O_TMPFILE), so it
// is gone when the process ends, however it ends -- done, an error, a signal, kill -9 -- and ls never shows
// it; its space is in use until then (df shows it). On a file system without O_TMPFILE it is created under a
// name and unlinked at once: only a kill between those two calls would leave it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mm {

class ScratchFile {
 public:
  // `purpose` names what the file holds, for messages ("sorted rows"). Throws std::runtime_error naming the
  // folder when no file can be made there.
  ScratchFile(const std::string& folder, const std::string& purpose);
  ~ScratchFile();
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  // Appends `n` bytes at the end; returns the offset they start at. Throws std::runtime_error naming the
  // folder and the cause ("No space left on device") when they cannot all be written.
  uint64_t Append(const void* data, size_t n);
  // Bytes [offset, offset + n), which must have been written: read them, or write them again in place.
  void Read(uint64_t offset, void* data, size_t n) const;
  void Overwrite(uint64_t offset, const void* data, size_t n);
  uint64_t size() const { return size_; }
  const std::string& folder() const { return folder_; }

 private:
  [[noreturn]] void Fail(const std::string& what) const;
  std::string folder_, purpose_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Reads bytes [offset, offset + size) of a scratch file front to back in records of `record` bytes, `buffer`
// bytes at a time (rounded down to whole records, at least one).
class ScratchReader {
 public:
  ScratchReader(const ScratchFile& file, uint64_t offset, uint64_t size, size_t record, size_t buffer);
  // The next record, valid until the next call; nullptr after the last.
  const char* Next() {
    if (pos_ == end_ && !Fill()) return nullptr;
    const char* r = buf_.data() + pos_;
    pos_ += record_;
    return r;
  }

 private:
  bool Fill();
  const ScratchFile* file_;
  uint64_t next_, stop_;
  size_t record_, pos_ = 0, end_ = 0;
  std::vector<char> buf_;
};

}  // namespace mm

// A thin checked wrapper over the HDF5 C API: RAII handles, and whole-column reads and writes of the types
// this program stores. Every HDF5 call is checked here, once, closes included; a failure throws h5::Error
// carrying the file or object name and the cause (the system's message, e.g. "No space left on device", when
// HDF5 reports one) -- never HDF5's own error stack.
//
// HDF5 on Debian is built without thread safety: only one thread may be inside these functions at a time.
// Callers with several threads take h5::Mutex() (the training driver keeps all HDF5 calls on its main thread).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace mm::h5 {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::mutex& Mutex();

// The memory type of variable-length UTF-8 strings (for Dataset::Transfer of char*), and the release of a
// string HDF5 allocated in such a read.
hid_t StringMemoryType();
void FreeString(char* s);

// Owns one hid_t and closes it with the matching H5*close.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      Reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { Reset(); }
  hid_t id() const { return id_; }
  void Reset();                      // closes, ignoring failure (unwinding after an error)
  void Close(const std::string& what);  // closes; throws h5::Error naming `what` on failure

 private:
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

// Elements [offset, offset + count) of a one-dimensional dataset.
struct Range {
  size_t offset = 0, count = 0;
};

struct ChunkDecoder;  // hdf5.cc
}  // namespace mm::h5
struct libdeflate_compressor;  // libdeflate.h
namespace mm::h5 {

// Encodes chunks of doubles as HDF5's shuffle and deflate filters store them (a column made by CreateF64 with
// compress), with libdeflate (level 1: 1.1-1.3x faster than zlib's level 1 on lake chunks, and 9-14%
// smaller), so that a chunk can be encoded on any rank; written with Dataset::WriteChunk it reads back
// through any HDF5 reader. One encoder per thread.
class ChunkEncoder {
 public:
  explicit ChunkEncoder(size_t rows);  // values per chunk (the dataset's chunk size)
  // `n` values (at most rows; a short last chunk is padded with zeros) as stored: valid until the next call.
  const std::vector<uint8_t>& Encode(const double* values, size_t n);
  size_t rows() const { return rows_; }

 private:
  size_t rows_;
  std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)> deflater_;
  std::vector<uint8_t> shuffled_, stored_;
};

// An open one-dimensional dataset, for many reads or writes without reopening it.
class Dataset {
 public:
  Dataset() = default;
  Dataset(Handle h, std::string name) : handle_(std::move(h)), name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  size_t Length() const;
  // Elements [offset, offset + values.size()).
  void Write(size_t offset, const std::vector<double>& values) const;
  void Write(size_t offset, const std::vector<int64_t>& values) const;
  void Write(size_t offset, const std::vector<int32_t>& values) const;
  void Write(size_t offset, const std::vector<std::string>& values) const;
  void Write(size_t offset, const std::vector<uint8_t>& values) const;
  // The chunk whose first element is `first` (a multiple of the chunk size), as a ChunkEncoder for this
  // dataset's chunk size stored it, written without HDF5's filter pipeline.
  void WriteChunk(size_t first, std::span<const uint8_t> stored) const;
  // Grows (or shrinks) the dataset to `rows` (it is created extendible).
  void Resize(size_t rows) const;
  void SetAttr(const std::string& name, const std::string& value) const;
  void Close() { handle_.Close(name_); }
  // Reads or writes `count` elements of memory type `mem_type` at `offset`.
  void Transfer(hid_t mem_type, size_t offset, size_t count, void* data, bool write) const;
  // Reads the elements of `ranges` (ascending, not overlapping; empty ones allowed) into `data`, one range
  // after another, each chunk they touch read and decompressed once. Doubles stored as this program stores
  // numbers (shuffle, then deflate) are decoded here, chunk by chunk, with libdeflate, which inflates 2-4x
  // faster than the zlib of HDF5's filter (the last chunk is kept: consecutive reads share one at their
  // boundary); anything else is one HDF5 read of a selection of the ranges.
  void ReadRanges(hid_t mem_type, const std::vector<Range>& ranges, void* data) const;

 private:
  Handle handle_;
  std::string name_;  // file:/path, for messages
  mutable std::shared_ptr<ChunkDecoder> decoder_;  // ReadRanges' own decoding, once known to apply
  mutable bool decoder_checked_ = false;
};

// A file or group: the place datasets and attributes live.
class Location {
 public:
  Location() = default;  // none yet: assign one of the below
  // Truncates. Messages name the file `display_name` when given (the final name of a temporary).
  static Location CreateFile(const std::string& path, const std::string& display_name = "");
  static Location OpenFile(const std::string& path, bool writable = false);
  // Flushes and closes a file (or closes a group), checked: a full disk shows here, if not before.
  void Close();

  Location Group(const std::string& name) const;        // opens
  Location CreateGroup(const std::string& name) const;
  bool Exists(const std::string& name) const;
  const std::string& name() const { return name_; }
  hid_t id() const { return handle_.id(); }

  // Whole-column writes. Numeric columns are chunked and deflate-compressed; empty columns are allowed.
  void WriteF64(const std::string& name, const std::vector<double>& v) const;
  void WriteI64(const std::string& name, const std::vector<int64_t>& v, size_t chunk = 0) const;
  void WriteStrings(const std::string& name, const std::vector<std::string>& v, size_t chunk = 0) const;

  // Preallocated columns of length n, filled piecewise through the Dataset returned. `chunk` rows per chunk
  // (0: the default, 64k for numbers, 4k for strings). Numbers are compressed unless `compress` is false.
  Dataset CreateF64(const std::string& name, size_t n, size_t chunk = 0, bool compress = true) const;
  Dataset CreateI64(const std::string& name, size_t n, size_t chunk = 0) const;
  Dataset CreateI32(const std::string& name, size_t n, size_t chunk = 0) const;
  Dataset CreateU8(const std::string& name, size_t n, size_t chunk = 0) const;
  Dataset CreateStrings(const std::string& name, size_t n, size_t chunk = 0) const;
  Dataset OpenColumn(const std::string& name) const;
  // Rows per chunk of a column.
  size_t ChunkRows(const std::string& name) const;

  // Reads of [offset, offset + count); count = npos reads to the end.
  static constexpr size_t npos = static_cast<size_t>(-1);
  size_t Length(const std::string& name) const;
  bool IsStringColumn(const std::string& name) const;
  std::vector<double> ReadF64(const std::string& name, size_t offset = 0, size_t count = npos) const;
  std::vector<int64_t> ReadI64(const std::string& name, size_t offset = 0, size_t count = npos) const;
  std::vector<int32_t> ReadI32(const std::string& name, size_t offset = 0, size_t count = npos) const;
  std::vector<uint8_t> ReadU8(const std::string& name, size_t offset = 0, size_t count = npos) const;
  std::vector<std::string> ReadStrings(const std::string& name, size_t offset = 0, size_t count = npos) const;

  // Attributes on this file or group.
  void SetAttr(const std::string& name, const std::string& value) const;
  void SetAttr(const std::string& name, int64_t value) const;
  void SetAttr(const std::string& name, const std::vector<double>& value) const;
  void SetAttr(const std::string& name, const std::vector<std::string>& value) const;
  bool HasAttr(const std::string& name) const;
  std::string GetAttrString(const std::string& name) const;
  int64_t GetAttrI64(const std::string& name) const;
  std::vector<double> GetAttrF64s(const std::string& name) const;
  std::vector<std::string> GetAttrStrings(const std::string& name) const;

 private:
  Location(Handle h, std::string name) : handle_(std::move(h)), name_(std::move(name)) {}
  Handle OpenDataset(const std::string& name) const;
  Dataset CreateColumn(const std::string& name, hid_t type, size_t n, bool compress, size_t chunk) const;
  void ReadRange(const std::string& name, hid_t mem_type, size_t offset, size_t count, void* data) const;
  size_t Clamp(const std::string& name, size_t offset, size_t count) const;
  Handle handle_;
  std::string name_;  // file path, or path/group for error messages
};

}  // namespace mm::h5

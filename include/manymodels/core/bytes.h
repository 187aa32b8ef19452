// Plain little-endian byte encoding of fitted models and result batches.
// The format is the same on every rank and every platform this program builds on (x86-64, aarch64).
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mm {

class ByteWriter {
 public:
  void PutU8(uint8_t v) { bytes_.push_back(v); }
  void PutI64(int64_t v) { PutRaw(&v, sizeof v); }
  void PutU64(uint64_t v) { PutRaw(&v, sizeof v); }
  void PutF64(double v) { PutRaw(&v, sizeof v); }
  void PutString(std::string_view s) {
    PutU64(s.size());
    PutRaw(s.data(), s.size());
  }
  void PutF64s(const std::vector<double>& v) {
    PutU64(v.size());
    PutRaw(v.data(), v.size() * sizeof(double));
  }
  void PutBytes(const std::vector<uint8_t>& v) {
    PutU64(v.size());
    PutRaw(v.data(), v.size());
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  void PutRaw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  std::vector<uint8_t> bytes_;
};

// Reads what ByteWriter wrote; throws std::runtime_error on truncated or corrupt input.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  explicit ByteReader(const std::vector<uint8_t>& v) : ByteReader(v.data(), v.size()) {}

  uint8_t GetU8() { return Get<uint8_t>(); }
  int64_t GetI64() { return Get<int64_t>(); }
  uint64_t GetU64() { return Get<uint64_t>(); }
  double GetF64() { return Get<double>(); }
  std::string GetString() {
    const uint64_t n = Count(1);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  std::vector<double> GetF64s() {
    const uint64_t n = Count(sizeof(double));
    std::vector<double> v(n);
    if (n) std::memcpy(v.data(), data_ + pos_, n * sizeof(double));
    pos_ += n * sizeof(double);
    return v;
  }
  std::vector<uint8_t> GetBytes() {
    const uint64_t n = Count(1);
    std::vector<uint8_t> v(data_ + pos_, data_ + pos_ + n);
    pos_ += n;
    return v;
  }
  // The next `n` bytes, in place.
  const uint8_t* GetRaw(size_t n) {
    Need(n);
    pos_ += n;
    return data_ + pos_ - n;
  }
  bool AtEnd() const { return pos_ == size_; }

 private:
  template <typename T>
  T Get() {
    Need(sizeof(T));
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  uint64_t Count(size_t elem) {
    const uint64_t n = Get<uint64_t>();
    if (n > (size_ - pos_) / elem) throw std::runtime_error("corrupt byte stream: length past the end");
    return n;
  }
  void Need(size_t n) const {
    if (size_ - pos_ < n) throw std::runtime_error("corrupt byte stream: truncated");
  }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace mm

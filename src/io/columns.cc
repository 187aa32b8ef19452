#include "manymodels/io/columns.h"

#include <algorithm>

namespace mm {
namespace {

constexpr size_t kBytesChunk = 1 << 18;

h5::Dataset Create(const h5::Location& where, const std::string& name, size_t rows, bool compress, size_t chunk,
                   const double*) {
  return where.CreateF64(name, rows, chunk, compress);
}
h5::Dataset Create(const h5::Location& where, const std::string& name, size_t rows, bool, size_t chunk,
                   const int64_t*) {
  return where.CreateI64(name, rows, chunk);
}
h5::Dataset Create(const h5::Location& where, const std::string& name, size_t rows, bool, size_t chunk,
                   const int32_t*) {
  return where.CreateI32(name, rows, chunk);
}


}  // namespace

template <typename T>
ColumnWriter<T>::ColumnWriter(const h5::Location& where, const std::string& name, size_t rows, bool compress,
                              size_t chunk)
    : dataset_(Create(where, name, rows, compress, chunk, static_cast<const T*>(nullptr))), rows_(rows) {
  chunk_ = std::max<size_t>(1, where.ChunkRows(name));
}

template <typename T>
void ColumnWriter<T>::Put(size_t first, const std::vector<T>& values) {
  if (first + values.size() > rows_) throw h5::Error(dataset_.name() + ": rows past the end");
  size_t i = 0;
  while (i < values.size()) {
    const size_t row = first + i, chunk = row / chunk_, begin = chunk * chunk_;
    const size_t size = std::min(chunk_, rows_ - begin);
    const size_t take = std::min(values.size() - i, begin + size - row);
    if (row == begin && take == size) {
      // A whole chunk in hand: straight to the file.
      dataset_.Write(begin, std::vector<T>(values.begin() + i, values.begin() + i + take));
    } else {
      Pending& p = pending_[chunk];
      if (p.values.empty()) p.values.resize(size);
      std::copy(values.begin() + i, values.begin() + i + take, p.values.begin() + (row - begin));
      p.filled += take;
      if (p.filled > size) throw h5::Error(dataset_.name() + ": a row was written twice");
      if (p.filled == size) {
        Flush(chunk, p);
        pending_.erase(chunk);
      }
    }
    i += take;
  }
}

template <typename T>
void ColumnWriter<T>::Flush(size_t chunk, Pending& p) {
  dataset_.Write(chunk * chunk_, p.values);
}

template <typename T>
void ColumnWriter<T>::Close() {
  if (!pending_.empty())
    throw h5::Error(dataset_.name() + ": " + std::to_string(pending_.size()) + " chunk(s) still missing rows");
  dataset_.Close();
}

template class ColumnWriter<double>;
template class ColumnWriter<int64_t>;
template class ColumnWriter<int32_t>;

DictionaryColumnWriter::DictionaryColumnWriter(const h5::Location& where, const std::string& name, size_t rows,
                                               size_t chunk)
    : group_(std::make_unique<h5::Location>(where.CreateGroup(name))) {
  group_->SetAttr("encoding", std::string("dictionary"));
  codes_ = ColumnWriter<int32_t>(*group_, "codes", rows, true, chunk);
}

void DictionaryColumnWriter::Put(size_t first, const std::vector<std::string>& values) {
  std::vector<int32_t> codes(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    auto [it, added] = code_of_.try_emplace(values[i], static_cast<int32_t>(values_.size()));
    if (added) values_.push_back(values[i]);
    codes[i] = it->second;
  }
  codes_.Put(first, codes);
}

void DictionaryColumnWriter::Close() {
  codes_.Close();
  group_->WriteStrings("values", values_);
  group_->Close();
}

BytesColumnWriter::BytesColumnWriter(const h5::Location& where, const std::string& name, size_t rows, size_t chunk)
    : group_(std::make_unique<h5::Location>(where.CreateGroup(name))) {
  group_->SetAttr("encoding", std::string("bytes"));
  offset_ = ColumnWriter<int64_t>(*group_, "offset", rows, true, chunk);
  size_ = ColumnWriter<int64_t>(*group_, "size", rows, true, chunk);
  bytes_ = group_->CreateU8("bytes", 0, kBytesChunk);
}

void BytesColumnWriter::Put(size_t first, const std::vector<std::vector<uint8_t>>& values) {
  std::vector<int64_t> offsets(values.size()), sizes(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    offsets[i] = static_cast<int64_t>(written_ + buffer_.size());
    sizes[i] = static_cast<int64_t>(values[i].size());
    buffer_.insert(buffer_.end(), values[i].begin(), values[i].end());
  }
  offset_.Put(first, offsets);
  size_.Put(first, sizes);
  if (buffer_.size() >= 4 * kBytesChunk) FlushBytes(false);
}

// Writes the whole chunks in the buffer (all of it at the end), so each chunk is compressed and written once.
void BytesColumnWriter::FlushBytes(bool all) {
  const size_t n = all ? buffer_.size() : buffer_.size() / kBytesChunk * kBytesChunk;
  if (n == 0) return;
  bytes_.Resize(written_ + n);
  bytes_.Write(written_, std::vector<uint8_t>(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n)));
  written_ += n;
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
}

void BytesColumnWriter::Close() {
  FlushBytes(true);
  offset_.Close();
  size_.Close();
  bytes_.Close();
  group_->Close();
}

std::vector<std::vector<uint8_t>> ReadBytesColumn(const h5::Location& where, const std::string& name, size_t offset,
                                                  size_t count) {
  const h5::Location group = where.Group(name);
  const std::vector<int64_t> offsets = group.ReadI64("offset", offset, count), sizes = group.ReadI64("size", offset, count);
  if (sizes.size() != offsets.size()) throw h5::Error(group.name() + ": offset and size disagree in length");
  std::vector<std::vector<uint8_t>> out(offsets.size());
  if (out.empty()) return out;
  // One read of the span the rows cover (rows written together lie together).
  int64_t lo = offsets[0], hi = offsets[0];
  for (size_t i = 0; i < offsets.size(); ++i) {
    if (offsets[i] < 0 || sizes[i] < 0) throw h5::Error(group.name() + ": negative offset or size");
    lo = std::min(lo, offsets[i]);
    hi = std::max(hi, offsets[i] + sizes[i]);
  }
  const size_t total = group.Length("bytes");
  if (static_cast<size_t>(hi) > total) throw h5::Error(group.name() + ": bytes past the end");
  const std::vector<uint8_t> span = group.ReadU8("bytes", static_cast<size_t>(lo), static_cast<size_t>(hi - lo));
  for (size_t i = 0; i < out.size(); ++i) {
    const auto b = span.begin() + (offsets[i] - lo);
    out[i].assign(b, b + sizes[i]);
  }
  return out;
}

std::vector<std::string> ReadDictionaryValues(const h5::Location& where, const std::string& name) {
  return where.Group(name).ReadStrings("values");
}

std::vector<std::string> ReadDictionaryColumn(const h5::Location& where, const std::string& name,
                                              const std::vector<std::string>& values, size_t offset, size_t count) {
  const h5::Location group = where.Group(name);
  const std::vector<int32_t> codes = group.ReadI32("codes", offset, count);
  std::vector<std::string> out(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) {
    if (codes[i] < 0 || static_cast<size_t>(codes[i]) >= values.size())
      throw h5::Error(group.name() + ": code " + std::to_string(codes[i]) + " has no value");
    out[i] = values[static_cast<size_t>(codes[i])];
  }
  return out;
}

std::vector<std::string> ReadDictionaryColumn(const h5::Location& where, const std::string& name, size_t offset,
                                              size_t count) {
  return ReadDictionaryColumn(where, name, ReadDictionaryValues(where, name), offset, count);
}

}  // namespace mm

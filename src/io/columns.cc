#include "manymodels/io/columns.h"

#include <algorithm>

namespace mm {
namespace {

constexpr size_t kBytesChunk = 1 << 18;
// Bytes between two rows' bytes that a read takes in rather than starting another hyperslab (a few models).
constexpr size_t kBytesGap = 1 << 12;

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
  PutValues(first, values);
}

void BytesColumnWriter::Put(size_t first, const std::vector<std::string>& values) {
  PutValues(first, values);
}

template <typename Value>
void BytesColumnWriter::PutValues(size_t first, const std::vector<Value>& values) {
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

BytesColumnReader::BytesColumnReader(const h5::Location& where, const std::string& name) {
  const h5::Location group = where.Group(name);
  name_ = group.name();
  offset_ = group.OpenColumn("offset");
  size_ = group.OpenColumn("size");
  bytes_ = group.OpenColumn("bytes");
  rows_ = offset_.Length();
  length_ = bytes_.Length();
  if (size_.Length() != rows_) throw h5::Error(name_ + ": offset and size disagree in length");
}

std::vector<std::vector<uint8_t>> BytesColumnReader::Read(const std::vector<size_t>& rows) const {
  std::vector<std::vector<uint8_t>> out(rows.size());
  if (rows.empty()) return out;
  const auto [lo_row, hi_row] = std::minmax_element(rows.begin(), rows.end());
  const size_t first = *lo_row, span = *hi_row + 1 - first;
  if (*hi_row >= rows_)
    throw h5::Error(name_ + ": no row " + std::to_string(*hi_row) + " (" + std::to_string(rows_) + " rows)");
  std::vector<int64_t> offsets(span), sizes(span);
  offset_.Transfer(H5T_NATIVE_INT64, first, span, offsets.data(), false);
  size_.Transfer(H5T_NATIVE_INT64, first, span, sizes.data(), false);
  std::vector<size_t> order(rows.size());  // indices into rows, by the offset of their bytes
  for (size_t i = 0; i < rows.size(); ++i) {
    const size_t r = rows[i] - first;
    if (offsets[r] < 0 || sizes[r] < 0) throw h5::Error(name_ + ": negative offset or size");
    if (static_cast<size_t>(offsets[r]) + static_cast<size_t>(sizes[r]) > length_)
      throw h5::Error(name_ + ": bytes past the end");
    order[i] = i;
  }
  auto begin_of = [&](size_t i) { return static_cast<size_t>(offsets[rows[i] - first]); };
  auto end_of = [&](size_t i) { return begin_of(i) + static_cast<size_t>(sizes[rows[i] - first]); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return begin_of(a) < begin_of(b); });
  std::vector<uint8_t> run;
  for (size_t i = 0; i < order.size();) {
    const size_t lo = begin_of(order[i]);
    size_t hi = end_of(order[i]), j = i + 1;
    while (j < order.size() && begin_of(order[j]) <= hi + kBytesGap) hi = std::max(hi, end_of(order[j++]));
    run.resize(hi - lo);
    bytes_.Transfer(H5T_NATIVE_UINT8, lo, run.size(), run.data(), false);
    for (size_t k = i; k < j; ++k) {
      const auto b = run.begin() + static_cast<std::ptrdiff_t>(begin_of(order[k]) - lo);
      out[order[k]].assign(b, b + sizes[rows[order[k]] - first]);
    }
    i = j;
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

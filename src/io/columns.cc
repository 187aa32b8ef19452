#include "manymodels/io/columns.h"

#include <algorithm>

namespace mm {
namespace {

h5::Dataset Create(const h5::Location& where, const std::string& name, size_t rows, const double*) {
  return where.CreateF64(name, rows);
}
h5::Dataset Create(const h5::Location& where, const std::string& name, size_t rows, const int64_t*) {
  return where.CreateI64(name, rows);
}
h5::Dataset Create(const h5::Location& where, const std::string& name, size_t rows, const int32_t*) {
  return where.CreateI32(name, rows);
}
h5::Dataset Create(const h5::Location& where, const std::string& name, size_t rows, const std::vector<uint8_t>*) {
  return where.CreateBlobs(name, rows);
}

}  // namespace

template <typename T>
ColumnWriter<T>::ColumnWriter(const h5::Location& where, const std::string& name, size_t rows)
    : dataset_(Create(where, name, rows, static_cast<const T*>(nullptr))), rows_(rows) {
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
template class ColumnWriter<std::vector<uint8_t>>;

DictionaryColumnWriter::DictionaryColumnWriter(const h5::Location& where, const std::string& name, size_t rows)
    : group_(std::make_unique<h5::Location>(where.CreateGroup(name))) {
  group_->SetAttr("encoding", std::string("dictionary"));
  codes_ = ColumnWriter<int32_t>(*group_, "codes", rows);
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

DictionaryColumnReader::DictionaryColumnReader(const h5::Location& where, const std::string& name)
    : group_(std::make_unique<h5::Location>(where.Group(name))) {
  values_ = group_->ReadStrings("values");
  rows_ = group_->Length("codes");
}

std::vector<std::string> DictionaryColumnReader::Read(size_t offset, size_t count) const {
  const std::vector<int32_t> codes = group_->ReadI32("codes", offset, count);
  std::vector<std::string> out(codes.size());
  for (size_t i = 0; i < codes.size(); ++i) {
    if (codes[i] < 0 || static_cast<size_t>(codes[i]) >= values_.size())
      throw h5::Error(group_->name() + ": code " + std::to_string(codes[i]) + " has no value");
    out[i] = values_[static_cast<size_t>(codes[i])];
  }
  return out;
}

std::vector<std::string> ReadDictionaryColumn(const h5::Location& where, const std::string& name, size_t offset,
                                              size_t count) {
  return DictionaryColumnReader(where, name).Read(offset, count);
}

}  // namespace mm

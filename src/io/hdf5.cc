#include "manymodels/io/hdf5.h"

#include <libdeflate.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mm::h5 {
namespace {

// HDF5 prints its error stack to stderr by default; we turn that off once and report errors ourselves.
// Nor does it clean up at exit: a file whose close failed (a full disk) stays open inside HDF5, and its
// clean-up at exit would try again and crash. Every file this program writes is closed explicitly.
struct QuietErrors {
  QuietErrors() {
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
};
const QuietErrors quiet_errors;

// The cause of a failure from HDF5's error stack: the system's message when a file operation failed
// ("... errno = 28, error message = 'No space left on device' ..."), else the innermost description.
struct StackCause {
  std::string innermost, system;
};

herr_t CollectCause(unsigned n, const H5E_error2_t* e, void* out) {
  auto* cause = static_cast<StackCause*>(out);
  if (!e->desc) return 0;
  const std::string desc = e->desc;
  if (n == 0) cause->innermost = desc;
  if (desc.rfind("truncated file", 0) == 0)
    cause->system = "the file is truncated (shorter than HDF5 recorded: a copy cut short, or a write that never "
                    "finished)";
  const auto at = desc.find("error message = '");
  if (cause->system.empty() && at != std::string::npos) {
    const auto begin = at + 17, end = desc.find('\'', begin);
    cause->system = desc.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
  }
  return 0;
}

[[noreturn]] void Fail(const std::string& what) {
  StackCause cause;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, CollectCause, &cause);
  H5Eclear2(H5E_DEFAULT);
  const std::string& detail = cause.system.empty() ? cause.innermost : cause.system;
  throw Error(what + (detail.empty() ? "" : ": " + detail));
}

hid_t Check(hid_t id, const std::string& what) {
  if (id < 0) Fail(what);
  return id;
}

// `call` names the HDF5 function; users are told what it was doing.
void Check(herr_t status, const char* call, const std::string& what) {
  if (status >= 0) return;
  const std::string c = call;
  if (c == "H5Dwrite" || c == "H5Fflush" || c == "H5Awrite") Fail(what + ": cannot write");
  if (c == "H5Dread" || c == "H5Aread") Fail(what + ": cannot read");
  Fail(what + ": " + c + " failed");
}

Handle StringType() {
  Handle t(Check(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  Check(H5Tset_size(t.id(), H5T_VARIABLE), "H5Tset_size", "string type");
  Check(H5Tset_cset(t.id(), H5T_CSET_UTF8), "H5Tset_cset", "string type");
  return t;
}

Handle Space1D(size_t n) {
  const hsize_t dims[1] = {n};
  return Handle(Check(H5Screate_simple(1, dims, nullptr), "H5Screate_simple"), H5Sclose);
}

}  // namespace

hid_t StringMemoryType() {
  static const Handle type = StringType();
  return type.id();
}

void FreeString(char* s) {
  if (s) H5free_memory(s);
}

std::mutex& Mutex() {
  static std::mutex m;
  return m;
}

void Handle::Reset() {
  if (id_ >= 0 && close_) {
    close_(id_);
    H5Eclear2(H5E_DEFAULT);
  }
  id_ = H5I_INVALID_HID;
}

void Handle::Close(const std::string& what) {
  if (id_ < 0 || !close_) return;
  const herr_t rc = close_(id_);
  id_ = H5I_INVALID_HID;
  if (rc < 0) Fail(what + ": cannot close");
}

Location Location::CreateFile(const std::string& path, const std::string& display_name) {
  const std::string& name = display_name.empty() ? path : display_name;
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) Fail(name + ": cannot create HDF5 file");
  return Location(Handle(f, H5Fclose), name);
}

Location Location::OpenFile(const std::string& path, bool writable) {
  // HDF5's own message for a file that is not HDF5 ("file signature not found") means little to a user.
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    FILE* probe = std::fopen(path.c_str(), "rb");
    if (!probe) throw Error(path + ": cannot open: " + std::strerror(errno));
    std::fclose(probe);
    throw Error(path + ": not an HDF5 file");
  }
  hid_t f = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) Fail(path + ": cannot open as an HDF5 file");
  return Location(Handle(f, H5Fclose), path);
}

void Location::Close() {
  if (id() < 0) return;
  if (H5Iget_type(id()) == H5I_FILE) Check(H5Fflush(id(), H5F_SCOPE_LOCAL), "H5Fflush", name_);
  handle_.Close(name_);
}

Location Location::Group(const std::string& name) const {
  hid_t g = H5Gopen2(id(), name.c_str(), H5P_DEFAULT);
  if (g < 0) Fail(name_ + ": no group '" + name + "'");
  return Location(Handle(g, H5Gclose), name_ + ":/" + name);
}

Location Location::CreateGroup(const std::string& name) const {
  hid_t g = H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) Fail(name_ + ": cannot create group '" + name + "'");
  return Location(Handle(g, H5Gclose), name_ + ":/" + name);
}

bool Location::Exists(const std::string& name) const { return H5Lexists(id(), name.c_str(), H5P_DEFAULT) > 0; }

Handle Location::OpenDataset(const std::string& name) const {
  // A chunk cache of a few 64k-row chunks (HDF5's default holds one or two), so that reads in batches smaller
  // than a chunk decompress each chunk once. w0 stays HDF5's 0.75: with w0 = 1 (fully read chunks evicted
  // first) HDF5 1.10.8 never freed chunks read only in part (series' tails): memory grew to the size of all
  // the data read, and reads took 3x longer.
  Handle access(Check(H5Pcreate(H5P_DATASET_ACCESS), "H5Pcreate"), H5Pclose);
  Check(H5Pset_chunk_cache(access.id(), 1009, 8u << 20, 0.75), "H5Pset_chunk_cache", name_ + ":/" + name);
  hid_t d = H5Dopen2(id(), name.c_str(), access.id());
  if (d < 0) Fail(name_ + ": no dataset '" + name + "'");
  return Handle(d, H5Dclose);
}

Dataset Location::CreateColumn(const std::string& name, hid_t type, size_t n, bool compress, size_t chunk) const {
  const hsize_t dims[1] = {n}, maxdims[1] = {H5S_UNLIMITED};
  Handle space(Check(H5Screate_simple(1, dims, maxdims), "H5Screate_simple"), H5Sclose);
  Handle plist(Check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"), H5Pclose);
  if (chunk == 0) chunk = compress ? 65536 : 4096;
  // A column created empty grows later (appends): it gets whole chunks; a fixed one no bigger chunk than itself.
  const hsize_t chunk_dims[1] = {n == 0 ? chunk : std::clamp<hsize_t>(n, 1, chunk)};
  Check(H5Pset_chunk(plist.id(), 1, chunk_dims), "H5Pset_chunk", name_ + ":/" + name);
  if (compress) {
    Check(H5Pset_shuffle(plist.id()), "H5Pset_shuffle", name_ + ":/" + name);
    Check(H5Pset_deflate(plist.id(), 1), "H5Pset_deflate", name_ + ":/" + name);
  }
  // No fill values for numbers: every row is written, so writing them first is wasted work. (HDF5 requires
  // them for variable-length types.)
  if (compress) Check(H5Pset_fill_time(plist.id(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time", name_ + ":/" + name);
  Handle d(H5Dcreate2(id(), name.c_str(), type, space.id(), H5P_DEFAULT, plist.id(), H5P_DEFAULT), H5Dclose);
  if (d.id() < 0) Fail(name_ + ": cannot create dataset '" + name + "'");
  return Dataset(std::move(d), name_ + ":/" + name);
}

Dataset Location::OpenColumn(const std::string& name) const { return Dataset(OpenDataset(name), name_ + ":/" + name); }

size_t Location::ChunkRows(const std::string& name) const {
  Handle d = OpenDataset(name);
  Handle plist(Check(H5Dget_create_plist(d.id()), "H5Dget_create_plist"), H5Pclose);
  hsize_t chunk[1] = {0};
  if (H5Pget_layout(plist.id()) != H5D_CHUNKED || H5Pget_chunk(plist.id(), 1, chunk) != 1) return 0;
  return chunk[0];
}

// Reads or writes elements [offset, offset + count) of a one-dimensional dataset.
void Dataset::Transfer(hid_t mem_type, size_t offset, size_t count, void* data, bool write) const {
  if (count == 0) return;
  Handle fspace(Check(H5Dget_space(handle_.id()), "H5Dget_space"), H5Sclose);
  const hsize_t start[1] = {offset}, cnt[1] = {count};
  Check(H5Sselect_hyperslab(fspace.id(), H5S_SELECT_SET, start, nullptr, cnt, nullptr), "H5Sselect_hyperslab",
        name_);
  Handle mspace = Space1D(count);
  if (write)
    Check(H5Dwrite(handle_.id(), mem_type, mspace.id(), fspace.id(), H5P_DEFAULT, data), "H5Dwrite", name_);
  else
    Check(H5Dread(handle_.id(), mem_type, mspace.id(), fspace.id(), H5P_DEFAULT, data), "H5Dread", name_);
}

// A chunked one-dimensional dataset of little-endian doubles whose filters are shuffle then deflate, decoded
// chunk by chunk without HDF5's filter pipeline.
struct ChunkDecoder {
  size_t rows = 0;  // per chunk
  std::unique_ptr<libdeflate_decompressor, void (*)(libdeflate_decompressor*)> inflater{
      libdeflate_alloc_decompressor(), libdeflate_free_decompressor};
  std::vector<uint8_t> stored, shuffled, values;  // a chunk as stored, inflated, and in element order
  size_t chunk = static_cast<size_t>(-1);         // the chunk in `values`

  // A decoder when `dataset` is such a dataset, else null (HDF5 reads it).
  static std::shared_ptr<ChunkDecoder> For(hid_t dataset) {
    Handle plist(H5Dget_create_plist(dataset), H5Pclose);
    Handle type(H5Dget_type(dataset), H5Tclose);
    auto filter = [&](unsigned index) {
      unsigned flags = 0, values[8] = {};
      size_t n_values = 8;
      return H5Pget_filter2(plist.id(), index, &flags, &n_values, values, 0, nullptr, nullptr);
    };
    hsize_t dims[1] = {0};
    const bool fits = plist.id() >= 0 && type.id() >= 0 && H5Pget_layout(plist.id()) == H5D_CHUNKED &&
                      H5Pget_chunk(plist.id(), 1, dims) == 1 && dims[0] > 0 &&
                      H5Tequal(type.id(), H5T_IEEE_F64LE) > 0 &&
                      H5Tequal(H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE) > 0 && H5Pget_nfilters(plist.id()) == 2 &&
                      filter(0) == H5Z_FILTER_SHUFFLE && filter(1) == H5Z_FILTER_DEFLATE;
    H5Eclear2(H5E_DEFAULT);
    if (!fits) return nullptr;
    auto d = std::make_shared<ChunkDecoder>();
    d->rows = dims[0];
    return d->inflater ? d : nullptr;
  }

  // Chunk c's values into `values`; `length` is the dataset's.
  void Load(const Dataset& d, hid_t dataset, size_t c, size_t length) {
    if (c == chunk) return;
    chunk = static_cast<size_t>(-1);
    const hsize_t offset[1] = {c * rows};
    hsize_t size = 0;
    Check(H5Dget_chunk_storage_size(dataset, offset, &size), "H5Dread", d.name());
    stored.resize(size);
    uint32_t skipped = 0;  // filters not applied to this chunk (HDF5 may store a chunk deflate cannot shrink)
    if (size > 0)
      Check(H5Dread_chunk(dataset, H5P_DEFAULT, offset, &skipped, stored.data()), "H5Dread", d.name());
    const size_t bytes = rows * sizeof(double);
    values.resize(bytes);
    if (size == 0 || skipped != 0) {  // not as written here: HDF5's own read
      d.Transfer(H5T_NATIVE_DOUBLE, c * rows, std::min(rows, length - c * rows), values.data(), false);
      chunk = c;
      return;
    }
    shuffled.resize(bytes);
    size_t got = 0;
    if (libdeflate_zlib_decompress(inflater.get(), stored.data(), stored.size(), shuffled.data(), bytes,
                                   &got) != LIBDEFLATE_SUCCESS ||
        got != bytes)
      throw Error(d.name() + ": cannot read: chunk " + std::to_string(c) + " does not inflate to " +
                  std::to_string(rows) + " values");
    // Byte b of element i was stored at b * rows + i.
    for (size_t b = 0; b < sizeof(double); ++b)
      for (size_t i = 0; i < rows; ++i) values[i * sizeof(double) + b] = shuffled[b * rows + i];
    chunk = c;
  }
};

ChunkEncoder::ChunkEncoder(size_t rows)
    : rows_(rows), deflater_(libdeflate_alloc_compressor(1), libdeflate_free_compressor) {
  if (!deflater_) throw std::bad_alloc();
  shuffled_.resize(rows * sizeof(double));
  stored_.resize(libdeflate_zlib_compress_bound(deflater_.get(), shuffled_.size()));
}

const std::vector<uint8_t>& ChunkEncoder::Encode(const double* values, size_t n) {
  if (n > rows_) throw std::logic_error("ChunkEncoder: more values than a chunk holds");
  // Byte b of element i is stored at b * rows + i (the shuffle filter), as little-endian doubles.
  static_assert(sizeof(double) == 8 && std::endian::native == std::endian::little);
  const auto* in = reinterpret_cast<const uint8_t*>(values);
  std::fill(shuffled_.begin(), shuffled_.end(), uint8_t{0});
  for (size_t i = 0; i < n; ++i)
    for (size_t b = 0; b < sizeof(double); ++b) shuffled_[b * rows_ + i] = in[i * sizeof(double) + b];
  stored_.resize(libdeflate_zlib_compress_bound(deflater_.get(), shuffled_.size()));
  const size_t size = libdeflate_zlib_compress(deflater_.get(), shuffled_.data(), shuffled_.size(),
                                               stored_.data(), stored_.size());
  if (size == 0) throw std::logic_error("ChunkEncoder: libdeflate found its bound too small");
  stored_.resize(size);
  return stored_;
}

void Dataset::WriteChunk(size_t first, std::span<const uint8_t> stored) const {
  const hsize_t offset[1] = {first};
  Check(H5Dwrite_chunk(handle_.id(), H5P_DEFAULT, 0, offset, stored.size(), stored.data()), "H5Dwrite_chunk",
        name_);
}

void Dataset::ReadRanges(hid_t mem_type, const std::vector<Range>& ranges, void* data) const {
  if (!decoder_checked_) {
    decoder_ = ChunkDecoder::For(handle_.id());
    decoder_checked_ = true;
  }
  if (decoder_ && H5Tequal(mem_type, H5T_NATIVE_DOUBLE) > 0) {
    const size_t length = Length();
    size_t end = 0;
    auto* out = static_cast<uint8_t*>(data);
    for (const Range& r : ranges) {
      if (r.count == 0) continue;
      if (r.offset < end) throw Error(name_ + ": ranges to read overlap or are out of order");
      if (r.offset + r.count > length) throw Error(name_ + ": read past the end");
      for (size_t at = r.offset; at < r.offset + r.count;) {
        const size_t c = at / decoder_->rows, first = at - c * decoder_->rows;
        const size_t take = std::min(r.offset + r.count - at, decoder_->rows - first);
        decoder_->Load(*this, handle_.id(), c, length);
        std::memcpy(out, decoder_->values.data() + first * sizeof(double), take * sizeof(double));
        out += take * sizeof(double);
        at += take;
      }
      end = r.offset + r.count;
    }
    return;
  }
  Handle fspace(Check(H5Dget_space(handle_.id()), "H5Dget_space"), H5Sclose);
  size_t total = 0, end = 0;
  for (const Range& r : ranges) {
    if (r.count == 0) continue;
    if (total > 0 && r.offset < end) throw Error(name_ + ": ranges to read overlap or are out of order");
    const hsize_t start[1] = {r.offset}, cnt[1] = {r.count};
    Check(H5Sselect_hyperslab(fspace.id(), total == 0 ? H5S_SELECT_SET : H5S_SELECT_OR, start, nullptr, cnt,
                              nullptr),
          "H5Sselect_hyperslab", name_);
    total += r.count;
    end = r.offset + r.count;
  }
  if (total == 0) return;
  Handle mspace = Space1D(total);
  Check(H5Dread(handle_.id(), mem_type, mspace.id(), fspace.id(), H5P_DEFAULT, data), "H5Dread", name_);
}

size_t Dataset::Length() const {
  Handle space(Check(H5Dget_space(handle_.id()), "H5Dget_space"), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.id()) != 1) throw Error(name_ + ": not a one-dimensional column");
  hsize_t dims[1] = {0};
  H5Sget_simple_extent_dims(space.id(), dims, nullptr);
  return dims[0];
}

void Dataset::Write(size_t offset, const std::vector<double>& v) const {
  Transfer(H5T_NATIVE_DOUBLE, offset, v.size(), const_cast<double*>(v.data()), true);
}
void Dataset::Write(size_t offset, const std::vector<int64_t>& v) const {
  Transfer(H5T_NATIVE_INT64, offset, v.size(), const_cast<int64_t*>(v.data()), true);
}
void Dataset::Write(size_t offset, const std::vector<int32_t>& v) const {
  Transfer(H5T_NATIVE_INT32, offset, v.size(), const_cast<int32_t*>(v.data()), true);
}
void Dataset::Write(size_t offset, const std::vector<std::string>& v) const {
  std::vector<const char*> p(v.size());
  for (size_t i = 0; i < v.size(); ++i) p[i] = v[i].c_str();
  Transfer(StringType().id(), offset, v.size(), p.data(), true);
}
void Dataset::Write(size_t offset, const std::vector<uint8_t>& v) const {
  Transfer(H5T_NATIVE_UINT8, offset, v.size(), const_cast<uint8_t*>(v.data()), true);
}
void Dataset::Resize(size_t rows) const {
  const hsize_t dims[1] = {rows};
  Check(H5Dset_extent(handle_.id(), dims), "H5Dset_extent", name_);
}
void Location::ReadRange(const std::string& name, hid_t mem_type, size_t offset, size_t count, void* data) const {
  if (count == 0) return;
  Dataset(OpenDataset(name), name_ + ":/" + name).Transfer(mem_type, offset, count, data, false);
}

size_t Location::Clamp(const std::string& name, size_t offset, size_t count) const {
  const size_t n = Length(name);
  if (offset > n) throw Error(name_ + ":/" + name + ": read at " + std::to_string(offset) + " past the end");
  return std::min(count, n - offset);
}

size_t Location::Length(const std::string& name) const { return OpenColumn(name).Length(); }

bool Location::IsStringColumn(const std::string& name) const {
  Handle d = OpenDataset(name);
  Handle t(Check(H5Dget_type(d.id()), "H5Dget_type"), H5Tclose);
  return H5Tget_class(t.id()) == H5T_STRING;
}

Dataset Location::CreateF64(const std::string& name, size_t n, size_t chunk, bool compress) const {
  return CreateColumn(name, H5T_IEEE_F64LE, n, compress, compress ? chunk : (chunk ? chunk : 65536));
}
Dataset Location::CreateI64(const std::string& name, size_t n, size_t chunk) const {
  return CreateColumn(name, H5T_STD_I64LE, n, true, chunk);
}
Dataset Location::CreateI32(const std::string& name, size_t n, size_t chunk) const {
  return CreateColumn(name, H5T_STD_I32LE, n, true, chunk);
}
Dataset Location::CreateU8(const std::string& name, size_t n, size_t chunk) const {
  return CreateColumn(name, H5T_STD_U8LE, n, true, chunk);
}
Dataset Location::CreateStrings(const std::string& name, size_t n, size_t chunk) const {
  return CreateColumn(name, StringType().id(), n, false, chunk);
}
void Location::WriteF64(const std::string& name, const std::vector<double>& v) const {
  Dataset d = CreateF64(name, v.size());
  d.Write(0, v);
  d.Close();
}
void Location::WriteI64(const std::string& name, const std::vector<int64_t>& v, size_t chunk) const {
  Dataset d = CreateI64(name, v.size(), chunk);
  d.Write(0, v);
  d.Close();
}
void Location::WriteStrings(const std::string& name, const std::vector<std::string>& v, size_t chunk) const {
  Dataset d = CreateStrings(name, v.size(), chunk);
  d.Write(0, v);
  d.Close();
}
std::vector<double> Location::ReadF64(const std::string& name, size_t offset, size_t count) const {
  std::vector<double> v(Clamp(name, offset, count));
  ReadRange(name, H5T_NATIVE_DOUBLE, offset, v.size(), v.data());
  return v;
}
std::vector<int64_t> Location::ReadI64(const std::string& name, size_t offset, size_t count) const {
  std::vector<int64_t> v(Clamp(name, offset, count));
  ReadRange(name, H5T_NATIVE_INT64, offset, v.size(), v.data());
  return v;
}
std::vector<int32_t> Location::ReadI32(const std::string& name, size_t offset, size_t count) const {
  std::vector<int32_t> v(Clamp(name, offset, count));
  ReadRange(name, H5T_NATIVE_INT32, offset, v.size(), v.data());
  return v;
}
std::vector<uint8_t> Location::ReadU8(const std::string& name, size_t offset, size_t count) const {
  std::vector<uint8_t> v(Clamp(name, offset, count));
  ReadRange(name, H5T_NATIVE_UINT8, offset, v.size(), v.data());
  return v;
}
std::vector<std::string> Location::ReadStrings(const std::string& name, size_t offset, size_t count) const {
  const size_t n = Clamp(name, offset, count);
  std::vector<char*> p(n, nullptr);
  Handle type = StringType();
  ReadRange(name, type.id(), offset, n, p.data());
  std::vector<std::string> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = p[i] ? p[i] : "";
  if (n) {
    Handle space = Space1D(n);
    H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, p.data());
  }
  return v;
}
namespace {

// An empty list is stored with a null dataspace (HDF5 has no zero-length simple attribute).
void WriteAttr(hid_t loc, const std::string& where, const std::string& name, hid_t type, hid_t space,
               const void* data, bool empty = false) {
  if (H5Aexists(loc, name.c_str()) > 0) Check(H5Adelete(loc, name.c_str()), "H5Adelete", where + " attribute " + name);
  Handle null_space;
  if (empty) {
    null_space = Handle(Check(H5Screate(H5S_NULL), "H5Screate"), H5Sclose);
    space = null_space.id();
  }
  Handle a(H5Acreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (a.id() < 0) Fail(where + ": cannot create attribute '" + name + "'");
  if (!empty) Check(H5Awrite(a.id(), type, data), "H5Awrite", where + " attribute " + name);
  a.Close(where + " attribute " + name);
}

Handle OpenAttr(hid_t loc, const std::string& where, const std::string& name) {
  hid_t a = H5Aopen(loc, name.c_str(), H5P_DEFAULT);
  if (a < 0) Fail(where + ": no attribute '" + name + "'");
  return Handle(a, H5Aclose);
}

}  // namespace

void Location::SetAttr(const std::string& name, const std::string& value) const {
  Handle type = StringType();
  Handle space(Check(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  const char* p = value.c_str();
  WriteAttr(id(), name_, name, type.id(), space.id(), &p);
}
void Location::SetAttr(const std::string& name, int64_t value) const {
  Handle space(Check(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  WriteAttr(id(), name_, name, H5T_NATIVE_INT64, space.id(), &value);
}
void Location::SetAttr(const std::string& name, const std::vector<double>& value) const {
  Handle space = Space1D(value.size());
  WriteAttr(id(), name_, name, H5T_NATIVE_DOUBLE, space.id(), value.data(), value.empty());
}
void Location::SetAttr(const std::string& name, const std::vector<std::string>& value) const {
  Handle type = StringType();
  Handle space = Space1D(value.size());
  std::vector<const char*> p(value.size());
  for (size_t i = 0; i < value.size(); ++i) p[i] = value[i].c_str();
  WriteAttr(id(), name_, name, type.id(), space.id(), p.data(), value.empty());
}
void Dataset::SetAttr(const std::string& name, const std::string& value) const {
  Handle type = StringType();
  Handle space(Check(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  const char* p = value.c_str();
  WriteAttr(handle_.id(), name_, name, type.id(), space.id(), &p);
}

bool Location::HasAttr(const std::string& name) const { return H5Aexists(id(), name.c_str()) > 0; }

std::string Location::GetAttrString(const std::string& name) const {
  std::vector<std::string> v = GetAttrStrings(name);
  if (v.size() != 1) throw Error(name_ + ": attribute '" + name + "' is not a single string");
  return v[0];
}
int64_t Location::GetAttrI64(const std::string& name) const {
  Handle a = OpenAttr(id(), name_, name);
  int64_t v = 0;
  Check(H5Aread(a.id(), H5T_NATIVE_INT64, &v), "H5Aread", name_ + " attribute " + name);
  return v;
}
std::vector<double> Location::GetAttrF64s(const std::string& name) const {
  Handle a = OpenAttr(id(), name_, name);
  Handle space(Check(H5Aget_space(a.id()), "H5Aget_space"), H5Sclose);
  std::vector<double> v(static_cast<size_t>(H5Sget_simple_extent_npoints(space.id())));
  if (v.empty()) return v;
  Check(H5Aread(a.id(), H5T_NATIVE_DOUBLE, v.data()), "H5Aread", name_ + " attribute " + name);
  return v;
}
std::vector<std::string> Location::GetAttrStrings(const std::string& name) const {
  Handle a = OpenAttr(id(), name_, name);
  Handle space(Check(H5Aget_space(a.id()), "H5Aget_space"), H5Sclose);
  const auto n = static_cast<size_t>(H5Sget_simple_extent_npoints(space.id()));
  Handle type = StringType();
  if (n == 0) return {};
  std::vector<char*> p(n, nullptr);
  Check(H5Aread(a.id(), type.id(), p.data()), "H5Aread", name_ + " attribute " + name);
  std::vector<std::string> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = p[i] ? p[i] : "";
  H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, p.data());
  return v;
}

}  // namespace mm::h5

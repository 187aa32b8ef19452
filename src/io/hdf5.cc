#include "manymodels/io/hdf5.h"

#include <algorithm>
#include <cstring>

namespace mm::h5 {
namespace {

// HDF5 prints its error stack to stderr by default; we turn that off once and report errors ourselves.
struct QuietErrors {
  QuietErrors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};
const QuietErrors quiet_errors;

herr_t InnermostMessage(unsigned n, const H5E_error2_t* e, void* out) {
  if (n == 0 && e->desc) *static_cast<std::string*>(out) = e->desc;
  return 0;
}

[[noreturn]] void Fail(const std::string& what) {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, InnermostMessage, &detail);
  H5Eclear2(H5E_DEFAULT);
  throw Error(what + (detail.empty() ? "" : " (HDF5: " + detail + ")"));
}

hid_t Check(hid_t id, const std::string& what) {
  if (id < 0) Fail(what);
  return id;
}

void Check(herr_t status, const char* call, const std::string& what) {
  if (status < 0) Fail(what + ": " + call + " failed");
}

Handle StringType() {
  Handle t(Check(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  H5Tset_size(t.id(), H5T_VARIABLE);
  H5Tset_cset(t.id(), H5T_CSET_UTF8);
  return t;
}

Handle BlobType() { return Handle(Check(H5Tvlen_create(H5T_NATIVE_UINT8), "H5Tvlen_create"), H5Tclose); }

Handle Space1D(size_t n) {
  const hsize_t dims[1] = {n};
  return Handle(Check(H5Screate_simple(1, dims, nullptr), "H5Screate_simple"), H5Sclose);
}

}  // namespace

std::mutex& Mutex() {
  static std::mutex m;
  return m;
}

void Handle::Reset() {
  if (id_ >= 0 && close_) close_(id_);
  id_ = H5I_INVALID_HID;
}

Location Location::CreateFile(const std::string& path) {
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) Fail(path + ": cannot create HDF5 file");
  return Location(Handle(f, H5Fclose), path);
}

Location Location::OpenFile(const std::string& path, bool writable) {
  hid_t f = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) Fail(path + ": cannot open as an HDF5 file");
  return Location(Handle(f, H5Fclose), path);
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

void Location::Flush() const { Check(H5Fflush(id(), H5F_SCOPE_GLOBAL), "H5Fflush", name_); }

Handle Location::OpenDataset(const std::string& name) const {
  hid_t d = H5Dopen2(id(), name.c_str(), H5P_DEFAULT);
  if (d < 0) Fail(name_ + ": no dataset '" + name + "'");
  return Handle(d, H5Dclose);
}

void Location::CreateColumn(const std::string& name, hid_t type, size_t n, bool compress) const {
  const hsize_t dims[1] = {n}, maxdims[1] = {H5S_UNLIMITED};
  Handle space(Check(H5Screate_simple(1, dims, maxdims), "H5Screate_simple"), H5Sclose);
  Handle plist(Check(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"), H5Pclose);
  const hsize_t chunk[1] = {std::clamp<hsize_t>(n, 1, compress ? 65536 : 4096)};
  Check(H5Pset_chunk(plist.id(), 1, chunk), "H5Pset_chunk", name_ + ":/" + name);
  if (compress) {
    Check(H5Pset_shuffle(plist.id()), "H5Pset_shuffle", name_ + ":/" + name);
    Check(H5Pset_deflate(plist.id(), 1), "H5Pset_deflate", name_ + ":/" + name);
  }
  Handle d(H5Dcreate2(id(), name.c_str(), type, space.id(), H5P_DEFAULT, plist.id(), H5P_DEFAULT), H5Dclose);
  if (d.id() < 0) Fail(name_ + ": cannot create dataset '" + name + "'");
}

// Reads or writes elements [offset, offset + count) of a one-dimensional dataset.
void Location::Transfer(const std::string& name, hid_t mem_type, size_t offset, size_t count, void* data,
                        bool write) const {
  if (count == 0) return;
  Handle d = OpenDataset(name);
  Handle fspace(Check(H5Dget_space(d.id()), "H5Dget_space"), H5Sclose);
  const hsize_t start[1] = {offset}, cnt[1] = {count};
  Check(H5Sselect_hyperslab(fspace.id(), H5S_SELECT_SET, start, nullptr, cnt, nullptr), "H5Sselect_hyperslab",
        name_ + ":/" + name);
  Handle mspace = Space1D(count);
  if (write)
    Check(H5Dwrite(d.id(), mem_type, mspace.id(), fspace.id(), H5P_DEFAULT, data), "H5Dwrite", name_ + ":/" + name);
  else
    Check(H5Dread(d.id(), mem_type, mspace.id(), fspace.id(), H5P_DEFAULT, data), "H5Dread", name_ + ":/" + name);
}

void Location::WriteAt(const std::string& name, hid_t mem_type, size_t offset, size_t count,
                       const void* data) const {
  Transfer(name, mem_type, offset, count, const_cast<void*>(data), true);
}

void Location::ReadRange(const std::string& name, hid_t mem_type, size_t offset, size_t count, void* data) const {
  Transfer(name, mem_type, offset, count, data, false);
}

size_t Location::Clamp(const std::string& name, size_t offset, size_t count) const {
  const size_t n = Length(name);
  if (offset > n) throw Error(name_ + ":/" + name + ": read at " + std::to_string(offset) + " past the end");
  return std::min(count, n - offset);
}

size_t Location::Length(const std::string& name) const {
  Handle d = OpenDataset(name);
  Handle space(Check(H5Dget_space(d.id()), "H5Dget_space"), H5Sclose);
  hsize_t dims[1] = {0};
  if (H5Sget_simple_extent_ndims(space.id()) != 1) throw Error(name_ + ":/" + name + ": not a one-dimensional column");
  H5Sget_simple_extent_dims(space.id(), dims, nullptr);
  return dims[0];
}

bool Location::IsStringColumn(const std::string& name) const {
  Handle d = OpenDataset(name);
  Handle t(Check(H5Dget_type(d.id()), "H5Dget_type"), H5Tclose);
  return H5Tget_class(t.id()) == H5T_STRING;
}

void Location::CreateF64(const std::string& name, size_t n) const { CreateColumn(name, H5T_IEEE_F64LE, n, true); }
void Location::CreateI64(const std::string& name, size_t n) const { CreateColumn(name, H5T_STD_I64LE, n, true); }
void Location::CreateStrings(const std::string& name, size_t n) const {
  CreateColumn(name, StringType().id(), n, false);
}
void Location::CreateBlobs(const std::string& name, size_t n) const { CreateColumn(name, BlobType().id(), n, false); }

void Location::WriteF64At(const std::string& name, size_t offset, const std::vector<double>& v) const {
  WriteAt(name, H5T_NATIVE_DOUBLE, offset, v.size(), v.data());
}
void Location::WriteI64At(const std::string& name, size_t offset, const std::vector<int64_t>& v) const {
  WriteAt(name, H5T_NATIVE_INT64, offset, v.size(), v.data());
}
void Location::WriteStringsAt(const std::string& name, size_t offset, const std::vector<std::string>& v) const {
  std::vector<const char*> p(v.size());
  for (size_t i = 0; i < v.size(); ++i) p[i] = v[i].c_str();
  WriteAt(name, StringType().id(), offset, v.size(), p.data());
}
void Location::WriteBlobsAt(const std::string& name, size_t offset,
                            const std::vector<std::vector<uint8_t>>& v) const {
  std::vector<hvl_t> p(v.size());
  for (size_t i = 0; i < v.size(); ++i) p[i] = {v[i].size(), const_cast<uint8_t*>(v[i].data())};
  WriteAt(name, BlobType().id(), offset, v.size(), p.data());
}

void Location::WriteF64(const std::string& name, const std::vector<double>& v) const {
  CreateF64(name, v.size());
  WriteF64At(name, 0, v);
}
void Location::WriteI64(const std::string& name, const std::vector<int64_t>& v) const {
  CreateI64(name, v.size());
  WriteI64At(name, 0, v);
}
void Location::WriteStrings(const std::string& name, const std::vector<std::string>& v) const {
  CreateStrings(name, v.size());
  WriteStringsAt(name, 0, v);
}
void Location::WriteBlobs(const std::string& name, const std::vector<std::vector<uint8_t>>& v) const {
  CreateBlobs(name, v.size());
  WriteBlobsAt(name, 0, v);
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
std::vector<std::vector<uint8_t>> Location::ReadBlobs(const std::string& name, size_t offset, size_t count) const {
  const size_t n = Clamp(name, offset, count);
  std::vector<hvl_t> p(n, hvl_t{0, nullptr});
  Handle type = BlobType();
  ReadRange(name, type.id(), offset, n, p.data());
  std::vector<std::vector<uint8_t>> v(n);
  for (size_t i = 0; i < n; ++i) {
    const auto* b = static_cast<const uint8_t*>(p[i].p);
    v[i].assign(b, b + p[i].len);
  }
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
  if (H5Aexists(loc, name.c_str()) > 0) H5Adelete(loc, name.c_str());
  Handle null_space;
  if (empty) {
    null_space = Handle(Check(H5Screate(H5S_NULL), "H5Screate"), H5Sclose);
    space = null_space.id();
  }
  Handle a(H5Acreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (a.id() < 0) Fail(where + ": cannot create attribute '" + name + "'");
  if (!empty) Check(H5Awrite(a.id(), type, data), "H5Awrite", where + " attribute " + name);
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

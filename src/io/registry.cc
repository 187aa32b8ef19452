#include "manymodels/io/registry.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "manymodels/io/predictions.h"

namespace mm {
namespace {

// Small chunks, so a binary search over the keys and the read of one row decompress little (registry show,
// and serve's loading of one model).
constexpr size_t kKeyChunk = 4096;
constexpr size_t kRowChunk = 8192;

}  // namespace

void WriteTableMeta(const h5::Location& f, const TableMeta& meta, const KeyTable& keys) {
  f.SetAttr("key_columns", keys.Names());
  f.SetAttr("frequency", std::string(1, FrequencyCode(meta.frequency)));
  f.SetAttr("weekly_anchor", static_cast<int64_t>(meta.weekly_anchor));
  f.SetAttr("season_lengths", meta.season_lengths);
  f.SetAttr("horizon", meta.horizon);
  f.SetAttr("lake", meta.lake);
}

TableMeta ReadTableMeta(const h5::Location& f) {
  TableMeta m;
  auto freq = ParseFrequency(f.GetAttrString("frequency"));
  if (!freq) throw h5::Error(f.name() + ": unknown frequency attribute");
  m.frequency = *freq;
  m.weekly_anchor = static_cast<int>(f.GetAttrI64("weekly_anchor"));
  m.season_lengths = f.GetAttrF64s("season_lengths");
  m.horizon = f.GetAttrI64("horizon");
  m.lake = f.GetAttrString("lake");
  return m;
}

void CheckKind(const h5::Location& f, const std::string& kind, int64_t version, int64_t oldest) {
  if (!f.HasAttr("kind") || f.GetAttrString("kind") != kind)
    throw h5::Error(f.name() + ": not a " + kind + " file (no kind=" + kind + " attribute)");
  const int64_t found = f.GetAttrI64("schema_version");
  if (found > version || found < (oldest > 0 ? oldest : version))
    throw h5::Error(f.name() + ": " + kind + " schema_version " + std::to_string(found) +
                    ", this program reads " +
                    (oldest > 0 && oldest < version ? std::to_string(oldest) + " to " : "") +
                    std::to_string(version) + " (write it again with this program)");
}

RegistryWriter::RegistryWriter(const std::string& path, const KeyTable& keys, const TableMeta& meta,
                               const Provenance& provenance)
    : out_(path), file_(std::make_unique<h5::Location>(h5::Location::CreateFile(out_.temp_path(), out_.path()))) {
  const h5::Location& f = *file_;
  f.SetAttr("schema_version", kRegistrySchemaVersion);
  f.SetAttr("kind", std::string("manymodels-registry"));
  WriteTableMeta(f, meta, keys);
  provenance.WriteTo(f);
  {
    h5::Location group = f.CreateGroup("keys");
    WriteKeys(group, keys, kKeyChunk);
    group.Close();
  }
  const size_t n = keys.size();
  model_ = DictionaryColumnWriter(f, "model", n, kRowChunk);
  method_ = DictionaryColumnWriter(f, "method", n, kRowChunk);
  version_ = DictionaryColumnWriter(f, "version", n, kRowChunk);
  status_ = DictionaryColumnWriter(f, "status", n, kRowChunk);
  note_ = BytesColumnWriter(f, "note", n, kRowChunk);
  mae_ = ColumnWriter<double>(f, "mae", n, false, kRowChunk);
  rmse_ = ColumnWriter<double>(f, "rmse", n, false, kRowChunk);
  mape_ = ColumnWriter<double>(f, "mape", n, false, kRowChunk);
  smape_ = ColumnWriter<double>(f, "smape", n, false, kRowChunk);
  mase_ = ColumnWriter<double>(f, "mase", n, false, kRowChunk);
  n_obs_ = ColumnWriter<int64_t>(f, "n_obs", n, true, kRowChunk);
  last_period_ = ColumnWriter<int64_t>(f, "last_period", n, true, kRowChunk);
  params_ = BytesColumnWriter(f, "params", n, kRowChunk);
}

void RegistryWriter::Write(size_t first, const std::vector<ModelRecord>& rows) {
  std::vector<std::string> s(rows.size());
  auto strings = [&](DictionaryColumnWriter& column, std::string ModelRecord::*field) {
    for (size_t i = 0; i < rows.size(); ++i) s[i] = rows[i].*field;
    column.Put(first, s);
  };
  strings(model_, &ModelRecord::model);
  strings(method_, &ModelRecord::method);
  strings(version_, &ModelRecord::version);
  strings(status_, &ModelRecord::status);
  for (size_t i = 0; i < rows.size(); ++i) s[i] = rows[i].note;
  note_.Put(first, s);
  std::vector<double> d(rows.size());
  auto metric = [&](ColumnWriter<double>& column, double Metrics::*field) {
    for (size_t i = 0; i < rows.size(); ++i) d[i] = rows[i].metrics.*field;
    column.Put(first, d);
  };
  metric(mae_, &Metrics::mae);
  metric(rmse_, &Metrics::rmse);
  metric(mape_, &Metrics::mape);
  metric(smape_, &Metrics::smape);
  metric(mase_, &Metrics::mase);
  std::vector<int64_t> v(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) v[i] = rows[i].n_obs;
  n_obs_.Put(first, v);
  for (size_t i = 0; i < rows.size(); ++i) v[i] = rows[i].last_period;
  last_period_.Put(first, v);
  std::vector<std::vector<uint8_t>> blobs(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) blobs[i] = rows[i].params;
  params_.Put(first, blobs);
}

void RegistryWriter::Finish() {
  for (auto* c : {&model_, &method_, &version_, &status_}) c->Close();
  note_.Close();
  for (auto* c : {&mae_, &rmse_, &mape_, &smape_, &mase_}) c->Close();
  n_obs_.Close();
  last_period_.Close();
  params_.Close();
  SetPeriodUnits(*file_, "last_period");
  file_->Close();
}

void RegistryWriter::Commit() {
  Finish();
  out_.Commit();
}

RegistryReader::RegistryReader(const std::string& path) : path_(path), file_(h5::Location::OpenFile(path)) {
  CheckKind(file_, "manymodels-registry", kRegistrySchemaVersion, kRegistryOldestSchemaVersion);
  meta_ = ReadTableMeta(file_);
  if (file_.HasAttr("run_id")) run_id_ = file_.GetAttrString("run_id");
  key_columns_ = file_.GetAttrStrings("key_columns");
  rows_ = key_columns_.empty() ? 0 : file_.Group("keys").Length(key_columns_[0]);
  const h5::Location keys = file_.Group("keys");
  for (const auto& c : key_columns_)
    if (keys.Length(c) != rows_) throw h5::Error(path + ": key columns disagree in length");
  params_ = BytesColumnReader(file_, "params");
  if (params_.size() != rows_) throw h5::Error(path + ": column 'params' has the wrong length");
  notes_as_text_ = file_.GetAttrI64("schema_version") >= 3;
  if (notes_as_text_) {
    note_ = BytesColumnReader(file_, "note");
    if (note_.size() != rows_) throw h5::Error(path + ": column 'note' has the wrong length");
  } else if (file_.Group("note").Length("codes") != rows_) {
    throw h5::Error(path + ": column 'note' has the wrong length");
  }
  for (const char* c : {"mae", "rmse", "mape", "smape", "mase", "n_obs", "last_period"})
    if (file_.Length(c) != rows_) throw h5::Error(path + ": column '" + std::string(c) + "' has the wrong length");
  for (const char* c : {"model", "method", "version", "status"})
    if (file_.Group(c).Length("codes") != rows_)
      throw h5::Error(path + ": column '" + std::string(c) + "' has the wrong length");
}

KeyTable RegistryReader::ReadKeys(size_t first, size_t count) const {
  return mm::ReadKeys(file_.Group("keys"), key_columns_, first, count);
}

namespace {

// Compares row `row` of the registry's keys with `want` (<0, 0, >0), reading one value per key column.
class KeyProbe {
 public:
  KeyProbe(const h5::Location& file, const std::vector<std::string>& names, const KeyTable& want)
      : want_(want), probe_(want) {
    // Each key column opened once, so its chunk cache serves the probes that fall in one chunk.
    const h5::Location keys = file.Group("keys");
    for (const auto& name : names) columns_.push_back(keys.OpenColumn(name));
  }
  int Compare(size_t row) {
    for (size_t c = 0; c < columns_.size(); ++c) {
      KeyColumn& col = probe_.columns[c];
      if (col.is_text) {
        char* text = nullptr;
        columns_[c].Transfer(h5::StringMemoryType(), row, 1, &text, false);
        col.texts[0] = text ? text : "";
        h5::FreeString(text);
      } else {
        columns_[c].Transfer(H5T_NATIVE_INT64, row, 1, col.ints.data(), false);
      }
    }
    return probe_.Compare(0, want_, 0);
  }

 private:
  const KeyTable& want_;
  KeyTable probe_;
  std::vector<h5::Dataset> columns_;
};

}  // namespace

std::optional<size_t> RegistryReader::Find(const std::vector<std::string>& key) const {
  const std::optional<KeyTable> want = ReadKeys(0, 0).Parse(key);
  if (!want) return std::nullopt;
  KeyProbe probe(file_, key_columns_, *want);
  size_t lo = 0, hi = rows_;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const int cmp = probe.Compare(mid);
    if (cmp == 0) return mid;
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return std::nullopt;
}

std::pair<size_t, size_t> RegistryReader::FindRange(const std::vector<std::string>& key) const {
  const std::optional<KeyTable> want = ReadKeys(0, 0).Parse(key);
  if (!want) return {0, 0};
  KeyProbe probe(file_, key_columns_, *want);
  // First row not below the key, then first row above it.
  auto bound = [&](bool upper) {
    size_t lo = 0, hi = rows_;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      const int cmp = probe.Compare(mid);
      if (cmp < 0 || (upper && cmp == 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const size_t first = bound(false);
  return {first, bound(true)};
}

std::optional<size_t> RegistryReader::FindProduction(const std::vector<std::string>& key) const {
  const auto [first, last] = FindRange(key);
  if (first == last) return std::nullopt;
  const std::vector<std::string> status = ReadDictionaryColumn(file_, "status", Dictionary("status"), first,
                                                                last - first);
  for (size_t i = 0; i < status.size(); ++i)
    if (status[i] == "production") return first + i;
  return std::nullopt;
}

const std::vector<std::string>& RegistryReader::Dictionary(const std::string& name) const {
  auto it = dictionaries_.find(name);
  if (it == dictionaries_.end()) it = dictionaries_.emplace(name, ReadDictionaryValues(file_, name)).first;
  return it->second;
}

std::vector<ModelRecord> RegistryReader::ReadRows(size_t first, size_t count, bool load_params,
                                                  bool load_notes) const {
  if (first > rows_) first = rows_;
  count = std::min(count, rows_ - first);
  std::vector<ModelRecord> rows(count);
  const h5::Location& f = file_;
  auto strings = [&](const char* name, std::string ModelRecord::*field) {
    auto col = ReadDictionaryColumn(f, name, Dictionary(name), first, count);
    for (size_t i = 0; i < count; ++i) rows[i].*field = std::move(col[i]);
  };
  strings("model", &ModelRecord::model);
  strings("method", &ModelRecord::method);
  strings("version", &ModelRecord::version);
  strings("status", &ModelRecord::status);
  if (load_notes) {
    std::vector<size_t> wanted(count);
    std::iota(wanted.begin(), wanted.end(), first);
    std::vector<std::string> notes = ReadNotes(wanted);
    for (size_t i = 0; i < count; ++i) rows[i].note = std::move(notes[i]);
  }
  auto metric = [&](const char* name, double Metrics::*field) {
    auto col = f.ReadF64(name, first, count);
    for (size_t i = 0; i < count; ++i) rows[i].metrics.*field = col[i];
  };
  metric("mae", &Metrics::mae);
  metric("rmse", &Metrics::rmse);
  metric("mape", &Metrics::mape);
  metric("smape", &Metrics::smape);
  metric("mase", &Metrics::mase);
  auto n_obs = f.ReadI64("n_obs", first, count), last = f.ReadI64("last_period", first, count);
  for (size_t i = 0; i < count; ++i) rows[i].n_obs = n_obs[i], rows[i].last_period = last[i];
  if (load_params) {
    std::vector<size_t> wanted(count);
    for (size_t i = 0; i < count; ++i) wanted[i] = first + i;
    auto blobs = params_.Read(wanted);
    for (size_t i = 0; i < count; ++i) rows[i].params = std::move(blobs[i]);
  }
  return rows;
}

std::vector<uint8_t> RegistryReader::ReadParams(size_t row) const {
  return std::move(ReadParams(std::vector<size_t>{row}).at(0));
}

std::vector<std::vector<uint8_t>> RegistryReader::ReadParams(const std::vector<size_t>& rows) const {
  for (size_t row : rows)
    if (row >= rows_) throw std::out_of_range(path_ + ": no row " + std::to_string(row));
  return params_.Read(rows);
}

std::vector<std::string> RegistryReader::ReadNotes(const std::vector<size_t>& rows) const {
  for (size_t row : rows)
    if (row >= rows_) throw std::out_of_range(path_ + ": no row " + std::to_string(row));
  std::vector<std::string> out(rows.size());
  if (notes_as_text_) {
    std::vector<std::vector<uint8_t>> bytes = note_.Read(rows);
    for (size_t i = 0; i < rows.size(); ++i) out[i].assign(bytes[i].begin(), bytes[i].end());
  } else {
    if (rows.empty()) return out;
    const std::vector<std::string>& values = Dictionary("note");
    const auto [lo, hi] = std::minmax_element(rows.begin(), rows.end());
    const std::vector<int32_t> codes =
        file_.Group("note").ReadI32("codes", *lo, *hi + 1 - *lo);  // their span
    for (size_t i = 0; i < rows.size(); ++i) {
      const int32_t code = codes.at(rows[i] - *lo);
      if (code < 0 || static_cast<size_t>(code) >= values.size())
        throw h5::Error(path_ + ": column 'note' has a code out of range");
      out[i] = values[static_cast<size_t>(code)];
    }
  }
  return out;
}

int64_t RegistryReader::CountNotes() const {
  int64_t n = 0;
  if (notes_as_text_) {
    for (const int64_t size : file_.Group("note").ReadI64("size")) n += size > 0;
  } else {
    const std::vector<std::string>& values = Dictionary("note");
    for (const int32_t code : file_.Group("note").ReadI32("codes"))
      n += code >= 0 && static_cast<size_t>(code) < values.size() &&
           !values[static_cast<size_t>(code)].empty();
  }
  return n;
}

ProductionIndex RegistryReader::ReadProductionIndex() const {
  const KeyTable keys = ReadKeys(0, rows_);
  const std::vector<std::string> status = ReadDictionaryColumn(file_, "status", Dictionary("status"), 0, rows_);
  ProductionIndex ix;
  ix.keys = keys.EmptyLike();
  for (size_t r = 0; r < rows_; ++r)
    if (status[r] == "production") {
      ix.keys.Append(keys, r);
      ix.rows.push_back(r);
    }
  auto text = [&](const char* name, std::vector<std::string>* out) {
    const std::vector<std::string> all = ReadDictionaryColumn(file_, name, Dictionary(name), 0, rows_);
    for (size_t r : ix.rows) out->push_back(all[r]);
  };
  text("model", &ix.model);
  text("method", &ix.method);
  text("version", &ix.version);
  const std::vector<int64_t> last = file_.ReadI64("last_period", 0, rows_);
  for (size_t r : ix.rows) ix.last_period.push_back(last[r]);
  return ix;
}

void CheckKeysMatchLake(const RegistryReader& registry, const std::string& registry_path, const LakeIndex& lake,
                        const std::string& lake_path) {
  if (registry.key_columns() != lake.keys.Names()) {
    std::string a, b;
    for (const auto& n : registry.key_columns()) a += (a.empty() ? "" : ",") + n;
    for (const auto& n : lake.keys.Names()) b += (b.empty() ? "" : ",") + n;
    throw std::runtime_error(registry_path + " has the key columns (" + a + "), the lake " + lake_path + " (" + b +
                             "): its models are not of the lake's series");
  }
  const KeyTable like = registry.ReadKeys(0, 0);
  for (size_t c = 0; c < like.columns.size(); ++c)
    if (like.columns[c].is_text != lake.keys.columns[c].is_text)
      throw std::runtime_error("the key column " + like.columns[c].name + " is text in one of " + registry_path +
                               " and " + lake_path + " and integer in the other");
}

RegistryTable ReadRegistry(const std::string& path, bool load_params, bool load_notes) {
  const RegistryReader reader(path);
  RegistryTable t;
  t.meta = reader.meta();
  t.run_id = reader.run_id();
  t.keys = reader.ReadKeys(0, reader.size());
  t.rows = reader.ReadRows(0, reader.size(), load_params, load_notes);
  return t;
}

}  // namespace mm

#include "manymodels/io/registry.h"

namespace mm {
namespace {

const char* const kStringColumns[] = {"model", "method", "version", "status", "note"};
const char* const kMetricColumns[] = {"mae", "rmse", "mape", "smape", "mase"};

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

void CheckKind(const h5::Location& f, const std::string& kind, int64_t version) {
  if (!f.HasAttr("kind") || f.GetAttrString("kind") != kind)
    throw h5::Error(f.name() + ": not a " + kind + " file (no kind=" + kind + " attribute)");
  if (f.GetAttrI64("schema_version") != version)
    throw h5::Error(f.name() + ": " + kind + " schema_version " + std::to_string(f.GetAttrI64("schema_version")) +
                    ", this program reads " + std::to_string(version));
}

RegistryWriter::RegistryWriter(const std::string& path, const KeyTable& keys, const TableMeta& meta,
                               const Provenance& provenance)
    : out_(path), file_(std::make_unique<h5::Location>(h5::Location::CreateFile(out_.temp_path()))) {
  const h5::Location& f = *file_;
  f.SetAttr("schema_version", kRegistrySchemaVersion);
  f.SetAttr("kind", std::string("manymodels-registry"));
  WriteTableMeta(f, meta, keys);
  provenance.WriteTo(f);
  WriteKeys(f.CreateGroup("keys"), keys);
  const size_t n = keys.size();
  for (const char* c : kStringColumns) f.CreateStrings(c, n);
  for (const char* c : kMetricColumns) f.CreateF64(c, n);
  f.CreateI64("n_obs", n);
  f.CreateI64("last_period", n);
  f.CreateBlobs("params", n);
}

void RegistryWriter::Write(size_t first, const std::vector<ModelRecord>& rows) {
  const h5::Location& f = *file_;
  std::vector<std::string> s(rows.size());
  auto strings = [&](const char* name, std::string ModelRecord::*field) {
    for (size_t i = 0; i < rows.size(); ++i) s[i] = rows[i].*field;
    f.WriteStringsAt(name, first, s);
  };
  strings("model", &ModelRecord::model);
  strings("method", &ModelRecord::method);
  strings("version", &ModelRecord::version);
  strings("status", &ModelRecord::status);
  strings("note", &ModelRecord::note);
  std::vector<double> d(rows.size());
  auto metric = [&](const char* name, double Metrics::*field) {
    for (size_t i = 0; i < rows.size(); ++i) d[i] = rows[i].metrics.*field;
    f.WriteF64At(name, first, d);
  };
  metric("mae", &Metrics::mae);
  metric("rmse", &Metrics::rmse);
  metric("mape", &Metrics::mape);
  metric("smape", &Metrics::smape);
  metric("mase", &Metrics::mase);
  std::vector<int64_t> v(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) v[i] = rows[i].n_obs;
  f.WriteI64At("n_obs", first, v);
  for (size_t i = 0; i < rows.size(); ++i) v[i] = rows[i].last_period;
  f.WriteI64At("last_period", first, v);
  std::vector<std::vector<uint8_t>> blobs(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) blobs[i] = rows[i].params;
  f.WriteBlobsAt("params", first, blobs);
}

void RegistryWriter::Commit() {
  file_.reset();  // closes the HDF5 file
  out_.Commit();
}

RegistryTable ReadRegistry(const std::string& path, bool load_params) {
  const h5::Location f = h5::Location::OpenFile(path);
  CheckKind(f, "manymodels-registry", kRegistrySchemaVersion);
  RegistryTable t;
  t.meta = ReadTableMeta(f);
  if (f.HasAttr("run_id")) t.run_id = f.GetAttrString("run_id");
  t.keys = ReadKeys(f.Group("keys"), f.GetAttrStrings("key_columns"));
  const size_t n = t.keys.size();
  t.rows.resize(n);
  auto strings = [&](const char* name, std::string ModelRecord::*field) {
    auto col = f.ReadStrings(name);
    for (size_t i = 0; i < n; ++i) t.rows[i].*field = std::move(col.at(i));
  };
  strings("model", &ModelRecord::model);
  strings("method", &ModelRecord::method);
  strings("version", &ModelRecord::version);
  strings("status", &ModelRecord::status);
  strings("note", &ModelRecord::note);
  auto metric = [&](const char* name, double Metrics::*field) {
    auto col = f.ReadF64(name);
    for (size_t i = 0; i < n; ++i) t.rows[i].metrics.*field = col.at(i);
  };
  metric("mae", &Metrics::mae);
  metric("rmse", &Metrics::rmse);
  metric("mape", &Metrics::mape);
  metric("smape", &Metrics::smape);
  metric("mase", &Metrics::mase);
  auto n_obs = f.ReadI64("n_obs"), last = f.ReadI64("last_period");
  for (size_t i = 0; i < n; ++i) t.rows[i].n_obs = n_obs.at(i), t.rows[i].last_period = last.at(i);
  if (load_params) {
    auto blobs = f.ReadBlobs("params");
    for (size_t i = 0; i < n; ++i) t.rows[i].params = std::move(blobs.at(i));
  }
  return t;
}

}  // namespace mm

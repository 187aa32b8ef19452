#include "manymodels/io/predictions.h"

namespace mm {
namespace {
const char* const kValueColumns[] = {"forecast", "lo80", "hi80", "lo95", "hi95"};
}

PredictionsWriter::PredictionsWriter(const std::string& path, const KeyTable& keys, const TableMeta& meta,
                                     const Provenance& provenance)
    : out_(path),
      file_(std::make_unique<h5::Location>(h5::Location::CreateFile(out_.temp_path()))),
      horizon_(meta.horizon) {
  const h5::Location& f = *file_;
  f.SetAttr("schema_version", kPredictionsSchemaVersion);
  f.SetAttr("kind", std::string("manymodels-predictions"));
  WriteTableMeta(f, meta, keys);
  provenance.WriteTo(f);
  WriteKeys(f.CreateGroup("keys"), keys);
  const size_t n = keys.size(), rows = n * static_cast<size_t>(horizon_);
  f.CreateStrings("model", n);
  std::vector<int64_t> offsets(n + 1);
  for (size_t i = 0; i <= n; ++i) offsets[i] = static_cast<int64_t>(i) * horizon_;
  f.WriteI64("offsets", offsets);
  f.CreateI64("step", rows);
  f.CreateI64("period", rows);
  for (const char* c : kValueColumns) f.CreateF64(c, rows);
}

void PredictionsWriter::Write(size_t first, const std::vector<SeriesForecast>& series) {
  const h5::Location& f = *file_;
  const auto h = static_cast<size_t>(horizon_);
  std::vector<std::string> models;
  std::vector<int64_t> step, period;
  std::vector<double> v[5];
  for (const auto& s : series) {
    models.push_back(s.model);
    const std::vector<double>* src[5] = {&s.forecast.mean, &s.forecast.lo80, &s.forecast.hi80, &s.forecast.lo95,
                                         &s.forecast.hi95};
    for (size_t k = 0; k < h; ++k) {
      step.push_back(static_cast<int64_t>(k + 1));
      period.push_back(s.last_period + static_cast<int64_t>(k + 1));
      for (int c = 0; c < 5; ++c) v[c].push_back(src[c]->at(k));
    }
  }
  f.WriteStringsAt("model", first, models);
  f.WriteI64At("step", first * h, step);
  f.WriteI64At("period", first * h, period);
  for (int c = 0; c < 5; ++c) f.WriteF64At(kValueColumns[c], first * h, v[c]);
}

void PredictionsWriter::Commit() {
  file_.reset();
  out_.Commit();
}

PredictionsTable ReadPredictions(const std::string& path) {
  const h5::Location f = h5::Location::OpenFile(path);
  CheckKind(f, "manymodels-predictions", kPredictionsSchemaVersion);
  PredictionsTable t;
  t.meta = ReadTableMeta(f);
  t.keys = ReadKeys(f.Group("keys"), f.GetAttrStrings("key_columns"));
  t.model = f.ReadStrings("model");
  t.offsets = f.ReadI64("offsets");
  t.step = f.ReadI64("step");
  t.period = f.ReadI64("period");
  t.forecast = f.ReadF64("forecast");
  t.lo80 = f.ReadF64("lo80");
  t.hi80 = f.ReadF64("hi80");
  t.lo95 = f.ReadF64("lo95");
  t.hi95 = f.ReadF64("hi95");
  if (t.offsets.size() != t.keys.size() + 1 || t.model.size() != t.keys.size() ||
      static_cast<size_t>(t.offsets.back()) != t.forecast.size())
    throw h5::Error(path + ": predictions columns disagree in length");
  return t;
}

}  // namespace mm

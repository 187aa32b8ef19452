#include "manymodels/io/predictions.h"

#include <cmath>

namespace mm {
namespace {
const char* const kValueColumns[] = {"forecast", "lo80", "hi80", "lo95", "hi95"};
constexpr size_t kKeyChunk = 4096;
}  // namespace

std::string PeriodUnits(Frequency frequency, int weekly_anchor) {
  switch (frequency) {
    case Frequency::kDaily: return "days since 1970-01-01";
    case Frequency::kWeekly: return "weeks since " + FormatPeriod(Frequency::kWeekly, 0, weekly_anchor);
    case Frequency::kMonthly: return "months: year * 12 + month - 1";
    case Frequency::kQuarterly: return "quarters: year * 4 + quarter - 1";
    case Frequency::kYearly: return "years";
    case Frequency::kHourly: return "hours since 1970-01-01T00:00:00";
    case Frequency::kInteger: return "periods as given";
  }
  return "";
}

void SetPeriodUnits(const h5::Location& f, const std::string& column) {
  auto freq = ParseFrequency(f.GetAttrString("frequency"));
  h5::Dataset d = f.OpenColumn(column);
  d.SetAttr("units", PeriodUnits(freq.value_or(Frequency::kInteger), static_cast<int>(f.GetAttrI64("weekly_anchor"))));
  d.Close();
}

PredictionsWriter::PredictionsWriter(const std::string& path, const KeyTable& keys, const TableMeta& meta,
                                     const Provenance& provenance)
    : out_(path),
      file_(std::make_unique<h5::Location>(h5::Location::CreateFile(out_.temp_path(), out_.path()))),
      horizon_(meta.horizon) {
  const h5::Location& f = *file_;
  f.SetAttr("schema_version", kPredictionsSchemaVersion);
  f.SetAttr("kind", std::string("manymodels-predictions"));
  WriteTableMeta(f, meta, keys);
  provenance.WriteTo(f);
  {
    h5::Location group = f.CreateGroup("keys");
    WriteKeys(group, keys, kKeyChunk);
    group.Close();
  }
  const size_t n = keys.size(), rows = n * static_cast<size_t>(horizon_);
  model_ = DictionaryColumnWriter(f, "model", n);
  std::vector<int64_t> offsets(n + 1);
  for (size_t i = 0; i <= n; ++i) offsets[i] = static_cast<int64_t>(i) * horizon_;
  f.WriteI64("offsets", offsets);
  last_period_ = ColumnWriter<int64_t>(f, "last_period", n);
  for (int c = 0; c < 5; ++c) values_[c] = ColumnWriter<double>(f, kValueColumns[c], rows, false);
}

void PredictionsWriter::Write(size_t first, const std::vector<SeriesForecast>& series) {
  const auto h = static_cast<size_t>(horizon_);
  std::vector<std::string> models;
  std::vector<int64_t> last;
  std::vector<double> v[5];
  for (auto& c : v) c.reserve(series.size() * h);
  for (const auto& s : series) {
    models.push_back(s.model);
    last.push_back(s.last_period);
    const std::vector<double>* src[5] = {&s.forecast.mean, &s.forecast.lo80, &s.forecast.hi80, &s.forecast.lo95,
                                         &s.forecast.hi95};
    for (int c = 0; c < 5; ++c)
      for (size_t k = 0; k < h; ++k) v[c].push_back(k < src[c]->size() ? (*src[c])[k] : std::nan(""));
  }
  model_.Put(first, models);
  last_period_.Put(first, last);
  for (int c = 0; c < 5; ++c) values_[c].Put(first * h, v[c]);
}

void PredictionsWriter::Finish() {
  model_.Close();
  last_period_.Close();
  for (auto& c : values_) c.Close();
  SetPeriodUnits(*file_, "last_period");
  file_->Close();
}

void PredictionsWriter::Commit() {
  Finish();
  out_.Commit();
}

PredictionsReader::PredictionsReader(const std::string& path) : path_(path), file_(h5::Location::OpenFile(path)) {
  CheckKind(file_, "manymodels-predictions", kPredictionsSchemaVersion);
  meta_ = ReadTableMeta(file_);
  if (file_.HasAttr("run_id")) run_id_ = file_.GetAttrString("run_id");
  key_columns_ = file_.GetAttrStrings("key_columns");
  series_ = file_.Length("offsets");
  if (series_ == 0) throw h5::Error(path + ": no offsets");
  --series_;
  rows_ = file_.Length("forecast");
  const h5::Location keys = file_.Group("keys");
  for (const auto& c : key_columns_)
    if (keys.Length(c) != series_) throw h5::Error(path + ": key columns disagree in length");
  if (file_.Group("model").Length("codes") != series_) throw h5::Error(path + ": column 'model' has the wrong length");
  if (file_.Length("last_period") != series_) throw h5::Error(path + ": column 'last_period' has the wrong length");
  for (const char* c : {"lo80", "hi80", "lo95", "hi95"})
    if (file_.Length(c) != rows_) throw h5::Error(path + ": column '" + std::string(c) + "' has the wrong length");
  if (static_cast<size_t>(file_.ReadI64("offsets", series_, 1)[0]) != rows_)
    throw h5::Error(path + ": offsets and rows disagree");
}

PredictionsTable PredictionsReader::Read(size_t first, size_t count) const {
  if (first > series_) first = series_;
  count = std::min(count, series_ - first);
  PredictionsTable t;
  t.meta = meta_;
  t.keys = ReadKeys(file_.Group("keys"), key_columns_, first, count);
  t.model = ReadDictionaryColumn(file_, "model", first, count);
  t.offsets = file_.ReadI64("offsets", first, count + 1);
  const auto lo = static_cast<size_t>(t.offsets.front()), n = static_cast<size_t>(t.offsets.back()) - lo;
  if (t.offsets.back() < t.offsets.front() || lo + n > rows_) throw h5::Error(path_ + ": offsets out of order");
  for (size_t i = 1; i < t.offsets.size(); ++i)
    if (t.offsets[i] < t.offsets[i - 1]) throw h5::Error(path_ + ": offsets out of order");
  const std::vector<int64_t> last = file_.ReadI64("last_period", first, count);
  t.step.resize(n);
  t.period.resize(n);
  for (size_t i = 0; i < count; ++i)
    for (auto r = static_cast<size_t>(t.offsets[i]) - lo; r < static_cast<size_t>(t.offsets[i + 1]) - lo; ++r) {
      t.step[r] = static_cast<int64_t>(r + lo) - t.offsets[i] + 1;
      t.period[r] = last[i] + t.step[r];
    }
  t.forecast = file_.ReadF64("forecast", lo, n);
  t.lo80 = file_.ReadF64("lo80", lo, n);
  t.hi80 = file_.ReadF64("hi80", lo, n);
  t.lo95 = file_.ReadF64("lo95", lo, n);
  t.hi95 = file_.ReadF64("hi95", lo, n);
  for (auto& o : t.offsets) o -= static_cast<int64_t>(lo);
  return t;
}

PredictionsTable ReadPredictions(const std::string& path) {
  const PredictionsReader reader(path);
  return reader.Read(0, reader.size());
}

}  // namespace mm

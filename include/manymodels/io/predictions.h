// The predictions table, columnar HDF5 in CSR form like the lake (schema_version 2):
//   /keys/<column>             n      one row per series (chunks of 4k rows)
//   /model                     n      text, dictionary-coded (io/columns.h)
//   /last_period               n      int64: the period of the series' last observation (`units` attribute)
//   /offsets                   n+1    int64: series i owns rows [offsets[i], offsets[i+1]); row offsets[i] + s - 1
//                                     is step s, at period last_period[i] + s
//   /forecast /lo80 /hi80 /lo95 /hi95   R   float64 (not compressed: forecasts hardly compress, and writing
//                                     them must not hold up rank 0)
//   attributes: schema_version, kind="manymodels-predictions", key_columns, frequency, weekly_anchor,
//               season_lengths, horizon, lake, registry (the file written with it), provenance
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "manymodels/core/model.h"
#include "manymodels/io/registry.h"

namespace mm {

inline constexpr int64_t kPredictionsSchemaVersion = 2;

struct SeriesForecast {
  std::string model;
  int64_t last_period = 0;  // step s is at period last_period + s
  Forecast forecast;        // horizon entries
};

class PredictionsWriter {
 public:
  // Room for keys.size() series of meta.horizon steps each, written in any order.
  PredictionsWriter(const std::string& path, const KeyTable& keys, const TableMeta& meta,
                    const Provenance& provenance);
  void Write(size_t first_series, const std::vector<SeriesForecast>& series);
  const h5::Location& root() const { return *file_; }
  void Finish();  // every series written: closes the columns and the file (checked)
  void Commit();  // Finish, then rename into place
  AtomicOutput& output() { return out_; }

 private:
  AtomicOutput out_;
  std::unique_ptr<h5::Location> file_;
  int64_t horizon_;
  DictionaryColumnWriter model_;
  ColumnWriter<int64_t> last_period_;
  ColumnWriter<double> values_[5];  // forecast, lo80, hi80, lo95, hi95
};

// Series [first, first + count) of a predictions file, or all of it.
struct PredictionsTable {
  KeyTable keys;
  std::vector<std::string> model;
  std::vector<int64_t> offsets, step, period;  // offsets: count + 1, from the first series' first row;
                                               // step and period per row, derived from last_period
  std::vector<double> forecast, lo80, hi80, lo95, hi95;
  TableMeta meta;
};

class PredictionsReader {
 public:
  explicit PredictionsReader(const std::string& path);
  const TableMeta& meta() const { return meta_; }
  const std::string& run_id() const { return run_id_; }
  size_t size() const { return series_; }
  const std::vector<std::string>& key_columns() const { return key_columns_; }
  PredictionsTable Read(size_t first, size_t count) const;

 private:
  std::string path_;
  h5::Location file_;
  TableMeta meta_;
  std::string run_id_;
  std::vector<std::string> key_columns_;
  size_t series_ = 0, rows_ = 0;
};

PredictionsTable ReadPredictions(const std::string& path);

// What a period index means, for the `units` attribute of period columns ("days since 1970-01-01", ...).
std::string PeriodUnits(Frequency frequency, int weekly_anchor);
// Sets that attribute on a column of `f`, whose frequency and weekly_anchor attributes are already written.
void SetPeriodUnits(const h5::Location& f, const std::string& column);

}  // namespace mm

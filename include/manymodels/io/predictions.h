// The predictions table, columnar HDF5 in CSR form like the lake (schema_version 1):
//   /keys/<column>, /model     n      one row per series
//   /offsets                   n+1    int64: series i owns rows [offsets[i], offsets[i+1])
//   /step /period              R      int64: steps ahead (1..H) and the forecast's period index
//   /forecast /lo80 /hi80 /lo95 /hi95   R   float64
//   attributes: schema_version, kind="manymodels-predictions", key_columns, frequency, weekly_anchor,
//               season_lengths, horizon, lake, provenance
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "manymodels/core/model.h"
#include "manymodels/io/registry.h"

namespace mm {

inline constexpr int64_t kPredictionsSchemaVersion = 1;

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
  void Commit();

 private:
  AtomicOutput out_;
  std::unique_ptr<h5::Location> file_;
  int64_t horizon_;
};

struct PredictionsTable {
  KeyTable keys;
  std::vector<std::string> model;
  std::vector<int64_t> offsets, step, period;
  std::vector<double> forecast, lo80, hi80, lo95, hi95;
  TableMeta meta;
};

PredictionsTable ReadPredictions(const std::string& path);

// Shared by the registry and predictions files.
void WriteTableMeta(const h5::Location& f, const TableMeta& meta, const KeyTable& keys);
TableMeta ReadTableMeta(const h5::Location& f);
void CheckKind(const h5::Location& f, const std::string& kind, int64_t version);

}  // namespace mm

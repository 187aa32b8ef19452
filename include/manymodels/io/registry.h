// The model registry: one row per model, columnar, sorted by key, in HDF5 (schema_version 1):
//   /keys/<column>  n   the partition key columns
//   /model /method /version /status /note          n   strings ("ETS(M,Ad,M)", "ets", run id, staged, why)
//   /mae /rmse /mape /smape /mase                  n   float64 validation metrics (NaN = undefined)
//   /n_obs /last_period                            n   int64 (observations; period of the last one)
//   /params                                        n   variable-length bytes: the fitted model (core SaveModel)
//   attributes: schema_version, kind="manymodels-registry", key_columns, frequency, weekly_anchor,
//               season_lengths, horizon, lake, provenance
// Files are written under a temporary name and renamed on Commit(), so readers never see half a registry.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "manymodels/core/calendar.h"
#include "manymodels/core/metrics.h"
#include "manymodels/io/files.h"
#include "manymodels/io/hdf5.h"
#include "manymodels/io/keys.h"
#include "manymodels/io/lake.h"

namespace mm {

inline constexpr int64_t kRegistrySchemaVersion = 1;

struct ModelRecord {
  std::string model, method, version, status, note;
  Metrics metrics = Metrics::Undefined();
  int64_t n_obs = 0, last_period = 0;
  std::vector<uint8_t> params;
};

// What the rows of a registry or predictions file have in common.
struct TableMeta {
  Frequency frequency = Frequency::kDaily;
  int weekly_anchor = 0;
  std::vector<double> season_lengths;
  int64_t horizon = 0;
  std::string lake;  // the lake the models were trained on
};

class RegistryWriter {
 public:
  // Creates the file with all `keys` and room for their rows; rows are then written in any order.
  RegistryWriter(const std::string& path, const KeyTable& keys, const TableMeta& meta, const Provenance& provenance);
  void Write(size_t first_row, const std::vector<ModelRecord>& rows);
  void Commit();  // closes and renames into place

 private:
  AtomicOutput out_;
  std::unique_ptr<h5::Location> file_;
};

struct RegistryTable {
  KeyTable keys;
  std::vector<ModelRecord> rows;
  TableMeta meta;
  std::string run_id;
};

// Reads a whole registry (or, with load_params = false, everything but the model bytes).
RegistryTable ReadRegistry(const std::string& path, bool load_params = true);

}  // namespace mm

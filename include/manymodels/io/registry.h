// The model registry: one row per model, columnar, sorted by key, in HDF5 (schema_version 3):
//   /keys/<column>                          n   the partition key columns (chunks of 4k rows: a lookup by
//                                               binary search reads a few small chunks)
//   /model /method /version /status         n   text, dictionary-coded (groups with codes and values, see
//                                               io/columns.h): "ETS(M,Ad,M)", "ets", run id, staged
//   /note                                   n   text as a bytes column (offset, size, bytes): why, in words,
//                                               with the figures of each series (no two alike: no dictionary)
//   /mae /rmse /mape /smape /mase           n   float64 validation metrics (NaN = undefined)
//   /n_obs /last_period                     n   int64 (observations; period of the last one)
//   /params                                 n   bytes: the fitted model (core SaveModel), a bytes column
//                                               (io/columns.h: offset, size, bytes)
//   attributes: schema_version, kind="manymodels-registry", key_columns, frequency, weekly_anchor,
//               season_lengths, horizon, lake, predictions (the file written with it), provenance
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "manymodels/core/calendar.h"
#include "manymodels/core/metrics.h"
#include "manymodels/io/columns.h"
#include "manymodels/io/files.h"
#include "manymodels/io/hdf5.h"
#include "manymodels/io/keys.h"
#include "manymodels/io/lake.h"

namespace mm {

inline constexpr int64_t kRegistrySchemaVersion = 3;
// The oldest registry schema still read (never written): 2, whose /note was dictionary-coded like /model.
inline constexpr int64_t kRegistryOldestSchemaVersion = 2;

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

// The registry's output file, written once. Rows arrive in any order (io/columns.h); Finish() closes the file
// and checks every write, then the output is committed alone (Commit) or with others (CommitTogether).
class RegistryWriter {
 public:
  // Creates the file with all `keys` and room for their rows.
  RegistryWriter(const std::string& path, const KeyTable& keys, const TableMeta& meta, const Provenance& provenance);
  void Write(size_t first_row, const std::vector<ModelRecord>& rows);
  const h5::Location& root() const { return *file_; }  // for attributes known only at the end
  void Finish();       // every row written: closes the columns and the file (checked)
  void Commit();       // Finish, then rename into place
  AtomicOutput& output() { return out_; }

 private:
  AtomicOutput out_;
  std::unique_ptr<h5::Location> file_;
  DictionaryColumnWriter model_, method_, version_, status_;
  BytesColumnWriter note_;
  ColumnWriter<double> mae_, rmse_, mape_, smape_, mase_;
  ColumnWriter<int64_t> n_obs_, last_period_;
  BytesColumnWriter params_;
};

struct RegistryTable {
  KeyTable keys;
  std::vector<ModelRecord> rows;
  TableMeta meta;
  std::string run_id;
};

// The production rows of a registry (status `production`, at most one per key) and what serving a key needs
// besides its model bytes: read once, a few dozen bytes a row, so that a lookup touches no file.
struct ProductionIndex {
  KeyTable keys;              // sorted, as the registry
  std::vector<size_t> rows;   // each key's registry row
  std::vector<std::string> model, method, version;
  std::vector<int64_t> last_period;
};

// A registry opened for reading rows or looking up one key without reading the rest. Like all HDF5 access, one
// thread at a time (h5::Mutex).
class RegistryReader {
 public:
  explicit RegistryReader(const std::string& path);
  const TableMeta& meta() const { return meta_; }
  const std::string& run_id() const { return run_id_; }
  const std::vector<std::string>& key_columns() const { return key_columns_; }
  size_t size() const { return rows_; }
  // The row whose key columns have these values (as text, in key_columns() order), by binary search. For a
  // registry with one row per key (train's).
  std::optional<size_t> Find(const std::vector<std::string>& key) const;
  // The rows [first, last) of a key in a registry with several rows per key (a production registry: sorted by
  // key, then version), by binary search for both ends; empty (first == last) when there are none.
  std::pair<size_t, size_t> FindRange(const std::vector<std::string>& key) const;
  // The row of status `production` among the key's rows, if there is one.
  std::optional<size_t> FindProduction(const std::vector<std::string>& key) const;
  KeyTable ReadKeys(size_t first, size_t count) const;
  std::vector<ModelRecord> ReadRows(size_t first, size_t count, bool load_params,
                                    bool load_notes = true) const;
  // The notes of `rows` (any order), in that order.
  std::vector<std::string> ReadNotes(const std::vector<size_t>& rows) const;
  // The model bytes of one row (one hyperslab read), without the other rows' models.
  std::vector<uint8_t> ReadParams(size_t row) const;
  // The model bytes of `rows` (ascending or not), in that order: one hyperslab per run of rows whose bytes
  // lie together (BytesColumnReader), not one read per row.
  std::vector<std::vector<uint8_t>> ReadParams(const std::vector<size_t>& rows) const;
  ProductionIndex ReadProductionIndex() const;
  // The rows with a note (reads 8 bytes a row, not the notes).
  int64_t CountNotes() const;

 private:
  std::string path_;
  h5::Location file_;
  TableMeta meta_;
  std::string run_id_;
  std::vector<std::string> key_columns_;
  size_t rows_ = 0;
  // The text columns' distinct values, read on first use (reads of a few rows then read only their codes).
  mutable std::map<std::string, std::vector<std::string>> dictionaries_;
  const std::vector<std::string>& Dictionary(const std::string& name) const;
  bool notes_as_text_ = false;  // schema 3 and later: /note a bytes column (note_), else dictionary-coded
  BytesColumnReader note_;
  BytesColumnReader params_;  // open for the reader's life (its chunk cache serves consecutive reads)
};

// Throws std::runtime_error naming both files unless the registry's models are of series keyed like the lake's:
// the same key columns, each text in both or integer in both (what score and serve need).
void CheckKeysMatchLake(const RegistryReader& registry, const std::string& registry_path, const LakeIndex& lake,
                        const std::string& lake_path);

// Reads a whole registry (or, with load_params = false, everything but the model bytes).
RegistryTable ReadRegistry(const std::string& path, bool load_params = true, bool load_notes = true);

// Shared by the registry and predictions files.
void WriteTableMeta(const h5::Location& f, const TableMeta& meta, const KeyTable& keys);
TableMeta ReadTableMeta(const h5::Location& f);
void CheckKind(const h5::Location& f, const std::string& kind, int64_t version, int64_t oldest = 0);

}  // namespace mm

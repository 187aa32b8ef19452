// The lake: every series of a data set in one HDF5 file, as contiguous ragged arrays (CSR layout), sorted by
// key. Layout (schema_version 1), documented in data/README.md:
//   /keys/<column>        n     int64 or variable-length UTF-8 string, one per key column, sorted by tuple
//   /offsets              n+1   int64: series i is target[offsets[i], offsets[i+1])
//   /start                n     int64: period index of the series' first value (see core/calendar.h)
//   /target               N     float64, NaN = missing period
//   /covariates/<name>    N     float64, aligned with target
//   attributes: schema_version, kind="manymodels-lake", frequency, weekly_anchor, season_lengths,
//               key_columns, time_column, target_column, covariate_columns, source, provenance, and `history`
//               (after ingest --append: one line "CREATED COMMAND_LINE" per earlier version of the lake)
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "manymodels/core/calendar.h"
#include "manymodels/io/files.h"
#include "manymodels/io/hdf5.h"
#include "manymodels/io/keys.h"

namespace mm {

inline constexpr int64_t kLakeSchemaVersion = 1;

// What produced an output file; stored as attributes on its root.
struct Provenance {
  std::string command;       // e.g. "train"
  std::string options;       // the options in force, one "name=value" per line
  std::string run_id;
  std::string command_line;  // the words typed, shell-quoted
  std::vector<std::pair<std::string, std::string>> inputs;  // option -> absolute path of each input file
  // Adds program_version (with the git commit), host and created (UTC) too.
  void WriteTo(const h5::Location& root) const;
};

struct LakeIndex {
  KeyTable keys;
  std::vector<int64_t> offsets;  // n + 1
  std::vector<int64_t> start;    // n
  Frequency frequency = Frequency::kDaily;
  int weekly_anchor = 0;
  std::vector<double> season_lengths;
  std::string time_column, target_column;
  std::vector<std::string> covariates;
  size_t num_series() const { return start.size(); }
  int64_t length(size_t i) const { return offsets[i + 1] - offsets[i]; }
};

struct LakeData {
  LakeIndex index;
  std::vector<double> target;
  std::vector<std::vector<double>> covariates;  // one column per index.covariates
};

// Writes a lake front to back without holding its values: the index and attributes when constructed, then the
// values of every slot (offsets order) in one or more Write calls, under a temporary name that Commit renames
// into place (destroyed before that, it leaves no file). `history`, when not empty, is stored as the root
// attribute `history` (the earlier versions of a lake that ingest --append replaced).
class LakeWriter {
 public:
  LakeWriter(const std::string& path, const LakeIndex& index, const Provenance& provenance,
             const std::string& history = "");
  // Rows per chunk of the value columns.
  size_t chunk_rows() const { return chunk_rows_; }
  // The next `n` slots' target and covariate values (one pointer per column of index.covariates, in order),
  // encoded (h5::ChunkEncoder) and written chunk by chunk: `n` is a whole number of chunks, or reaches the
  // end.
  void Write(size_t n, const double* target, const std::vector<const double*>& covariates);
  // Or chunk by chunk, in any order, each once: the chunk of column `column` (0 the target, then the
  // covariates) whose first slot is `first`, as an h5::ChunkEncoder of chunk_rows() encoded it.
  void WriteChunk(size_t column, size_t first, std::span<const uint8_t> stored);
  // Every slot written: closes the file (checked), syncs it and renames it into place.
  void Commit();

 private:
  AtomicOutput out_;
  h5::Location file_, covariate_group_;
  h5::Dataset target_;
  std::vector<h5::Dataset> covariates_;
  size_t total_ = 0, written_ = 0, chunk_rows_ = 0;
  std::vector<bool> written_chunks_;  // of each column, one after the other
  std::unique_ptr<h5::ChunkEncoder> encoder_;
};

// The whole lake at once, through a LakeWriter.
void WriteLake(const std::string& path, const LakeData& data, const Provenance& provenance,
               const std::string& history = "");

// The whole lake in memory: its index, target and covariates (ingest --append, tests).
LakeData ReadLake(const std::string& path);

void WriteKeys(const h5::Location& group, const KeyTable& keys, size_t chunk = 0);
KeyTable ReadKeys(const h5::Location& group, const std::vector<std::string>& names, size_t offset = 0,
                  size_t count = h5::Location::npos);

class LakeReader {
 public:
  explicit LakeReader(const std::string& path);  // opens the file and reads the index
  const LakeIndex& index() const { return index_; }
  const std::string& path() const { return path_; }
  // Values of series [begin, end), concatenated: offsets[begin] .. offsets[end].
  std::vector<double> ReadTarget(size_t begin, size_t end) const;
  std::vector<double> ReadCovariate(size_t covariate, size_t begin, size_t end) const;
  // The values at `ranges` (positions as in offsets; ascending, not overlapping), concatenated: one read of a
  // selection of them all (parts of series, e.g. only the periods a model has not seen).
  std::vector<double> ReadTarget(const std::vector<h5::Range>& ranges) const;
  std::vector<double> ReadCovariate(size_t covariate, const std::vector<h5::Range>& ranges) const;
  // A text attribute of the file's root ("inputs", "command_line", "created", "history"); "" when absent.
  std::string TextAttribute(const std::string& name) const;

 private:
  std::string path_;
  h5::Location file_;
  LakeIndex index_;
  // Kept open, so that HDF5's chunk cache serves consecutive reads from the same chunk (a batch of short
  // series is a fraction of one) without decompressing it again.
  h5::Dataset target_;
  std::vector<h5::Dataset> covariates_;
};

}  // namespace mm

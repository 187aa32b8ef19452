// ingest: a long CSV (one row per series and period, any order) into the HDF5 lake.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "manymodels/core/calendar.h"
#include "manymodels/io/lake.h"

namespace mm {

struct IngestOptions {
  std::string input;                     // CSV, plain or gzip
  std::vector<std::string> keys;         // key columns, at least one
  std::string time;                      // time column
  std::string target;                    // target column
  std::vector<std::string> covariates;   // optional numeric columns
  std::optional<Frequency> frequency;    // inferred from the times when absent
  std::vector<double> season_lengths;    // the frequency's defaults when empty
  std::string out;                       // lake path
};

struct IngestSummary {
  int64_t rows = 0, series = 0, periods = 0, missing = 0;
  Frequency frequency = Frequency::kDaily;
};

// Each column named once, in one role (key, time, target, covariate), and at least one key; throws
// std::invalid_argument naming the option otherwise ("--covariates: column 'sales' is already the target column
// (--target)"). ReadLongCsv checks this first.
void CheckColumnOptions(const IngestOptions& options);

// Reads and validates the whole input, then writes the lake atomically. Throws InputError
// ("FILE:LINE:COLUMN: message") on bad input, leaving no output file.
IngestSummary Ingest(const IngestOptions& options, const Provenance& provenance);

// The parsing step alone, for tests and benchmarks: the lake's contents without writing them.
LakeData ReadLongCsv(const IngestOptions& options, IngestSummary* summary);

}  // namespace mm

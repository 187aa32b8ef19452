// ingest: a long CSV (one row per series and period, any order) into the HDF5 lake.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "manymodels/core/calendar.h"
#include "manymodels/io/lake.h"
#include "manymodels/parallel/communicator.h"

namespace mm {

struct IngestOptions {
  std::string input;                     // CSV files, plain or gzip: a path, a glob, or several (see InputFiles)
  std::vector<std::string> keys;         // key columns, at least one
  std::string time;                      // time column
  std::string target;                    // target column
  std::vector<std::string> covariates;   // optional numeric columns
  std::optional<Frequency> frequency;    // inferred from the times when absent
  std::vector<double> season_lengths;    // the frequency's defaults when empty
  std::string out;                       // lake path
  bool append = false;                   // add the rows to the existing lake `out` (see Ingest)
  // Memory for the parsed rows, their sorting and merging, and the program itself (see RowBudget): rows beyond it
  // are sorted into runs on a scratch file in `tmpdir` (empty: the folder of `out`) and merged from there.
  uint64_t memory = uint64_t{1} << 30;
  std::string tmpdir;
  // The most distinct series, and distinct values of one key column, an ingest takes: their ids are 32-bit.
  // (The key index holds about 100 bytes a series, counted in `memory`: 400 GiB for this many.) Lowered only
  // to test the error.
  uint64_t max_series = std::numeric_limits<uint32_t>::max();
};

struct IngestSummary {
  int64_t rows = 0, series = 0, periods = 0, missing = 0;
  Frequency frequency = Frequency::kDaily;
  // --append only: series the input added, periods the lake grew by, and empty values of the lake (target or
  // covariate) that the input filled (a future row's target, a gap).
  int64_t new_series = 0, new_periods = 0, filled = 0;
  // Sorted runs spilled to the scratch file, and its size in bytes (0, 0: every row was held in memory).
  int64_t runs = 0, spilled_bytes = 0;
  // The key index's bytes (rank 0's, which holds every series'): counted in --memory, the rows get the rest
  // of RowBudget, but never less than an eighth of it.
  int64_t index_bytes = 0;
};

// The files --input names, in the order given: comma-separated paths, each a path or a glob pattern (*, ?, [...];
// its matches in name order). Throws InputError for a pattern matching no file. ("a.csv,b.csv", "parts/*.csv.gz")
std::vector<std::string> InputFiles(const std::string& input);

// Of `memory` (--memory), what the rows in hand may take, with their sort order and the merge's read buffers:
// the rest, kMemoryReserve (half of small budgets), is left for the program, HDF5 and the lake's chunks being
// written. The key index (the distinct keys, about 100 bytes a series, and the distinct times) comes out of
// it as it grows (IngestSummary::index_bytes).
inline constexpr uint64_t kMemoryReserve = uint64_t{64} << 20;
uint64_t RowBudget(uint64_t memory);
// The folder of the scratch file: options.tmpdir, else the folder of options.out ("." for a bare name).
std::string ScratchFolder(const IngestOptions& options);

// Each column named once, in one role (key, time, target, covariate), and at least one key; throws
// std::invalid_argument naming the option otherwise ("--covariates: column 'sales' is already the target column
// (--target)"). ReadLongCsv checks this first.
void CheckColumnOptions(const IngestOptions& options);

// Reads and validates the whole input, then writes the lake atomically. Throws InputError
// ("FILE:LINE:COLUMN: message") on bad input, leaving no output file.
//
// Memory: the rows parsed are held up to RowBudget(options.memory); past that they are sorted (by series, then
// time) into runs on a scratch file in options.tmpdir, and the runs are merged into the lake, which is written a
// chunk at a time. The lake's datasets are the same whatever the budget, and so are the errors: every check
// the rows in memory get, the spilled rows get too, with the same FILE:LINE:COLUMN. The scratch file has no
// name (see ScratchFile): nothing of it is left after an error, a signal or a kill; a full scratch folder is
// an error naming it.
//
// With options.append the lake `out` is read whole, the input is put on its grid (its frequency and weekly
// anchor, its key column types) and merged in: new series in key order, new periods before or after a series'
// span, and values where the lake has none (a gap, the target of a future-covariate row). A value the lake
// already holds may be sent again but not changed: a target or covariate that is known in both and differs
// is an InputError naming the input's FILE:LINE:COLUMN, the key and the period; an empty value in the input
// never erases a known one. The lake, the input's rows put on its grid and the merged lake are held in memory
// (only the parsed rows are bounded). Also InputError: a text value in a key column the lake stores as integers, a
// time off the lake's grid. UsageError (the command cannot work with this lake): key, time, target or
// covariate columns other than the lake's, a --freq or --season-length other than the lake's. The result
// replaces the lake atomically; on any error the lake is left as it was. The new lake's provenance lists the
// earlier inputs and this one (`inputs`), and `history` gains the replaced version's created time and
// command line.
//
// Several input files are read as if they were one file, their lines one after the other (a file's header
// line is not a row); each file's header names its columns, in any order. Errors name the file and its line.
//
// Across ranks (`comm` with more than one rank; every rank calls Ingest with the same options): each rank reads
// a part of the input. Plain files are cut into byte ranges, one a rank, at line starts (a rank starts after
// the first newline at or past its first byte, and reads through the line that crosses its last); a gzip file
// cannot be cut and goes whole to one rank (balanced by compressed size). A plain file whose cut would fall
// inside a quoted field (one holding a line break) is read whole by one rank instead. Each rank parses and
// checks its rows as above, in --memory of its own; rank 0 gathers the key index and decides the lake's index;
// each rank then owns a range of the lake's chunks, takes the rows of its range from every rank (MPI
// all-to-all, in bounded rounds), merges and encodes them, and rank 0 writes every rank's encoded chunks: the
// same lake as one rank makes. An error on any rank is the error of every rank, the same on each (the one one rank would report
// first, with its FILE:LINE:COLUMN), thrown after every rank has stopped; no lake is written. Rank 0 returns
// the summary (runs and spilled bytes summed over the ranks), the others an empty one. --append is refused
// (UsageError) with more than one rank or input file.
IngestSummary Ingest(const IngestOptions& options, const Provenance& provenance, Communicator* comm = nullptr);

// The parsing step alone, for tests and benchmarks: the lake's contents without writing them.
LakeData ReadLongCsv(const IngestOptions& options, IngestSummary* summary);

}  // namespace mm

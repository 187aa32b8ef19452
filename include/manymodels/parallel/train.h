// train: the many-models run. Rank 0 reads the lake's index, groups the series (--partition-by), shards the
// groups across ranks in contiguous ranges balanced by estimated cost, and broadcasts the plan. Every rank
// reads only its groups from the lake, a batch at a time, and fits them with its worker threads; results go to
// rank 0 in batches as they finish, and rank 0 writes each batch into its final rows of the registry and the
// predictions file (so memory stays bounded, and the same rows come out whatever the layout).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "manymodels/parallel/communicator.h"
#include "manymodels/parallel/schedule.h"

namespace mm {

struct TrainOptions {
  std::string lake, registry, predictions;
  int horizon = 0;
  std::string models = "auto";
  std::vector<double> season_lengths;     // empty: the lake's
  std::vector<std::string> partition_by;  // empty: every series is its own model
  // Key columns whose groups are fitted jointly (--models pooled; parallel/pools.h); empty: none. Each series
  // still has its own model (its own level and trend, the group's shared effects).
  std::vector<std::string> pool_by;
  // Key columns whose groups judge auto's members together (core/select.h: GroupJudgement) with no joint fit;
  // --pool-by does the same with its groups. Empty: each series judges alone.
  std::vector<std::string> judge_by;
  std::string covariates = "all";         // lake covariates the models see: all, none, or a comma list
  int backtest_windows = 1;               // rolling validation windows of `horizon` points
  std::string ensemble = "auto";          // auto (median for --models auto, else none), none, mean, median
  int ensemble_size = 3;
  int64_t max_history = -1;               // periods fitted at most (the latest); -1: DefaultMaxHistory, 0: all
  int threads = 0;                        // 0: see parallel/threads.h
  uint64_t seed = 1;                      // run seed for anything random
  int64_t batch = 512;                    // groups per batch (dynamic schedule: at most, per chunk)
  Schedule schedule = Schedule::kStatic;
  bool resume = false;                    // take up the journal REG.h5.journal, if there is one
  std::string run_id;                     // empty: a new one (NewRunId), or the journal's on --resume
  // Set (by a signal handler) to stop gracefully: each rank finishes the series in hand, journals them and
  // takes no more; rank 0 then writes no outputs (RunSummary::stopped). Read between fits.
  const std::atomic<int>* stop = nullptr;
  std::string options_text;               // resolved options, for provenance
  std::string command_line;               // as typed, for provenance
  bool progress = true;
  double progress_every = 0;              // seconds between progress lines; 0: 0.2 on a terminal, else 5
};

struct RankReport {
  int rank = 0;
  std::string host;
  int threads_given = 0, threads_used = 1, cpus_in_mask = 1;
  std::string thread_source, thread_warning;
  int64_t groups = 0;
  // The main thread's wall time on its own share, from its first batch to its last (less the time waiting for
  // work under the dynamic schedule); the imbalance is the largest over the mean.
  double busy_seconds = 0;
  double read_seconds = 0;    // of which reading the lake
  double fit_seconds = 0;     // of which fitting (the threads' loops; rank 0's time taking in messages excluded)
  // Moving results: sending them to rank 0 (and, at the end, waiting until rank 0 has them); rank 0: taking in
  // the other ranks' batches, during its share and after it until the last rank's report came.
  double gather_seconds = 0;
  double journal_seconds = 0;     // of which handing this rank's batches to its journal (and the last sync)
  double journal_sync_seconds = 0;  // the journal's own thread writing and syncing them (beside the above)
  double write_seconds = 0;       // rank 0: its writer thread's time writing results into the outputs
  double write_wait_seconds = 0;  // rank 0: its main thread's time waiting on that writer (queue full, the end)
  double peak_rss_mb = 0;  // the rank's peak resident memory
  bool stopped = false;    // stopped (TrainOptions::stop) before the work was all handed out
};

struct RunSummary {
  std::string run_id;
  // Stopped before every model was done: the outputs are not written, the journal holds `done` models.
  bool stopped = false;
  int64_t done = 0;
  int64_t models = 0, failed = 0, with_notes = 0, source_series = 0;
  int64_t lake_rows = 0;  // the lake's rows (series x periods, gaps and future covariate rows included)
  double seconds = 0;
  std::map<std::string, int64_t> chosen;  // model label family ("snaive", ...) -> count
  std::vector<RankReport> ranks;          // by rank
  Schedule schedule = Schedule::kStatic;
  // The journal: its folder, models taken from it (a resumed run), its records read and those dropped (cut
  // short by a kill), and what became of an earlier one.
  std::string journal;
  int64_t from_journal = 0, journal_records = 0;
  double journal_read_seconds = 0;
  std::vector<std::string> journal_dropped;
  std::string journal_note;  // "resumed (attempt 2)", "no journal: a fresh run", "replaced the journal of run X"
  std::string resolved;                   // what `auto` options became: "threads=2,2\nmax_history=1096\n..."
};

// Collective: every rank calls it. Throws on bad options or input (the same error on every rank when it is
// found before the plan is broadcast). The summary is complete on rank 0 only.
RunSummary Train(const TrainOptions& options, Communicator& comm);

// What is wrong with the options' --pool-by or --judge-by (--pool-by needs --models pooled alone, or auto
// with --ensemble auto; --judge-by auto with --ensemble auto; neither goes with --partition-by or the other);
// empty when nothing is.
std::string PoolByProblem(const TrainOptions& options);

// A run id that sorts by time: 20261125T153000Z-3f9a.
std::string NewRunId();

}  // namespace mm

// `manymodels bench`: what a benchmark of training layouts (ranks x threads) records, and its files -- the
// layout list, the SKU price list, bench.csv (one row per layout), bench.html, and the page `bench compare`
// makes of several bench.csv files. Pure functions of measured runs; launching the runs is the app's.
//
// bench.csv columns, in this order (DESIGN.md §4's first, then extensions; `bench compare` reads them by
// name):
//   ranks, threads          the layout
//   series                  models trained (series, or --partition-by groups)
//   seconds                 wall time of the launched run, as bench measured it around mpirun/srun (MPI
//   start-up
//                           and the outputs' commit included)
//   read_s                  max over ranks of the time reading its share of the lake
//   fit_s                   max over ranks of the time fitting its share (its busy time less its reading)
//   gather_s                rank 0: from the end of its own share until the last result of the other ranks
//   came write_s                 rank 0: its writer thread's time writing results, plus closing and
//   committing the files series_per_s            series / seconds peak_mib_max            max over ranks of
//   the peak resident memory, MiB efficiency              (seconds_ref x cores_ref) / (seconds x cores),
//   cores = ranks x threads; the reference
//                           (column efficiency_vs) is the 1x1 layout when benchmarked, else the layout with
//                           the fewest cores (the first given of those): 1 is perfect scaling
//   imbalance               max / mean over ranks of their busy time (reading and fitting their share): 1 is
//   even cost_per_1000           --price P (per node-hour) x nodes x seconds / 3600 / series x 1000; empty
//   without --price cores                   ranks x threads nodes                   distinct hosts the ranks
//   ran on rows, rows_per_s        the lake's rows (series x periods) and rows / seconds run_s train's own
//   time on rank 0 (from opening the lake to the end; no MPI start-up) write_wait_s            rank 0: its
//   main thread's time waiting on its writer thread efficiency_vs           the reference layout of
//   `efficiency` identical               true when this layout's exports (predictions CSV; registry listing
//   CSV with the version
//                           column emptied) are byte-identical to the first layout's
//   repeats, run            runs of this layout, and which one the row reports (the one with the median
//   seconds;
//                           its files are layout-RxT/run-K.json and run-K.log)
//   launch                  the launcher's command line before the program (mpirun -n 2 --bind-to core ...)
//   host, cpu_model, cpus   the machine bench ran on: host name, CPU model (/proc/cpuinfo), logical CPUs
//   online program                 manymodels VERSION (COMMIT) cost_per_1000_SKU       with --prices: one
//   column per SKU of the price list, as cost_per_1000 at its price
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mm {

struct BenchLayout {
  int ranks = 1, threads = 1;
  int cores() const { return ranks * threads; }
  std::string Name() const;  // "2x1"
};

// "1x1,1x2,2x1": RANKSxTHREADS, each 1 to 4096, none twice. Throws std::invalid_argument naming the bad item.
std::vector<BenchLayout> ParseLayouts(const std::string& text);

struct SkuPrice {
  std::string sku;  // letters, digits, '_', '-', '.'
  double price_per_node_hour = 0;
};
// A CSV with the header sku,price_per_node_hour (in any order, other columns ignored) and one row per SKU.
// Throws InputError "FILE:LINE:COLUMN: message" on a missing column, a bad or repeated SKU name, a price that
// is not a positive number, or no rows.
std::vector<SkuPrice> ReadPrices(const std::string& path);

// One rank of a run, from train's --summary-json.
struct BenchRank {
  std::string host;
  double busy_s = 0;                                   // reading and fitting its share (fit_seconds)
  double read_s = 0;                                   // of which reading
  double write_s = 0, write_wait_s = 0, gather_s = 0;  // rank 0's
  double peak_mib = 0;
};

// One measured run of a layout.
struct BenchRun {
  BenchLayout layout;
  double wall_s = 0;  // around the launcher
  double run_s = 0;   // train's own
  int64_t series = 0, rows = 0;
  std::vector<BenchRank> ranks;  // by rank
  std::string launch;
  int repeats = 1, run = 1;
  bool identical = true;
};

struct BenchMachine {
  std::string host, cpu_model, program;
  int cpus = 0;
};
// This machine: host name, CPU model from /proc/cpuinfo ("unknown" when it names none), CPUs online.
BenchMachine ThisMachine();

struct BenchRow {
  int ranks = 0, threads = 0;
  int64_t series = 0;
  double seconds = 0, read_s = 0, fit_s = 0, gather_s = 0, write_s = 0, series_per_s = 0, peak_mib_max = 0;
  double efficiency = 0, imbalance = 0;
  std::optional<double> cost_per_1000;
  int cores = 0, nodes = 0;
  int64_t rows = 0;
  double rows_per_s = 0, run_s = 0, write_wait_s = 0;
  std::string efficiency_vs;
  bool identical = true;
  int repeats = 1, run = 1;
  std::string launch;
  BenchMachine machine;
  std::vector<std::pair<std::string, double>> sku_costs;  // (sku, cost per 1,000 models at its price)
  std::string Layout() const { return BenchLayout{ranks, threads}.Name(); }
};

// The rows of bench.csv from the runs, in their order (see the columns above).
std::vector<BenchRow> MakeBenchRows(const std::vector<BenchRun>& runs, const BenchMachine& machine,
                                    std::optional<double> price, const std::vector<SkuPrice>& skus);

// bench.csv's text; the SKU columns are those of the first row.
std::string BenchCsv(const std::vector<BenchRow>& rows);
// Reads a bench.csv back (for `bench compare`). Throws InputError "FILE:LINE:COLUMN: message" on a missing
// column, a value that is not a number where one is due, or no rows.
std::vector<BenchRow> ReadBenchCsv(const std::string& path);

// bench.html: the table, time and efficiency against cores, and cost per 1,000 models per layout (and SKU).
// `command` is shown as run.
std::string RenderBench(const std::vector<BenchRow>& rows, const std::string& command);
// bench compare's page: the rows of several bench.csv files (named by `files`) side by side.
std::string RenderBenchCompare(const std::vector<std::pair<std::string, std::vector<BenchRow>>>& files);

}  // namespace mm

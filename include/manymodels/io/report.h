// `manymodels report`: one self-contained HTML page (inline SVG and CSS, no script, nothing from the network)
// about one training run -- the distribution of each metric, the model families chosen, the worst series with
// their history, forecast and intervals, what the last promotion did, and the run's provenance.
//
// Two halves: GatherReport reads the files into a ReportData (bounded work: the metric and text-code columns
// whole, 8 or 4 bytes a row; the worst series' rows only, by hyperslab), and RenderReport turns a ReportData
// into the page (pure; the unit tests drive it with hand-made data). The SVG and HTML builders are exposed for
// those tests; what the report shares with other pages (escaping, numbers, the frame, bars) is in io/html.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "manymodels/core/calendar.h"
#include "manymodels/io/promote.h"
#include "manymodels/io/registry.h"

namespace mm {

struct ReportOptions {
  std::string registry, predictions;
  std::string production;  // optional
  std::string lake;        // optional: the worst series' history
  size_t worst = 6;
};

// One series of the worst N: its registry row, its forecast, and (with a lake) the end of its history.
struct ReportSeries {
  size_t row = 0;  // in the registry
  std::string key;  // "store=1, item=5"
  ModelRecord record;  // without params
  int64_t last_period = 0;  // the forecast origin: step s is at last_period + s
  std::vector<double> forecast, lo80, hi80, lo95, hi95;
  int64_t history_start = 0;  // period of history[0]
  std::vector<double> history;  // empty without a lake (or when the key is not in it)
  std::string history_note;     // why there is no history, when there is none
};

// Counts of a text column's values ("ets" 120, ...), largest first.
using Counts = std::vector<std::pair<std::string, int64_t>>;

struct ReportData {
  std::string registry, predictions, production, lake;  // as named on the command line
  std::string run_id;
  int64_t models = 0, failed = 0, with_note = 0;
  std::vector<std::vector<double>> metrics;  // mae, rmse, mape, smape, mase: one value per model each
  Counts families;  // as train's summary: "failed", the method, or the ensemble's family ("Median(ETS+SNaive)")
  Counts statuses;
  std::vector<ReportSeries> worst;
  size_t worst_asked = 0;
  Frequency frequency = Frequency::kDaily;
  int weekly_anchor = 0;
  int64_t horizon = 0;
  // Provenance of the registry and of the predictions file: (attribute, value), in display order.
  std::vector<std::pair<std::string, std::string>> provenance, predictions_provenance;
  // With --production: its rows by status, its provenance, and the audit rows of its last promotion (the
  // trailing rows with the latest time), all of them counted by action.
  bool has_production = false;
  Counts production_statuses;
  std::vector<std::pair<std::string, std::string>> production_provenance;
  int64_t audit_rows = 0;
  std::vector<AuditRow> last_audit;
  Counts last_actions;
};

// The metric names, in the order of ReportData::metrics.
const std::vector<std::string>& ReportMetricNames();

// Reads what the page shows. Throws std::runtime_error naming both files when the registry and the predictions
// are not from the same run (their run_id attributes differ, or one has none), or when they disagree on the
// series (count, keys of the rows read).
ReportData GatherReport(const ReportOptions& options);

// The whole page.
std::string RenderReport(const ReportData& data);

// Builders, exposed for tests.
namespace report {

// The q-quantile (0..1) of sorted finite values, by linear interpolation; NaN when empty.
double Quantile(const std::vector<double>& sorted, double q);

struct Histogram {
  double lo = 0, hi = 0;          // the binned range
  std::vector<int64_t> bins;      // equal widths over [lo, hi]
  int64_t above = 0;              // finite values above hi (the range stops at the 99th percentile)
  int64_t finite = 0, nan = 0, infinite = 0;
};
Histogram MakeHistogram(const std::vector<double>& values, size_t bins = 30);

// <svg> of a histogram: one <rect class="bar"> per non-empty bin (and one class="bar over" for `above`).
std::string HistogramSvg(const Histogram& h, const std::string& title);
// The metric's text summary: count, NaN, min, quantiles, median, max, mean.
std::string MetricSummaryHtml(const std::string& name, const std::vector<double>& values);
// <svg> of horizontal bars, one per (label, count).
std::string BarChartSvg(const Counts& counts, const std::string& title);
// <svg> of one series: history line, forecast line, 80% and 95% bands; NaN points break the lines and bands.
std::string SeriesChartSvg(const ReportSeries& s, Frequency frequency, int weekly_anchor);

}  // namespace report
}  // namespace mm

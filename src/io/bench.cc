#include "manymodels/io/bench.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>
#include <thread>

#include "manymodels/io/csv.h"
#include "manymodels/io/files.h"
#include "manymodels/io/html.h"
#include "manymodels/version.h"

namespace mm {

namespace {

std::string Fixed(double v, const char* format) {
  if (!std::isfinite(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// A whole number of 1 to `max` spelled in decimal digits only; nullopt otherwise.
std::optional<int> SmallCount(const std::string& s, int max) {
  if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  const int v = std::stoi(s);
  if (v < 1 || v > max) return std::nullopt;
  return v;
}

bool ValidSku(const std::string& s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

// A CSV file's header, and where each named column is.
class CsvColumns {
 public:
  CsvColumns(CsvReader& csv, const std::string& what) : path_(csv.path()) {
    std::vector<std::string_view> f;
    if (!csv.Next(&f)) throw InputError(path_ + ":1:1: empty file; expected a header line (" + what + ")");
    for (size_t i = 0; i < f.size(); ++i) index_.emplace(std::string(f[i]), i);
  }
  bool Has(const std::string& name) const { return index_.count(name) > 0; }
  size_t Require(const std::string& name) const {
    const auto it = index_.find(name);
    if (it == index_.end()) throw InputError(path_ + ":1:1: no column '" + name + "' in the header");
    return it->second;
  }
  const std::map<std::string, size_t>& all() const { return index_; }

 private:
  std::string path_;
  std::map<std::string, size_t> index_;
};

// A number of a CSV field; empty is NaN. Throws InputError naming FILE:LINE:COLUMN otherwise.
double NumberField(const CsvReader& csv, const std::vector<std::string_view>& f, size_t col,
                   const std::string& name) {
  const std::string text = col < f.size() ? std::string(f[col]) : std::string();
  if (text.empty()) return std::nan("");
  double v = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (error != std::errc() || end != text.data() + text.size())
    throw InputError(csv.path() + ":" + std::to_string(csv.line()) + ":" + std::to_string(col + 1) + ": " +
                     name + " '" + text + "' is not a number");
  return v;
}

}  // namespace

std::string BenchLayout::Name() const { return std::to_string(ranks) + "x" + std::to_string(threads); }

std::vector<BenchLayout> ParseLayouts(const std::string& text) {
  std::vector<BenchLayout> out;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
    const size_t x = item.find('x');
    const auto ranks = x == std::string::npos ? std::nullopt : SmallCount(item.substr(0, x), 4096);
    const auto threads = x == std::string::npos ? std::nullopt : SmallCount(item.substr(x + 1), 4096);
    if (!ranks || !threads)
      throw std::invalid_argument("'" + item +
                                  "' is not a layout RANKSxTHREADS (such as 2x1: 2 ranks of 1 thread; "
                                  "each 1 to 4096)");
    const BenchLayout l{*ranks, *threads};
    for (const auto& seen : out)
      if (seen.ranks == l.ranks && seen.threads == l.threads)
        throw std::invalid_argument("'" + item + "' is given twice");
    out.push_back(l);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<SkuPrice> ReadPrices(const std::string& path) {
  CsvReader csv(path);
  const CsvColumns cols(csv, "sku,price_per_node_hour");
  const size_t sku_col = cols.Require("sku"), price_col = cols.Require("price_per_node_hour");
  std::vector<SkuPrice> out;
  std::vector<std::string_view> f;
  while (csv.Next(&f)) {
    if (f.size() == 1 && f[0].empty()) continue;  // a blank line
    const std::string where = path + ":" + std::to_string(csv.line()) + ":";
    const std::string sku = sku_col < f.size() ? std::string(f[sku_col]) : std::string();
    if (!ValidSku(sku))
      throw InputError(where + std::to_string(sku_col + 1) + ": SKU '" + sku +
                       "' is not a name of letters, digits, '_', '-' and '.'");
    for (const auto& seen : out)
      if (seen.sku == sku)
        throw InputError(where + std::to_string(sku_col + 1) + ": SKU '" + sku + "' is listed twice");
    const double price = NumberField(csv, f, price_col, "price_per_node_hour");
    if (!(price > 0) || !std::isfinite(price))
      throw InputError(where + std::to_string(price_col + 1) + ": price_per_node_hour of " + sku +
                       " must be a positive number");
    out.push_back({sku, price});
  }
  if (out.empty()) throw InputError(path + ":2:1: no SKU rows after the header");
  return out;
}

BenchMachine ThisMachine() {
  BenchMachine m;
  m.host = HostName();
  m.cpus = static_cast<int>(std::thread::hardware_concurrency());
  m.program = std::string("manymodels ") + MANYMODELS_VERSION + " (" + MANYMODELS_GIT_COMMIT + ")";
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    // x86: "model name"; other architectures name it otherwise ("cpu model", "Model").
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    if (key != "model name" && key != "cpu model" && key != "Model") continue;
    const size_t b = line.find_first_not_of(" \t", colon + 1);
    if (b != std::string::npos) m.cpu_model = line.substr(b);
    if (!m.cpu_model.empty()) break;
  }
  if (m.cpu_model.empty()) m.cpu_model = "unknown";
  return m;
}

std::vector<BenchRow> MakeBenchRows(const std::vector<BenchRun>& runs, const BenchMachine& machine,
                                    std::optional<double> price, const std::vector<SkuPrice>& skus) {
  if (runs.empty()) return {};
  // The reference of efficiency: 1x1 when benchmarked, else the fewest cores (the first given of those).
  size_t ref = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const BenchLayout& l = runs[i].layout;
    if (l.cores() == 1 && l.ranks == 1) {
      ref = i;
      break;
    }
    if (l.cores() < runs[ref].layout.cores()) ref = i;
  }
  const double ref_core_seconds = runs[ref].wall_s * runs[ref].layout.cores();
  std::vector<BenchRow> rows;
  for (const BenchRun& r : runs) {
    if (r.ranks.empty()) throw std::invalid_argument("run " + r.layout.Name() + " reports no rank");
    BenchRow row;
    row.ranks = r.layout.ranks;
    row.threads = r.layout.threads;
    row.series = r.series;
    row.seconds = r.wall_s;
    double busy_sum = 0, busy_max = 0;
    std::set<std::string> hosts;
    for (const BenchRank& k : r.ranks) {
      row.read_s = std::max(row.read_s, k.read_s);
      row.fit_s = std::max(row.fit_s, k.busy_s - k.read_s);
      row.peak_mib_max = std::max(row.peak_mib_max, k.peak_mib);
      busy_sum += k.busy_s;
      busy_max = std::max(busy_max, k.busy_s);
      hosts.insert(k.host);
    }
    const BenchRank& root = r.ranks.front();
    row.gather_s = root.gather_s;
    row.write_s = root.write_s;
    row.write_wait_s = root.write_wait_s;
    const double busy_mean = busy_sum / static_cast<double>(r.ranks.size());
    row.imbalance = busy_mean > 0 ? busy_max / busy_mean : 1.0;
    row.series_per_s = r.wall_s > 0 ? static_cast<double>(r.series) / r.wall_s : std::nan("");
    row.cores = r.layout.cores();
    row.efficiency = r.wall_s > 0 ? ref_core_seconds / (r.wall_s * row.cores) : std::nan("");
    row.nodes = static_cast<int>(hosts.size());
    row.rows = r.rows;
    row.rows_per_s = r.wall_s > 0 ? static_cast<double>(r.rows) / r.wall_s : std::nan("");
    row.run_s = r.run_s;
    row.efficiency_vs = runs[ref].layout.Name();
    row.identical = r.identical;
    row.repeats = r.repeats;
    row.run = r.run;
    row.launch = r.launch;
    row.machine = machine;
    // Per 1,000 models: price x nodes x hours / models x 1000.
    auto cost = [&](double p) {
      return r.series > 0 ? p * row.nodes * (r.wall_s / 3600.0) / static_cast<double>(r.series) * 1000.0
                          : std::nan("");
    };
    if (price) row.cost_per_1000 = cost(*price);
    for (const SkuPrice& s : skus) row.sku_costs.emplace_back(s.sku, cost(s.price_per_node_hour));
    rows.push_back(std::move(row));
  }
  return rows;
}

namespace {

const char* const kColumns[] = {
    "ranks",   "threads",      "series",       "seconds",    "read_s",       "fit_s",         "gather_s",
    "write_s", "series_per_s", "peak_mib_max", "efficiency", "imbalance",    "cost_per_1000", "cores",
    "nodes",   "rows",         "rows_per_s",   "run_s",      "write_wait_s", "efficiency_vs", "identical",
    "repeats", "run",          "launch",       "host",       "cpu_model",    "cpus",          "program"};
constexpr const char* kSkuPrefix = "cost_per_1000_";

// The cells of a row in kColumns order, then its SKU costs.
std::vector<std::string> Cells(const BenchRow& r) {
  return {std::to_string(r.ranks),
          std::to_string(r.threads),
          std::to_string(r.series),
          Fixed(r.seconds, "%.3f"),
          Fixed(r.read_s, "%.3f"),
          Fixed(r.fit_s, "%.3f"),
          Fixed(r.gather_s, "%.3f"),
          Fixed(r.write_s, "%.3f"),
          Fixed(r.series_per_s, "%.2f"),
          Fixed(r.peak_mib_max, "%.1f"),
          Fixed(r.efficiency, "%.4f"),
          Fixed(r.imbalance, "%.4f"),
          r.cost_per_1000 ? Fixed(*r.cost_per_1000, "%.6g") : "",
          std::to_string(r.cores),
          std::to_string(r.nodes),
          std::to_string(r.rows),
          Fixed(r.rows_per_s, "%.0f"),
          Fixed(r.run_s, "%.3f"),
          Fixed(r.write_wait_s, "%.3f"),
          r.efficiency_vs,
          r.identical ? "true" : "false",
          std::to_string(r.repeats),
          std::to_string(r.run),
          r.launch,
          r.machine.host,
          r.machine.cpu_model,
          std::to_string(r.machine.cpus),
          r.machine.program};
}

}  // namespace

std::string BenchCsv(const std::vector<BenchRow>& rows) {
  std::string out;
  std::vector<std::string> header(std::begin(kColumns), std::end(kColumns));
  if (!rows.empty())
    for (const auto& [sku, cost] : rows.front().sku_costs) header.push_back(kSkuPrefix + sku);
  for (size_t j = 0; j < header.size(); ++j) (j ? out += ',' : out), AppendCsvField(&out, header[j]);
  out += '\n';
  for (const BenchRow& r : rows) {
    std::vector<std::string> cells = Cells(r);
    for (const auto& [sku, cost] : r.sku_costs) cells.push_back(Fixed(cost, "%.6g"));
    for (size_t j = 0; j < cells.size(); ++j) (j ? out += ',' : out), AppendCsvField(&out, cells[j]);
    out += '\n';
  }
  return out;
}

std::vector<BenchRow> ReadBenchCsv(const std::string& path) {
  CsvReader csv(path);
  const CsvColumns cols(csv, "a bench.csv");
  std::vector<size_t> at;
  for (const char* name : kColumns) at.push_back(cols.Require(name));
  std::vector<std::pair<std::string, size_t>> skus;
  for (const auto& [name, i] : cols.all())
    if (name.size() > std::string(kSkuPrefix).size() &&
        name.compare(0, std::string(kSkuPrefix).size(), kSkuPrefix) == 0)
      skus.emplace_back(name.substr(std::string(kSkuPrefix).size()), i);
  std::sort(skus.begin(), skus.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::vector<BenchRow> out;
  std::vector<std::string_view> f;
  while (csv.Next(&f)) {
    if (f.size() == 1 && f[0].empty()) continue;
    auto num = [&](size_t k) { return NumberField(csv, f, at[k], kColumns[k]); };
    auto text = [&](size_t k) { return at[k] < f.size() ? std::string(f[at[k]]) : std::string(); };
    auto whole = [&](size_t k) {
      const double v = num(k);
      if (!(v >= 0) || v != std::floor(v))
        throw InputError(path + ":" + std::to_string(csv.line()) + ":" + std::to_string(at[k] + 1) + ": " +
                         kColumns[k] + " '" + text(k) + "' is not a whole number");
      return static_cast<int64_t>(v);
    };
    BenchRow r;
    r.ranks = static_cast<int>(whole(0));
    r.threads = static_cast<int>(whole(1));
    if (r.ranks < 1 || r.threads < 1)
      throw InputError(path + ":" + std::to_string(csv.line()) + ":" + std::to_string(at[0] + 1) +
                       ": ranks and threads must be at least 1");
    r.series = whole(2);
    r.seconds = num(3), r.read_s = num(4), r.fit_s = num(5), r.gather_s = num(6), r.write_s = num(7);
    r.series_per_s = num(8), r.peak_mib_max = num(9), r.efficiency = num(10), r.imbalance = num(11);
    if (const double c = num(12); !std::isnan(c)) r.cost_per_1000 = c;
    r.cores = static_cast<int>(whole(13));
    r.nodes = static_cast<int>(whole(14));
    r.rows = whole(15);
    r.rows_per_s = num(16), r.run_s = num(17), r.write_wait_s = num(18);
    r.efficiency_vs = text(19);
    r.identical = text(20) == "true";
    r.repeats = static_cast<int>(whole(21));
    r.run = static_cast<int>(whole(22));
    r.launch = text(23);
    r.machine.host = text(24);
    r.machine.cpu_model = text(25);
    r.machine.cpus = static_cast<int>(whole(26));
    r.machine.program = text(27);
    for (const auto& [sku, i] : skus) r.sku_costs.emplace_back(sku, NumberField(csv, f, i, kSkuPrefix + sku));
    out.push_back(std::move(r));
  }
  if (out.empty()) throw InputError(path + ":2:1: no rows after the header");
  return out;
}

namespace {

using html::Escape;
using html::Number;

std::string Money(double v) { return std::isfinite(v) ? Fixed(v, "%.4g") : "n/a"; }

// The rows as an HTML table (`first` cells put before each row's own, under `first_header`).
std::string RowsTable(const std::vector<BenchRow>& rows, const std::string& first_header,
                      const std::vector<std::string>& first) {
  std::string h = "<table class=\"data layouts\" id=\"layouts\"><tr>";
  if (!first_header.empty()) h += "<th>" + Escape(first_header) + "</th>";
  for (const char* c :
       {"layout", "cores", "nodes", "series", "seconds", "read s", "fit s", "gather s", "write s", "series/s",
        "peak MiB", "efficiency", "imbalance", "cost / 1,000", "identical"})
    h += "<th>" + std::string(c) + "</th>";
  h += "</tr>";
  for (size_t i = 0; i < rows.size(); ++i) {
    const BenchRow& r = rows[i];
    h += "<tr data-layout=\"" + r.Layout() + "\">";
    if (!first_header.empty()) h += "<td>" + Escape(i < first.size() ? first[i] : "") + "</td>";
    auto num = [&h](const std::string& v) { h += "<td class=\"num\">" + v + "</td>"; };
    h += "<td>" + r.Layout() + "</td>";
    num(std::to_string(r.cores));
    num(std::to_string(r.nodes));
    num(std::to_string(r.series));
    num(Fixed(r.seconds, "%.2f"));
    num(Fixed(r.read_s, "%.2f"));
    num(Fixed(r.fit_s, "%.2f"));
    num(Fixed(r.gather_s, "%.2f"));
    num(Fixed(r.write_s, "%.2f"));
    num(Fixed(r.series_per_s, "%.1f"));
    num(Fixed(r.peak_mib_max, "%.0f"));
    num(Fixed(r.efficiency, "%.3f"));
    num(Fixed(r.imbalance, "%.3f"));
    num(r.cost_per_1000 ? Money(*r.cost_per_1000) : "");
    h += r.identical ? "<td>yes</td>" : "<td class=\"bad\">NO</td>";
    h += "</tr>";
  }
  return h + "</table>";
}

// Cost bars: per row with cost_per_1000, and per row and SKU; `prefix` names the row's file in a comparison.
std::vector<html::Bar> CostBars(const std::vector<BenchRow>& rows, const std::string& prefix) {
  std::vector<html::Bar> bars;
  for (const BenchRow& r : rows) {
    if (r.cost_per_1000) bars.push_back({prefix + r.Layout(), *r.cost_per_1000, Money(*r.cost_per_1000)});
    for (const auto& [sku, cost] : r.sku_costs)
      bars.push_back({prefix + r.Layout() + " @ " + sku, cost, Money(cost)});
  }
  return bars;
}

std::string Figure(const std::string& id, const std::string& svg, const std::string& caption) {
  return "<figure class=\"chart\" id=\"" + id + "\">" + svg + "<figcaption class=\"muted\">" + caption +
         "</figcaption></figure>\n";
}

// The captions of ChartSections' figures, and what the cost section says when there is no cost.
struct ChartCaptions {
  std::string time, efficiency, cost, no_cost;
};

// The sections both pages draw: time and efficiency against cores, and cost per 1,000 models.
std::string ChartSections(const std::vector<html::Line>& time, const std::vector<html::Line>& efficiency,
                          const std::vector<html::Bar>& cost, const ChartCaptions& captions) {
  const std::string x = "cores (ranks x threads)";
  return "<section id=\"time\"><h2>Time against cores</h2>\n" +
         Figure("time-chart", html::LineChartSvg(time, {"seconds against cores", x, "seconds", {}}),
                captions.time) +
         "</section>\n<section id=\"efficiency\"><h2>Efficiency against cores</h2>\n" +
         Figure("efficiency-chart",
                html::LineChartSvg(efficiency, {"efficiency against cores", x, "efficiency", 1.0}),
                captions.efficiency) +
         "</section>\n<section id=\"cost\"><h2>Cost per 1,000 models</h2>\n" +
         (cost.empty() ? "<p class=\"muted\">" + captions.no_cost + "</p>\n"
                       : Figure("cost-chart", html::BarsSvg(cost, "cost per 1,000 models", "no cost"),
                                captions.cost)) +
         "</section>\n";
}

constexpr const char* kDefinitions =
    "<p class=\"muted\">seconds: wall time of the launched run (MPI start-up included); read, fit: the "
    "largest "
    "over ranks; gather: rank 0, from the end of its own share until the other ranks' last results came; "
    "write: "
    "rank 0's writer thread and the outputs' commit; efficiency: (seconds &times; cores) of the reference "
    "layout "
    "over this layout's; imbalance: the largest rank's busy time (reading and fitting) over the mean; cost "
    "per "
    "1,000 models: price per node-hour &times; nodes &times; hours / models &times; 1,000.</p>\n";

}  // namespace

std::string RenderBench(const std::vector<BenchRow>& rows, const std::string& command) {
  const BenchMachine m = rows.empty() ? BenchMachine{} : rows.front().machine;
  bool identical = true;
  for (const BenchRow& r : rows) identical = identical && r.identical;
  std::string h = html::PageStart("manymodels bench: " + m.host);
  h += "<header><h1>manymodels bench</h1><p class=\"lead\">host <code id=\"host\">" + Escape(m.host) +
       "</code> &middot; " + Escape(m.cpu_model) + " &middot; " + std::to_string(m.cpus) + " CPUs &middot; " +
       (rows.empty() ? std::string("no runs")
                     : std::to_string(rows.front().series) + " models, " + std::to_string(rows.front().rows) +
                           " lake rows") +
       " &middot; " + Escape(m.program) + "</p>\n<p><code>" + Escape(command) + "</code></p>\n";
  h += identical
           ? "<p id=\"identical\">Every layout's exports are identical to the first layout's.</p>\n"
           : "<p id=\"identical\" class=\"bad\">The exports of some layouts differ from the first layout's "
             "(column identical): these figures do not compare like with like.</p>\n";
  h += "<nav><a href=\"#time\">Time</a><a href=\"#efficiency\">Efficiency</a><a href=\"#cost\">Cost</a>"
       "<a href=\"#table\">Layouts</a></nav></header>\n";

  // Lines by threads per rank: along one, ranks grow.
  std::map<int, html::Line> time_lines, eff_lines;
  for (const BenchRow& r : rows) {
    const std::string name =
        std::to_string(r.threads) + (r.threads == 1 ? " thread" : " threads") + " per rank";
    time_lines[r.threads].name = name;
    eff_lines[r.threads].name = name;
    time_lines[r.threads].points.push_back({static_cast<double>(r.cores), r.seconds, r.Layout()});
    eff_lines[r.threads].points.push_back({static_cast<double>(r.cores), r.efficiency, r.Layout()});
  }
  std::vector<html::Line> tl, el;
  for (auto& [t, l] : time_lines) tl.push_back(l);
  for (auto& [t, l] : eff_lines) el.push_back(l);
  const std::string ref = rows.empty() ? "" : rows.front().efficiency_vs;
  h += ChartSections(
      tl, el, CostBars(rows, ""),
      {"Wall seconds of each layout (RANKSxTHREADS), one line per number of threads per rank.",
       "Speed-up over " + Escape(ref) + " divided by the cores used; the dashed line is perfect scaling.",
       "Price per node-hour &times; nodes &times; hours of the run / models &times; 1,000, per "
       "layout" +
           std::string(!rows.empty() && !rows.front().sku_costs.empty() ? " and SKU" : "") + ".",
       "No --price or --prices given."});
  h += "<section id=\"table\"><h2>Layouts</h2>\n" + RowsTable(rows, "", {}) + "\n" + kDefinitions;
  h += "<p class=\"muted\">Launched as: ";
  for (size_t i = 0; i < rows.size(); ++i)
    h += (i ? "; " : "") + std::string("<code>") + Escape(rows[i].launch) + "</code>";
  h += "</p>\n</section>\n" + html::PageEnd();
  return h;
}

std::string RenderBenchCompare(const std::vector<std::pair<std::string, std::vector<BenchRow>>>& files) {
  std::string h = html::PageStart("manymodels bench compare");
  h += "<header><h1>manymodels bench compare</h1><p class=\"lead\">" + std::to_string(files.size()) +
       " benchmark files side by side</p>\n<nav><a href=\"#machines\">Machines</a><a "
       "href=\"#time\">Time</a><a "
       "href=\"#efficiency\">Efficiency</a><a href=\"#cost\">Cost</a><a "
       "href=\"#table\">Layouts</a></nav></header>\n";
  h += "<section id=\"machines\"><h2>Machines</h2><table "
       "class=\"data\"><tr><th>run</th><th>file</th><th>host</th>"
       "<th>CPU model</th><th>CPUs</th><th>models</th><th>lake rows</th><th>program</th><th>exports "
       "identical</th></tr>";
  std::vector<std::string> names;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& [file, rows] = files[i];
    const BenchMachine& m = rows.front().machine;
    names.push_back(std::to_string(i + 1) + ": " + m.host);
    bool identical = true;
    for (const BenchRow& r : rows) identical = identical && r.identical;
    h += "<tr><td>" + std::to_string(i + 1) + "</td><td><code>" + Escape(file) + "</code></td><td>" +
         Escape(m.host) + "</td><td>" + Escape(m.cpu_model) + "</td><td class=\"num\">" +
         std::to_string(m.cpus) + "</td><td class=\"num\">" + std::to_string(rows.front().series) +
         "</td><td class=\"num\">" + std::to_string(rows.front().rows) + "</td><td>" + Escape(m.program) +
         "</td>" + (identical ? "<td>yes</td>" : "<td class=\"bad\">NO</td>") + "</tr>";
  }
  h += "</table></section>\n";
  std::vector<html::Line> tl, el;
  std::vector<html::Bar> bars;
  for (size_t i = 0; i < files.size(); ++i) {
    html::Line t{names[i], {}}, e{names[i], {}};
    for (const BenchRow& r : files[i].second) {
      t.points.push_back({static_cast<double>(r.cores), r.seconds, r.Layout()});
      e.points.push_back({static_cast<double>(r.cores), r.efficiency, r.Layout()});
    }
    tl.push_back(t);
    el.push_back(e);
    for (auto& b : CostBars(files[i].second, names[i] + " ")) bars.push_back(b);
  }
  h += ChartSections(
      tl, el, bars,
      {"Wall seconds per layout, one line per file; compare like with like (the same models and "
       "lake rows: see Machines).",
       "Each file's efficiency against its own reference layout.",
       "Per file, layout (and SKU), at the prices each bench was given.", "No file records a cost."});
  std::vector<BenchRow> all;
  std::vector<std::string> first;
  for (size_t i = 0; i < files.size(); ++i)
    for (const BenchRow& r : files[i].second) all.push_back(r), first.push_back(names[i]);
  h += "<section id=\"table\"><h2>Layouts</h2>\n" + RowsTable(all, "run", first) + "\n" + kDefinitions +
       "</section>\n" + html::PageEnd();
  return h;
}

}  // namespace mm

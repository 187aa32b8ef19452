#include "manymodels/io/report.h"

#include "manymodels/core/ensemble.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <tuple>
#include <stdexcept>

#include "manymodels/io/columns.h"
#include "manymodels/io/html.h"
#include "manymodels/io/lake.h"
#include "manymodels/io/predictions.h"

namespace mm {

const std::vector<std::string>& ReportMetricNames() {
  static const std::vector<std::string> names = {"mae", "rmse", "mape", "smape", "mase"};
  return names;
}

namespace report {

using html::Coord;
using html::Escape;
using html::Number;

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::nan("");
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto i = static_cast<size_t>(std::floor(pos));
  if (i + 1 >= sorted.size()) return sorted.back();
  const double f = pos - static_cast<double>(i);
  return sorted[i] + f * (sorted[i + 1] - sorted[i]);
}

Histogram MakeHistogram(const std::vector<double>& values, size_t bins) {
  Histogram h;
  std::vector<double> finite;
  finite.reserve(values.size());
  for (double v : values) {
    if (std::isnan(v)) ++h.nan;
    else if (std::isinf(v)) ++h.infinite;
    else finite.push_back(v);
  }
  h.finite = static_cast<int64_t>(finite.size());
  if (finite.empty() || bins == 0) return h;
  std::sort(finite.begin(), finite.end());
  h.lo = finite.front();
  h.hi = finite.back();
  // A long right tail (MAPE of series near zero) would squeeze every other bar into the first bin: stop the
  // range at the 99th percentile and count the rest apart.
  const double q99 = Quantile(finite, 0.99);
  if (q99 > h.lo && h.hi - h.lo > 4 * (q99 - h.lo)) h.hi = q99;
  if (h.hi <= h.lo) h.hi = h.lo + std::max(std::fabs(h.lo) * 0.5, 1.0);
  h.bins.assign(bins, 0);
  const double width = (h.hi - h.lo) / static_cast<double>(bins);
  for (double v : finite) {
    if (v > h.hi) {
      ++h.above;
      continue;
    }
    auto b = static_cast<size_t>((v - h.lo) / width);
    if (b >= bins) b = bins - 1;
    ++h.bins[b];
  }
  return h;
}

std::string HistogramSvg(const Histogram& h, const std::string& title) {
  constexpr double W = 340, H = 170, left = 44, right = 10, top = 10, bottom = 34;
  const double pw = W - left - right, ph = H - top - bottom;
  std::string s = "<svg class=\"histogram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"340\" height=\"170\" "
                  "viewBox=\"0 0 340 170\" role=\"img\"><title>" + Escape(title) + "</title>";
  if (h.bins.empty()) {
    s += "<text class=\"empty\" x=\"170\" y=\"85\" text-anchor=\"middle\">no finite values</text></svg>";
    return s;
  }
  const size_t slots = h.bins.size() + (h.above > 0 ? 2 : 0);  // a gap, then the bar of values past the range
  int64_t top_count = h.above;
  for (int64_t c : h.bins) top_count = std::max(top_count, c);
  const double bw = pw / static_cast<double>(slots);
  const double width = (h.hi - h.lo) / static_cast<double>(h.bins.size());
  auto bar = [&](size_t slot, int64_t count, const std::string& cls, const std::string& tip) {
    const double bh = ph * static_cast<double>(count) / static_cast<double>(top_count);
    s += "<rect class=\"" + cls + "\" x=\"" + Coord(left + bw * static_cast<double>(slot) + 0.5) + "\" y=\"" +
         Coord(top + ph - bh) + "\" width=\"" + Coord(std::max(bw - 1, 0.5)) + "\" height=\"" + Coord(bh) +
         "\"><title>" + Escape(tip) + "</title></rect>";
  };
  for (size_t b = 0; b < h.bins.size(); ++b) {
    if (h.bins[b] == 0) continue;
    const double a = h.lo + width * static_cast<double>(b);
    bar(b, h.bins[b], "bar",
        "[" + Number(a) + ", " + Number(a + width) + (b + 1 == h.bins.size() ? "]" : ")") + ": " +
            std::to_string(h.bins[b]));
  }
  if (h.above > 0) bar(slots - 1, h.above, "bar over", "above " + Number(h.hi) + ": " + std::to_string(h.above));
  // Axes and labels.
  s += "<line class=\"axis\" x1=\"" + Coord(left) + "\" y1=\"" + Coord(top + ph) + "\" x2=\"" + Coord(W - right) +
       "\" y2=\"" + Coord(top + ph) + "\"/>";
  s += "<line class=\"axis\" x1=\"" + Coord(left) + "\" y1=\"" + Coord(top) + "\" x2=\"" + Coord(left) + "\" y2=\"" +
       Coord(top + ph) + "\"/>";
  s += "<text x=\"" + Coord(left - 4) + "\" y=\"" + Coord(top + 8) + "\" text-anchor=\"end\">" +
       std::to_string(top_count) + "</text>";
  s += "<text x=\"" + Coord(left - 4) + "\" y=\"" + Coord(top + ph) + "\" text-anchor=\"end\">0</text>";
  s += "<text x=\"" + Coord(left) + "\" y=\"" + Coord(H - bottom + 14) + "\">" + Number(h.lo) + "</text>";
  s += "<text x=\"" + Coord(left + bw * static_cast<double>(h.bins.size())) + "\" y=\"" + Coord(H - bottom + 14) +
       "\" text-anchor=\"end\">" + Number(h.hi) + "</text>";
  if (h.above > 0)
    s += "<text x=\"" + Coord(W - right) + "\" y=\"" + Coord(H - bottom + 28) + "\" text-anchor=\"end\">&gt; " +
         Number(h.hi) + "</text>";
  s += "</svg>";
  return s;
}

std::string MetricSummaryHtml(const std::string& name, const std::vector<double>& values) {
  std::vector<double> finite;
  int64_t nan = 0, inf = 0;
  for (double v : values) {
    if (std::isnan(v)) ++nan;
    else if (std::isinf(v)) ++inf;
    else finite.push_back(v);
  }
  std::sort(finite.begin(), finite.end());
  const double mean = finite.empty() ? std::nan("")
                                     : std::accumulate(finite.begin(), finite.end(), 0.0) /
                                           static_cast<double>(finite.size());
  std::string s = "<table class=\"summary\" data-metric=\"" + Escape(name) + "\">";
  auto row = [&s](const std::string& k, const std::string& v) {
    s += "<tr><th>" + k + "</th><td>" + v + "</td></tr>";
  };
  row("count", std::to_string(finite.size()));
  row("NaN", std::to_string(nan));
  if (inf) row("infinite", std::to_string(inf));
  if (!finite.empty()) {
    row("min", Number(finite.front()));
    row("5%", Number(Quantile(finite, 0.05)));
    row("25%", Number(Quantile(finite, 0.25)));
    s += "<tr class=\"median\"><th>median</th><td>" + Number(Quantile(finite, 0.5)) + "</td></tr>";
    row("75%", Number(Quantile(finite, 0.75)));
    row("95%", Number(Quantile(finite, 0.95)));
    row("max", Number(finite.back()));
    row("mean", Number(mean));
  }
  s += "</table>";
  return s;
}

std::string BarChartSvg(const Counts& counts, const std::string& title) {
  std::vector<html::Bar> bars;
  for (const auto& [label, n] : counts) bars.push_back({label, static_cast<double>(n), std::to_string(n)});
  return html::BarsSvg(bars, title, "no models");
}

namespace {

// Path data for (x, y) points; NaN values break the line. Isolated points (a run of one) are not in the path
// but returned as `dots`.
std::string LinePath(const std::vector<std::pair<double, double>>& pts, std::vector<std::pair<double, double>>* dots) {
  std::string d;
  size_t start = 0;
  for (size_t i = 0; i <= pts.size(); ++i) {
    if (i < pts.size() && std::isfinite(pts[i].second)) continue;
    if (i - start == 1) dots->push_back(pts[start]);
    if (i - start >= 2) {
      for (size_t k = start; k < i; ++k) {
        if (!d.empty()) d += ' ';
        d += k == start ? 'M' : 'L';
        d += Coord(pts[k].first);
        d += ',';
        d += Coord(pts[k].second);
      }
    }
    start = i + 1;
  }
  return d;
}

// Path data for a band between lo and hi at xs: one closed polygon per run where both are finite.
std::string BandPath(const std::vector<double>& xs, const std::vector<double>& lo, const std::vector<double>& hi) {
  std::string d;
  size_t start = 0;
  for (size_t i = 0; i <= xs.size(); ++i) {
    const bool ok = i < xs.size() && std::isfinite(lo[i]) && std::isfinite(hi[i]);
    if (ok) continue;
    if (i > start) {
      // A run of one step is drawn as a thin vertical box.
      const double pad = i - start == 1 ? 2 : 0;
      std::string poly;
      auto point = [&poly](double x, double y) {
        poly += poly.empty() ? 'M' : 'L';
        poly += Coord(x);
        poly += ',';
        poly += Coord(y);
        poly += ' ';
      };
      for (size_t k = start; k < i; ++k) point(xs[k] - pad, hi[k]);
      if (pad > 0) point(xs[start] + pad, hi[start]), point(xs[start] + pad, lo[start]);
      for (size_t k = i; k-- > start;) point(xs[k] - pad, lo[k]);
      d += poly + "Z ";
    }
    start = i + 1;
  }
  if (!d.empty()) d.pop_back();
  return d;
}

}  // namespace

std::string SeriesChartSvg(const ReportSeries& s, Frequency frequency, int weekly_anchor) {
  constexpr double W = 720, H = 250, left = 64, right = 12, top = 12, bottom = 32;
  const double pw = W - left - right, ph = H - top - bottom;
  const size_t h = s.forecast.size();
  std::string out = "<svg class=\"series-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"250\" "
                    "viewBox=\"0 0 720 250\" role=\"img\"><title>" + Escape(s.key) + "</title>";
  const int64_t first = s.history.empty() ? s.last_period + 1 : s.history_start;
  const int64_t last = s.last_period + static_cast<int64_t>(std::max<size_t>(h, 1));
  double ylo = INFINITY, yhi = -INFINITY;
  auto see = [&](const std::vector<double>& v) {
    for (double x : v)
      if (std::isfinite(x)) ylo = std::min(ylo, x), yhi = std::max(yhi, x);
  };
  for (const auto* v : {&s.history, &s.forecast, &s.lo80, &s.hi80, &s.lo95, &s.hi95}) see(*v);
  if (!(ylo <= yhi)) {
    out += "<text class=\"empty\" x=\"360\" y=\"125\" text-anchor=\"middle\">no finite values to draw</text></svg>";
    return out;
  }
  if (yhi == ylo) yhi = ylo + std::max(std::fabs(ylo) * 0.1, 1.0), ylo -= (yhi - ylo);
  const double pad = (yhi - ylo) * 0.05;
  ylo -= pad, yhi += pad;
  const double span = static_cast<double>(std::max<int64_t>(last - first, 1));
  auto X = [&](int64_t period) { return left + pw * static_cast<double>(period - first) / span; };
  auto Y = [&](double v) { return std::isfinite(v) ? top + ph * (yhi - v) / (yhi - ylo) : v; };

  // Grid and axis labels: three values on y; the first period, the origin and the last on x.
  for (int k = 0; k <= 2; ++k) {
    const double v = ylo + (yhi - ylo) * k / 2.0;
    out += "<line class=\"grid\" x1=\"" + Coord(left) + "\" x2=\"" + Coord(W - right) + "\" y1=\"" + Coord(Y(v)) +
           "\" y2=\"" + Coord(Y(v)) + "\"/><text x=\"" + Coord(left - 4) + "\" y=\"" + Coord(Y(v) + 4) +
           "\" text-anchor=\"end\">" + Number(v) + "</text>";
  }
  auto xlabel = [&](int64_t period, const char* anchor) {
    out += "<text x=\"" + Coord(X(period)) + "\" y=\"" + Coord(H - bottom + 16) + "\" text-anchor=\"" + anchor +
           "\">" + Escape(FormatPeriod(frequency, period, weekly_anchor)) + "</text>";
  };
  if (!s.history.empty()) xlabel(first, "start");
  xlabel(s.last_period, s.history.empty() ? "start" : "middle");
  xlabel(last, "end");

  std::vector<double> xs(h);
  std::vector<double> lo80(h), hi80(h), lo95(h), hi95(h);
  for (size_t i = 0; i < h; ++i) {
    xs[i] = X(s.last_period + static_cast<int64_t>(i) + 1);
    lo80[i] = Y(s.lo80[i]), hi80[i] = Y(s.hi80[i]), lo95[i] = Y(s.lo95[i]), hi95[i] = Y(s.hi95[i]);
  }
  if (const std::string d = BandPath(xs, lo95, hi95); !d.empty()) out += "<path class=\"band95\" d=\"" + d + "\"/>";
  if (const std::string d = BandPath(xs, lo80, hi80); !d.empty()) out += "<path class=\"band80\" d=\"" + d + "\"/>";
  out += "<line class=\"origin\" x1=\"" + Coord(X(s.last_period)) + "\" x2=\"" + Coord(X(s.last_period)) +
         "\" y1=\"" + Coord(top) + "\" y2=\"" + Coord(top + ph) + "\"/>";

  std::vector<std::pair<double, double>> dots;
  std::vector<std::pair<double, double>> hist;
  for (size_t i = 0; i < s.history.size(); ++i)
    hist.emplace_back(X(s.history_start + static_cast<int64_t>(i)), Y(s.history[i]));
  if (const std::string d = LinePath(hist, &dots); !d.empty()) out += "<path class=\"history\" d=\"" + d + "\"/>";
  for (const auto& [x, y] : dots) out += "<circle class=\"history\" cx=\"" + Coord(x) + "\" cy=\"" + Coord(y) + "\" r=\"2\"/>";
  dots.clear();
  std::vector<std::pair<double, double>> fc;
  // The forecast starts from the last observation when the history reaches the origin.
  const int64_t hist_end = s.history_start + static_cast<int64_t>(s.history.size()) - 1;
  if (!s.history.empty() && hist_end == s.last_period && std::isfinite(s.history.back()))
    fc.push_back(hist.back());
  for (size_t i = 0; i < h; ++i) fc.emplace_back(xs[i], Y(s.forecast[i]));
  if (const std::string d = LinePath(fc, &dots); !d.empty()) out += "<path class=\"forecast\" d=\"" + d + "\"/>";
  for (const auto& [x, y] : dots) out += "<circle class=\"forecast\" cx=\"" + Coord(x) + "\" cy=\"" + Coord(y) + "\" r=\"2\"/>";
  out += "<line class=\"axis\" x1=\"" + Coord(left) + "\" y1=\"" + Coord(top + ph) + "\" x2=\"" + Coord(W - right) +
         "\" y2=\"" + Coord(top + ph) + "\"/></svg>";
  return out;
}

}  // namespace report

namespace {

using html::Escape;
using html::Number;

// Counts of a dictionary-coded column's values over rows [offset, offset + count), largest first (ties by
// value). Reads the codes (4 bytes a row) and the distinct values only.
Counts CountCodes(const h5::Location& where, const std::string& name, size_t offset = 0,
                  size_t count = h5::Location::npos) {
  const h5::Location g = where.Group(name);
  const std::vector<std::string> values = g.ReadStrings("values");
  const std::vector<int32_t> codes = g.ReadI32("codes", offset, count);
  std::vector<int64_t> n(values.size(), 0);
  for (int32_t c : codes) {
    if (c < 0 || static_cast<size_t>(c) >= values.size())
      throw h5::Error(where.name() + ": column '" + name + "' has a code out of range");
    ++n[static_cast<size_t>(c)];
  }
  std::map<std::string, int64_t> merged;  // a value may appear once only, but do not rely on it
  for (size_t i = 0; i < values.size(); ++i)
    if (n[i]) merged[values[i]] += n[i];
  Counts out(merged.begin(), merged.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

int64_t CountOf(const Counts& c, const std::string& value) {
  for (const auto& [v, n] : c)
    if (v == value) return n;
  return 0;
}

// The root attributes that record what produced a file, in display order, those present only.
std::vector<std::pair<std::string, std::string>> ProvenanceOf(const h5::Location& f) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* name : {"run_id", "program_version", "command", "command_line", "created", "host", "ranks",
                           "horizon", "frequency", "key_columns", "season_lengths", "lake", "registry",
                           "predictions", "inputs", "options", "resolved", "role"}) {
    if (!f.HasAttr(name)) continue;
    const std::string n = name;
    std::string v;
    if (n == "ranks" || n == "horizon") {
      v = std::to_string(f.GetAttrI64(name));
    } else if (n == "season_lengths") {
      for (double x : f.GetAttrF64s(name)) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.10g", x);
        v += (v.empty() ? "" : ", ") + std::string(buf);
      }
    } else if (n == "key_columns") {
      for (const auto& x : f.GetAttrStrings(name)) v += (v.empty() ? "" : ", ") + x;
    } else {
      v = f.GetAttrString(name);
    }
    out.emplace_back(n, v);
  }
  return out;
}

std::string AttrOr(const h5::Location& f, const char* name) {
  return f.HasAttr(name) ? f.GetAttrString(name) : std::string();
}

// The lake's history of one worst series, ending at its forecast origin.
void ReadHistory(const LakeReader& lake, const KeyTable& key, const TableMeta& meta, ReportSeries* s) {
  const KeyTable& keys = lake.index().keys;
  if (keys.Names() != key.Names()) {
    s->history_note = "the lake's series are keyed by " + [&] {
      std::string n;
      for (const auto& c : keys.Names()) n += (n.empty() ? "" : ", ") + c;
      return n;
    }() + " (a --partition-by run): no history shown";
    return;
  }
  for (size_t c = 0; c < keys.columns.size(); ++c)
    if (keys.columns[c].is_text != key.columns[c].is_text) {
      s->history_note = "the lake's key column " + keys.columns[c].name + " has another type: no history shown";
      return;
    }
  size_t lo = 0, hi = keys.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (keys.Compare(mid, key, 0) < 0) lo = mid + 1;
    else hi = mid;
  }
  if (lo == keys.size() || keys.Compare(lo, key, 0) != 0) {
    s->history_note = "not in the lake " + lake.path();
    return;
  }
  const LakeIndex& ix = lake.index();
  const int64_t length = ix.length(lo), start = ix.start[lo];
  // The last few cycles of the primary season (at least four horizons), up to the forecast origin.
  double m = meta.season_lengths.empty() ? 1 : meta.season_lengths.front();
  if (!(m >= 1)) m = 1;
  const int64_t want = std::min<int64_t>(400, std::max<int64_t>(4 * std::max<int64_t>(meta.horizon, 1),
                                                                3 * static_cast<int64_t>(std::ceil(m))));
  const int64_t end = std::min(length, s->last_period - start + 1);  // exclusive, in the series
  if (end <= 0) {
    s->history_note = "the lake holds no period up to the forecast origin";
    return;
  }
  const int64_t begin = std::max<int64_t>(0, end - want);
  const std::vector<double> all = lake.ReadTarget(lo, lo + 1);
  s->history.assign(all.begin() + begin, all.begin() + end);
  s->history_start = start + begin;
}

}  // namespace

ReportData GatherReport(const ReportOptions& o) {
  ReportData d;
  d.registry = o.registry;
  d.predictions = o.predictions;
  d.production = o.production;
  d.lake = o.lake;
  d.worst_asked = o.worst;

  const RegistryReader reg(o.registry);
  const PredictionsReader pred(o.predictions);
  const h5::Location rf = h5::Location::OpenFile(o.registry);
  const h5::Location pf = h5::Location::OpenFile(o.predictions);

  // One run's outputs only: train writes both with the same run id and replaces them together.
  const std::string written_with = AttrOr(rf, "predictions");
  if (reg.run_id().empty() || pred.run_id().empty() || reg.run_id() != pred.run_id()) {
    auto run = [](const std::string& id) { return id.empty() ? std::string("no run_id") : "run " + id; };
    std::string msg = "the registry " + o.registry + " (" + run(reg.run_id()) + ") and the predictions " +
                      o.predictions + " (" + run(pred.run_id()) + ") are not the outputs of one training run";
    if (!written_with.empty()) msg += "; the registry was written with " + written_with;
    throw std::runtime_error(msg);
  }
  if (reg.size() != pred.size() || reg.key_columns() != pred.key_columns())
    throw std::runtime_error("the registry " + o.registry + " and the predictions " + o.predictions +
                             " share run " + reg.run_id() + " but not their series (" + std::to_string(reg.size()) +
                             " and " + std::to_string(pred.size()) + ")");
  d.run_id = reg.run_id();
  d.frequency = reg.meta().frequency;
  d.weekly_anchor = reg.meta().weekly_anchor;
  d.horizon = reg.meta().horizon;
  d.models = static_cast<int64_t>(reg.size());
  d.provenance = ProvenanceOf(rf);
  d.predictions_provenance = ProvenanceOf(pf);

  // Whole columns, 8 or 4 bytes a row.
  for (const auto& name : ReportMetricNames()) d.metrics.push_back(rf.ReadF64(name));
  d.statuses = CountCodes(rf, "status");
  d.failed = CountOf(d.statuses, "failed");
  d.with_note = reg.CountNotes();
  {
    // Families as train's run summary counts them: "failed", the method, or for an ensemble the family of its
    // label; counted over (status, method, model) codes, 12 bytes a row.
    const h5::Location sg = rf.Group("status"), mg = rf.Group("method"), lg = rf.Group("model");
    const std::vector<std::string> statuses = sg.ReadStrings("values"), methods = mg.ReadStrings("values"),
                                   labels = lg.ReadStrings("values");
    const std::vector<int32_t> sc = sg.ReadI32("codes"), mc = mg.ReadI32("codes"), lc = lg.ReadI32("codes");
    if (sc.size() != mc.size() || lc.size() != mc.size())
      throw h5::Error(o.registry + ": the status, method and model columns differ in length");
    std::map<std::tuple<int32_t, int32_t, int32_t>, int64_t> triples;
    for (size_t i = 0; i < mc.size(); ++i) ++triples[{sc[i], mc[i], lc[i]}];
    auto at = [&](const std::vector<std::string>& values, int32_t code) -> const std::string& {
      if (code < 0 || static_cast<size_t>(code) >= values.size())
        throw h5::Error(o.registry + ": a status, method or model code out of range");
      return values[static_cast<size_t>(code)];
    };
    std::map<std::string, int64_t> families;
    for (const auto& [codes, n] : triples) {
      const auto [st, m, l] = codes;
      const std::string& method = at(methods, m);
      families[ModelFamily(method, at(labels, l), at(statuses, st) == "failed")] += n;
    }
    d.families.assign(families.begin(), families.end());
    std::stable_sort(d.families.begin(), d.families.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
  }

  // The worst series by MASE, NaN last; their rows only.
  const std::vector<double>& mase = d.metrics[4];
  std::vector<size_t> order(mase.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const size_t n = std::min(o.worst, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                    [&mase](size_t a, size_t b) {
                      const bool na = std::isnan(mase[a]), nb = std::isnan(mase[b]);
                      if (na != nb) return nb;
                      if (!na && mase[a] != mase[b]) return mase[a] > mase[b];
                      return a < b;
                    });
  std::unique_ptr<LakeReader> lake;
  if (!o.lake.empty()) lake = std::make_unique<LakeReader>(o.lake);
  for (size_t k = 0; k < n; ++k) {
    ReportSeries s;
    s.row = order[k];
    const KeyTable key = reg.ReadKeys(s.row, 1);
    s.key = key.Describe(0);
    s.record = reg.ReadRows(s.row, 1, /*load_params=*/false).at(0);
    const PredictionsTable t = pred.Read(s.row, 1);
    if (t.keys.size() != 1 || t.keys.Describe(0) != s.key)
      throw std::runtime_error("the predictions " + o.predictions + " hold " +
                               (t.keys.size() ? t.keys.Describe(0) : std::string("nothing")) + " at row " +
                               std::to_string(s.row) + " where the registry " + o.registry + " holds " + s.key);
    s.last_period = s.record.last_period;
    s.forecast = t.forecast, s.lo80 = t.lo80, s.hi80 = t.hi80, s.lo95 = t.lo95, s.hi95 = t.hi95;
    if (!t.period.empty()) s.last_period = t.period.front() - 1;
    if (lake) ReadHistory(*lake, key, reg.meta(), &s);
    else s.history_note = "no --lake given: forecast only";
    d.worst.push_back(std::move(s));
  }

  if (!o.production.empty()) {
    d.has_production = true;
    const h5::Location f = h5::Location::OpenFile(o.production);
    CheckKind(f, "manymodels-registry", kRegistrySchemaVersion, kRegistryOldestSchemaVersion);
    d.production_statuses = CountCodes(f, "status");
    d.production_provenance = ProvenanceOf(f);
    if (f.Exists("audit")) {
      const h5::Location audit = f.Group("audit");
      // The last promotion: the trailing rows that share the latest row's time (one promote writes one time).
      const std::vector<int32_t> time = audit.Group("time").ReadI32("codes");
      d.audit_rows = static_cast<int64_t>(time.size());
      size_t first = time.size();
      while (first > 0 && time[first - 1] == time.back()) --first;
      const size_t count = time.size() - first;
      if (count > 0) {
        d.last_actions = CountCodes(audit, "action", first, count);
        constexpr size_t kShown = 25;
        const size_t from = time.size() - std::min(count, kShown);
        d.last_audit = ReadAuditRows(audit, from, time.size() - from);
      }
    }
  }
  return d;
}

namespace {

std::string Row(const std::string& k, const std::string& v) { return "<tr><th>" + k + "</th><td>" + v + "</td></tr>"; }

std::string CountsTable(const Counts& counts, const std::string& what) {
  std::string s = "<table class=\"data counts\"><tr><th>" + Escape(what) + "</th><th>count</th></tr>";
  for (const auto& [v, n] : counts)
    s += "<tr><td>" + (v.empty() ? std::string("<span class=\"muted\">(empty)</span>") : Escape(v)) +
         "</td><td class=\"num\">" + std::to_string(n) + "</td></tr>";
  return s + "</table>";
}

std::string ProvenanceTable(const std::vector<std::pair<std::string, std::string>>& p) {
  std::string s = "<table class=\"provenance\">";
  for (const auto& [k, v] : p) {
    const bool block = v.find('\n') != std::string::npos;
    std::string value = v;
    while (!value.empty() && value.back() == '\n') value.pop_back();
    s += "<tr data-attribute=\"" + Escape(k) + "\"><th>" + Escape(k) + "</th><td>" +
         (block ? "<pre>" + Escape(value) + "</pre>" : "<code>" + Escape(value) + "</code>") + "</td></tr>";
  }
  return s + "</table>";
}

std::string Percent(int64_t part, int64_t whole) {
  if (whole <= 0) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, " (%.1f%%)", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return buf;
}

}  // namespace

std::string RenderReport(const ReportData& d) {
  const auto& names = ReportMetricNames();
  std::string h;
  h += html::PageStart("manymodels report: run " + d.run_id);
  h += "<header><h1>manymodels report</h1><p class=\"lead\">run <code id=\"run-id\">" + Escape(d.run_id) +
       "</code> &middot; " + std::to_string(d.models) + " models &middot; registry <code>" + Escape(d.registry) +
       "</code> &middot; predictions <code>" + Escape(d.predictions) + "</code></p>\n";
  h += "<nav><a href=\"#metrics\">Metrics</a><a href=\"#models\">Models chosen</a><a href=\"#worst\">Worst "
       "series</a><a href=\"#promotion\">Last promotion</a><a href=\"#provenance\">Provenance</a></nav></header>\n";

  // Metrics.
  h += "<section id=\"metrics\"><h2>Validation metrics</h2>\n<p class=\"lead\">On the last " +
       std::to_string(d.horizon) + " periods held out; NaN (undefined: MAPE with a zero actual, MASE on a constant "
       "history, a failed fit) counted apart. Histograms stop at the 99th percentile when a long tail would hide "
       "the rest (the red bar counts what lies above).</p>\n<div class=\"grid\">\n";
  for (size_t m = 0; m < names.size(); ++m) {
    const std::vector<double> empty;
    const std::vector<double>& v = m < d.metrics.size() ? d.metrics[m] : empty;
    h += "<figure class=\"metric\" id=\"metric-" + names[m] + "\"><div><h3>" + names[m] + "</h3>" +
         report::HistogramSvg(report::MakeHistogram(v), names[m] + " histogram") + "</div><figcaption>" +
         report::MetricSummaryHtml(names[m], v) + "</figcaption></figure>\n";
  }
  h += "</div></section>\n";

  // Models chosen.
  h += "<section id=\"models\"><h2>Models chosen</h2>\n<p>" + std::to_string(d.models) +
       " models: <span id=\"failed-count\">" + std::to_string(d.failed) + "</span> failed" +
       Percent(d.failed, d.models) + ", <span id=\"note-count\">" + std::to_string(d.with_note) +
       "</span> with a note" + Percent(d.with_note, d.models) +
       " (auto's decision, a fallback, a member lost, a rescaling).</p>\n";
  Counts bars = d.families;
  if (bars.size() > 24) {
    int64_t rest = 0;
    for (size_t i = 23; i < bars.size(); ++i) rest += bars[i].second;
    bars.resize(23);
    bars.emplace_back("(" + std::to_string(d.families.size() - 23) + " others)", rest);
  }
  h += "<figure id=\"families\">" + report::BarChartSvg(bars, "models per method or ensemble family") +
       "<figcaption class=\"muted\">Per method; an ensemble by its combination and members (the median of ETS, DOTM "
       "and seasonal naive is Median(ETS+DOTM+SNaive)); failed fits apart, as in train's summary.</figcaption></figure>\n";
  h += "<div class=\"row\">" + CountsTable(d.statuses, "status") + "</div>\n</section>\n";

  // Worst series.
  h += "<section id=\"worst\"><h2>Worst " + std::to_string(d.worst.size()) + " series by MASE</h2>\n";
  h += "<p class=\"legend\"><span><i style=\"background:#333;height:2px\"></i>history</span><span><i "
       "style=\"background:#c0392b;height:3px\"></i>forecast</span><span><i style=\"background:#9dc0e6\"></i>80% "
       "interval</span><span><i style=\"background:#cfe0f3\"></i>95% interval</span><span class=\"muted\">highest "
       "MASE first, NaN last; the dashed line is the forecast origin</span></p>\n";
  if (d.worst.empty()) h += "<p class=\"muted\">No series.</p>\n";
  for (size_t k = 0; k < d.worst.size(); ++k) {
    const ReportSeries& s = d.worst[k];
    const ModelRecord& r = s.record;
    h += "<article class=\"series\" id=\"worst-" + std::to_string(k + 1) + "\"><h3>" + std::to_string(k + 1) +
         ". <span class=\"key\">" + Escape(s.key) + "</span></h3>\n<div class=\"row\">" +
         report::SeriesChartSvg(s, d.frequency, d.weekly_anchor) + "<table class=\"data facts\">";
    h += Row("model", Escape(r.model)) + Row("method", Escape(r.method)) + Row("status", Escape(r.status)) +
         Row("version", "<code>" + Escape(r.version) + "</code>");
    const double metrics[5] = {r.metrics.mae, r.metrics.rmse, r.metrics.mape, r.metrics.smape, r.metrics.mase};
    for (size_t m = 0; m < 5; ++m) h += Row(names[m], Number(metrics[m]));
    h += Row("n_obs", std::to_string(r.n_obs));
    h += Row("origin", Escape(FormatPeriod(d.frequency, s.last_period, d.weekly_anchor)));
    h += Row("note", r.note.empty() ? "<span class=\"muted\">none</span>" : "<span class=\"note\">" + Escape(r.note) + "</span>");
    h += "</table></div>";
    if (!s.history_note.empty()) h += "<p class=\"muted\">" + Escape(s.history_note) + "</p>";
    h += "</article>\n";
  }
  h += "</section>\n";

  // Promotion.
  h += "<section id=\"promotion\"><h2>Last promotion</h2>\n";
  if (!d.has_production) {
    h += "<p class=\"muted\">No production registry given (--production).</p>\n";
  } else {
    h += "<p>Production registry <code>" + Escape(d.production) + "</code>: " +
         std::to_string(CountOf(d.production_statuses, "production")) + " keys in production, " +
         std::to_string(CountOf(d.production_statuses, "archived")) + " archived versions; " +
         std::to_string(d.audit_rows) + " audit rows in all.</p>\n";
    if (d.last_audit.empty()) {
      h += "<p class=\"muted\">The audit is empty.</p>\n";
    } else {
      int64_t decisions = 0;
      for (const auto& [a, n] : d.last_actions) decisions += n;
      h += "<p>The last one, at <code>" + Escape(d.last_audit.back().time) + "</code> by <code>" +
           Escape(d.last_audit.back().user) + "</code>: " + std::to_string(decisions) + " decisions.</p>\n";
      h += "<div class=\"row\" id=\"audit-actions\">" + CountsTable(d.last_actions, "action") + "</div>\n";
      h += "<h3>Its most recent rows</h3><table class=\"data\" id=\"audit-rows\"><tr><th>key</th><th>action</th>"
           "<th>old version</th><th>new version</th><th>reason</th></tr>";
      for (auto it = d.last_audit.rbegin(); it != d.last_audit.rend(); ++it)
        h += "<tr><td>" + Escape(it->key) + "</td><td>" + Escape(it->action) + "</td><td><code>" +
             Escape(it->old_version) + "</code></td><td><code>" + Escape(it->new_version) + "</code></td><td>" +
             Escape(it->reason) + "</td></tr>";
      h += "</table>\n";
    }
  }
  h += "</section>\n";

  // Provenance.
  h += "<section id=\"provenance\"><h2>Provenance</h2>\n<h3>The run (registry <code>" + Escape(d.registry) +
       "</code>)</h3>\n" + ProvenanceTable(d.provenance) + "\n";
  h += "<h3>Predictions <code>" + Escape(d.predictions) + "</code></h3>\n" + ProvenanceTable(d.predictions_provenance) + "\n";
  if (d.has_production)
    h += "<h3>Production registry <code>" + Escape(d.production) + "</code></h3>\n" +
         ProvenanceTable(d.production_provenance) + "\n";
  if (!d.lake.empty()) h += "<p>History from the lake <code>" + Escape(d.lake) + "</code>.</p>\n";
  h += "</section>\n";
  h += html::PageEnd();
  return h;
}

}  // namespace mm

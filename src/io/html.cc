#include "manymodels/io/html.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "manymodels/version.h"

namespace mm::html {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
size_t Utf8Length(const std::string& s, size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t min = 0;
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0)
    n = 2, min = 0x80;
  else if ((b & 0xF0) == 0xE0)
    n = 3, min = 0x800;
  else if ((b & 0xF8) == 0xF0)
    n = 4, min = 0x10000;
  else
    return 0;
  if (i + n > s.size()) return 0;
  uint32_t cp = b & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

std::string Format(const char* format, double a) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, a);
  return buf;
}

constexpr const char* kStyle = R"(
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1180px;
       color: #222; background: #fff; font-size: 14px; line-height: 1.4; }
h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 19px; border-bottom: 2px solid #ddd;
     padding-bottom: 4px; margin-top: 32px; } h3 { font-size: 15px; margin: 8px 0; }
code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
pre { white-space: pre-wrap; word-break: break-all; margin: 0; }
nav a { margin-right: 14px; }
.lead { color: #555; }
.grid { display: flex; flex-wrap: wrap; gap: 18px; }
figure.metric { margin: 0; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px; display: flex; gap: 8px; }
figure.metric figcaption { min-width: 130px; }
figure.metric h3 { margin-top: 0; }
figure.chart { margin: 0; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px; }
table { border-collapse: collapse; }
table.summary th { text-align: left; font-weight: normal; color: #666; padding: 0 8px 0 0; }
table.summary td { text-align: right; font-variant-numeric: tabular-nums; }
table.summary tr.median td, table.summary tr.median th { font-weight: bold; color: #222; }
table.data th, table.data td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: left; vertical-align: top; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.data.layouts th, table.data.layouts td { white-space: nowrap; }
table.provenance th { text-align: left; vertical-align: top; padding: 3px 12px 3px 0; color: #555; white-space: nowrap; }
table.provenance td { padding: 3px 0; }
article.series { border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px 12px; margin: 12px 0; }
article.series .row { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
article.series table.facts { max-width: 400px; font-size: 13px; }
article.series table.facts td { word-break: break-word; }
.note { color: #8a4b00; }
.bad { color: #b00020; font-weight: bold; }
.muted { color: #777; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 18px; height: 10px; margin-right: 4px; vertical-align: middle; }
svg text { font-size: 11px; fill: #444; }
svg .axis { stroke: #888; stroke-width: 1; }
svg .grid { stroke: #eee; stroke-width: 1; }
svg rect.bar { fill: #4a7fb5; }
svg rect.bar.over { fill: #b55a4a; }
svg .band95 { fill: #cfe0f3; stroke: none; }
svg .band80 { fill: #9dc0e6; stroke: none; }
svg path.history { fill: none; stroke: #333; stroke-width: 1.4; }
svg circle.history { fill: #333; }
svg path.forecast { fill: none; stroke: #c0392b; stroke-width: 2; }
svg circle.forecast { fill: #c0392b; }
svg .origin { stroke: #999; stroke-dasharray: 4 3; }
svg .reference { stroke: #999; stroke-dasharray: 4 3; }
svg path.line { fill: none; stroke-width: 1.6; }
)";

// Colours of the lines of a chart, in order (then again).
const char* const kPalette[] = {"#4a7fb5", "#c0392b", "#2e8b57", "#8e44ad", "#d4880f", "#555555"};

// Up to about `count` round tick values (1, 2 or 5 times a power of ten) from 0 to at least `top`.
std::vector<double> Ticks(double top, int count) {
  if (!(top > 0) || !std::isfinite(top)) return {0, 1};
  const double raw = top / count;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * power * (1 + 1e-9)) {
      step = m * power;
      break;
    }
  std::vector<double> ticks;
  for (double v = 0; ticks.size() < 100; v += step) {
    ticks.push_back(v);
    if (v >= top * (1 - 1e-9)) break;
  }
  return ticks;
}

}  // namespace

std::string Escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    const char* entity = c == '&'    ? "&amp;"
                         : c == '<'  ? "&lt;"
                         : c == '>'  ? "&gt;"
                         : c == '"'  ? "&quot;"
                         : c == '\'' ? "&#39;"
                                     : nullptr;
    if (entity) {
      out += entity;
      ++i;
      continue;
    }
    const size_t n = Utf8Length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else if (n == 1 && static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
      out += "\xEF\xBF\xBD";  // control characters are not allowed in HTML text
      ++i;
    } else {
      out.append(text, i, n);
      i += n;
    }
  }
  return out;
}

std::string Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  const double a = std::fabs(v);
  if (a >= 1e4 && a < 1e9) return Format("%.0f", v);
  return Format("%.4g", v);
}

std::string Coord(double v) { return Format("%.1f", v); }

std::string NowUtc() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

std::string PageStart(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         Escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
}

std::string PageEnd() {
  return "<footer class=\"muted\"><p>Written by manymodels " + Escape(MANYMODELS_VERSION) + " (" +
         Escape(MANYMODELS_GIT_COMMIT) + ") at " + NowUtc() + ".</p></footer>\n</body>\n</html>\n";
}

std::string BarsSvg(const std::vector<Bar>& bars, const std::string& title, const std::string& empty_text) {
  constexpr double label_w = 230, bar_w = 380, row_h = 22, top = 6;
  const double W = label_w + bar_w + 90;
  const double H = top * 2 + row_h * static_cast<double>(std::max<size_t>(bars.size(), 1));
  std::string s = "<svg class=\"bars\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Coord(W) +
                  "\" height=\"" + Coord(H) + "\" viewBox=\"0 0 " + Coord(W) + " " + Coord(H) +
                  "\" role=\"img\"><title>" + Escape(title) + "</title>";
  if (bars.empty()) {
    s += "<text class=\"empty\" x=\"10\" y=\"20\">" + Escape(empty_text) + "</text></svg>";
    return s;
  }
  double most = 0;
  for (const Bar& b : bars)
    if (std::isfinite(b.value)) most = std::max(most, b.value);
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar& b = bars[i];
    const double y = top + row_h * static_cast<double>(i);
    const bool drawn = std::isfinite(b.value) && b.value > 0 && most > 0;
    const double w = drawn ? bar_w * b.value / most : 0;
    s += "<text x=\"" + Coord(label_w - 6) + "\" y=\"" + Coord(y + 15) + "\" text-anchor=\"end\">" +
         Escape(b.label) + "</text>";
    if (drawn)
      s += "<rect class=\"bar\" x=\"" + Coord(label_w) + "\" y=\"" + Coord(y + 3) + "\" width=\"" +
           Coord(std::max(w, 1.0)) + "\" height=\"" + Coord(row_h - 6) + "\"><title>" + Escape(b.label) +
           ": " + Escape(b.text) + "</title></rect>";
    s += "<text x=\"" + Coord(label_w + w + 5) + "\" y=\"" + Coord(y + 15) + "\">" + Escape(b.text) +
         "</text>";
  }
  s += "</svg>";
  return s;
}

std::string LineChartSvg(const std::vector<Line>& lines, const ChartAxes& axes) {
  constexpr double W = 540, left = 60, right = 16, top = 14, bottom = 44, legend_row = 16;
  std::vector<Line> kept;
  std::vector<double> xs;
  double ymax = axes.y_reference.value_or(0);
  for (const Line& line : lines) {
    Line k{line.name, {}};
    for (const Point& p : line.points)
      if (std::isfinite(p.x) && std::isfinite(p.y)) {
        k.points.push_back(p);
        xs.push_back(p.x);
        ymax = std::max(ymax, p.y);
      }
    std::stable_sort(k.points.begin(), k.points.end(),
                     [](const Point& a, const Point& b) { return a.x < b.x; });
    kept.push_back(std::move(k));
  }
  const double legend_h = lines.size() > 1 ? legend_row * static_cast<double>(lines.size()) + 6 : 0;
  const double H = 280 + legend_h, ph = 280 - top - bottom, pw = W - left - right;
  std::string s = "<svg class=\"lines\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Coord(W) +
                  "\" height=\"" + Coord(H) + "\" viewBox=\"0 0 " + Coord(W) + " " + Coord(H) +
                  "\" role=\"img\"><title>" + Escape(axes.title) + "</title>";
  if (xs.empty()) {
    s += "<text class=\"empty\" x=\"" + Coord(W / 2) +
         "\" y=\"120\" text-anchor=\"middle\">nothing to draw</text></svg>";
    return s;
  }
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  const bool log_x = xs.front() > 0 && xs.back() / xs.front() >= 8;
  auto tx = [log_x](double x) { return log_x ? std::log2(x) : x; };
  double x0 = tx(xs.front()), x1 = tx(xs.back());
  if (!log_x) x0 = std::min(x0, 0.0);
  if (x1 <= x0) x1 = x0 + 1;
  const double pad = (x1 - x0) * 0.06;
  x0 -= pad, x1 += pad;
  const std::vector<double> yticks = Ticks(ymax * 1.05, 5);
  const double y1 = yticks.back();
  auto X = [&](double x) { return left + pw * (tx(x) - x0) / (x1 - x0); };
  auto Y = [&](double y) { return top + ph * (1 - y / y1); };

  for (double v : yticks)
    s += "<line class=\"grid\" x1=\"" + Coord(left) + "\" x2=\"" + Coord(W - right) + "\" y1=\"" +
         Coord(Y(v)) + "\" y2=\"" + Coord(Y(v)) + "\"/><text x=\"" + Coord(left - 4) + "\" y=\"" +
         Coord(Y(v) + 4) + "\" text-anchor=\"end\">" + Number(v) + "</text>";
  for (double x : xs)
    s += "<text x=\"" + Coord(X(x)) + "\" y=\"" + Coord(top + ph + 15) + "\" text-anchor=\"middle\">" +
         Number(x) + "</text>";
  s += "<line class=\"axis\" x1=\"" + Coord(left) + "\" y1=\"" + Coord(top + ph) + "\" x2=\"" +
       Coord(W - right) + "\" y2=\"" + Coord(top + ph) + "\"/>";
  s += "<line class=\"axis\" x1=\"" + Coord(left) + "\" y1=\"" + Coord(top) + "\" x2=\"" + Coord(left) +
       "\" y2=\"" + Coord(top + ph) + "\"/>";
  s += "<text x=\"" + Coord(left + pw / 2) + "\" y=\"" + Coord(top + ph + 32) + "\" text-anchor=\"middle\">" +
       Escape(axes.x_label) + (log_x ? " (log scale)" : "") + "</text>";
  s += "<text transform=\"translate(14," + Coord(top + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
       Escape(axes.y_label) + "</text>";
  if (axes.y_reference)
    s += "<line class=\"reference\" x1=\"" + Coord(left) + "\" x2=\"" + Coord(W - right) + "\" y1=\"" +
         Coord(Y(*axes.y_reference)) + "\" y2=\"" + Coord(Y(*axes.y_reference)) + "\"/>";

  // A point's label goes to its right; where that would cover another label (2x1 and 1x2 are both 2 cores),
  // to its left; where both would, stacked below on the right. Returns the <text> element.
  struct Placed {
    double x, y;
    bool left;
  };
  std::vector<Placed> placed;
  auto label = [&placed](double px, double py, const std::string& text) {
    auto clear = [&placed](double x, double y, bool on_left) {
      for (const Placed& q : placed)
        if (q.left == on_left && std::fabs(q.x - x) < 30 && std::fabs(q.y - y) < 12) return false;
      return true;
    };
    Placed at{px + 6, py - 6, false};
    if (!clear(at.x, at.y, false)) {
      if (clear(px - 6, py - 6, true)) {
        at = {px - 6, py - 6, true};
      } else {
        while (!clear(at.x, at.y, false)) at.y += 13;
      }
    }
    placed.push_back(at);
    return "<text x=\"" + Coord(at.x) + "\" y=\"" + Coord(at.y) + "\"" +
           (at.left ? " text-anchor=\"end\"" : "") + ">" + Escape(text) + "</text>";
  };
  for (size_t l = 0; l < kept.size(); ++l) {
    const std::string colour = kPalette[l % (sizeof kPalette / sizeof *kPalette)];
    const Line& line = kept[l];
    if (line.points.size() > 1) {
      std::string d;
      for (const Point& p : line.points) d += (d.empty() ? "M" : " L") + Coord(X(p.x)) + "," + Coord(Y(p.y));
      s += "<path class=\"line\" stroke=\"" + colour + "\" d=\"" + d + "\"/>";
    }
    for (const Point& p : line.points) {
      const std::string tip = (line.name.empty() ? "" : line.name + ": ") + p.label + ": " + Number(p.y);
      s += "<circle class=\"point\" fill=\"" + colour + "\" cx=\"" + Coord(X(p.x)) + "\" cy=\"" +
           Coord(Y(p.y)) + "\" r=\"3.5\"><title>" + Escape(tip) + "</title></circle>";
      s += label(X(p.x), Y(p.y), p.label);
    }
    if (lines.size() > 1) {
      const double ly = 280 + legend_row * static_cast<double>(l) + 4;
      s += "<rect x=\"" + Coord(left) + "\" y=\"" + Coord(ly) + "\" width=\"18\" height=\"10\" fill=\"" +
           colour + "\"/><text x=\"" + Coord(left + 24) + "\" y=\"" + Coord(ly + 9) + "\">" +
           Escape(line.name) + "</text>";
    }
  }
  s += "</svg>";
  return s;
}

}  // namespace mm::html

// Self-contained HTML pages (inline SVG and CSS, no script, nothing from the network): the builders the
// `report` and `bench` pages share -- escaping, numbers for people, the page frame and its style, and charts.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mm::html {

// & < > " ' as entities; invalid UTF-8 bytes and control characters (but tab, CR, LF) become U+FFFD.
std::string Escape(const std::string& text);
// A number for people: %.4g (%.0f from 1e4 to 1e9), "NaN" for NaN, "inf"/"-inf".
std::string Number(double v);
// A coordinate in an SVG attribute (%.1f).
std::string Coord(double v);
// Now, as 2026-01-31T12:00:00Z.
std::string NowUtc();

// The page up to and including <body>, with the shared style sheet; `title` is escaped here.
std::string PageStart(const std::string& title);
// The footer naming the program version, commit and time, and the end of the page.
std::string PageEnd();

// <svg class="bars">: one horizontal bar per entry, its length proportional to `value` (drawn from 0; values
// that are not finite and positive get no bar), `text` written after it.
struct Bar {
  std::string label;
  double value = 0;
  std::string text;
};
std::string BarsSvg(const std::vector<Bar>& bars, const std::string& title, const std::string& empty_text);

// <svg class="lines">: y against x for one or more named lines of points, each point a <circle class="point">
// with its label written beside it and in its tooltip; the points of a line joined in order of x. The x axis
// is logarithmic (base 2) when every x is positive and they span a factor of 8 or more; its ticks are the
// points' x values. The y axis starts at 0. A legend names the lines when there are several. `y_reference`
// draws a dashed horizontal line (efficiency 1).
struct Point {
  double x = 0, y = 0;
  std::string label;
};
struct Line {
  std::string name;
  std::vector<Point> points;  // points whose x or y is not finite are left out
};
struct ChartAxes {
  std::string title, x_label, y_label;
  std::optional<double> y_reference;
};
std::string LineChartSvg(const std::vector<Line>& lines, const ChartAxes& axes);

}  // namespace mm::html

// html: the builders the report and bench pages share -- escaping, numbers, bars and line charts.
#include "manymodels/io/html.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace mm::html {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

TEST(Html, EscapesMarkupAndBadUtf8) {
  EXPECT_EQ(Escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(Escape("caf\xC3\xA9"), "caf\xC3\xA9");  // valid UTF-8 kept
  EXPECT_EQ(Escape("x\xFFy"), "x\xEF\xBF\xBDy");    // a stray byte replaced
  EXPECT_EQ(Escape("\xC3"), "\xEF\xBF\xBD");        // cut sequence
  EXPECT_EQ(Escape("a\x01"
                   "b"),
            "a\xEF\xBF\xBD"
            "b");  // control character
  EXPECT_EQ(Escape("line\nnext"), "line\nnext");
}

TEST(Html, Numbers) {
  EXPECT_EQ(Number(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(Number(INFINITY), "inf");
  EXPECT_EQ(Number(0.123456), "0.1235");
  EXPECT_EQ(Number(12345.6), "12346");
}

TEST(Html, PageIsSelfContained) {
  const std::string page = PageStart("a <title>") + PageEnd();
  EXPECT_NE(page.find("<title>a &lt;title&gt;</title>"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
  EXPECT_NE(page.find("</html>"), std::string::npos);
}

TEST(Html, Bars) {
  const std::string s =
      BarsSvg({{"a <b>", 2.0, "2.00"}, {"zero", 0.0, "0"}, {"nan", NAN, "n/a"}}, "t", "none");
  EXPECT_EQ(Count(s, "<rect class=\"bar\""), 1u);  // no bar for 0 or NaN, but their labels
  EXPECT_NE(s.find("a &lt;b&gt;"), std::string::npos);
  EXPECT_NE(s.find(">n/a<"), std::string::npos);
  EXPECT_NE(BarsSvg({}, "t", "nothing here").find("nothing here"), std::string::npos);
}

TEST(Html, LineChart) {
  Line a{"one", {{4, 10, "4x1"}, {1, 40, "1x1"}, {2, NAN, "lost"}}};
  Line b{"two", {{2, 22, "1x2"}}};
  const std::string s = LineChartSvg({a, b}, {"time", "cores", "seconds", 1.0});
  EXPECT_EQ(Count(s, "<circle class=\"point\""), 3u);  // the NaN point is left out
  EXPECT_EQ(Count(s, "<path class=\"line\""), 1u);     // a line needs two points
  EXPECT_NE(s.find("<line class=\"reference\""), std::string::npos);
  EXPECT_NE(s.find(">one</text>"), std::string::npos);  // a legend for several lines
  EXPECT_EQ(s.find("lost"), std::string::npos);
  EXPECT_EQ(s.find("log scale"), std::string::npos);
  // Cores from 1 to 64: a log scale.
  const std::string wide = LineChartSvg({{"", {{1, 5, "1x1"}, {64, 1, "32x2"}}}}, {"t", "cores", "s", {}});
  EXPECT_NE(wide.find("log scale"), std::string::npos);
  EXPECT_NE(LineChartSvg({}, {"t", "x", "y", {}}).find("nothing to draw"), std::string::npos);
  // Two points together: one label on the right, the other on the left; a third stacked below.
  const std::string together =
      LineChartSvg({{"a", {{1, 10, "2x1"}, {2, 10, "x"}}}, {"b", {{1, 10.01, "1x2"}, {1, 10.02, "4x4"}}}},
                   {"t", "x", "y", {}});
  EXPECT_EQ(Count(together, "text-anchor=\"end\">1x2<"), 1u) << together;
  EXPECT_EQ(Count(together, "\">2x1<"), 1u);
  EXPECT_EQ(Count(together, "\">4x4<"), 1u);
  EXPECT_EQ(Count(together, "text-anchor=\"end\">4x4<"), 0u);
}

}  // namespace
}  // namespace mm::html

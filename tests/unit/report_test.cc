// report: the HTML and SVG builders on tiny data (escaping, NaN, an empty registry), and GatherReport on
// hand-made registry and predictions files (the worst series, families, the one-run check).
#include "manymodels/core/ensemble.h"
#include "manymodels/io/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <regex>

#include "manymodels/io/predictions.h"
#include "manymodels/io/registry.h"

namespace mm {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

// Nothing of the page may come from elsewhere, and no script runs.
void ExpectSelfContained(const std::string& html) {
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST(ReportBuilders, Quantiles) {
  EXPECT_TRUE(std::isnan(report::Quantile({}, 0.5)));
  EXPECT_DOUBLE_EQ(report::Quantile({1, 2, 3, 4}, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(report::Quantile({1, 2, 3, 4}, 0), 1);
  EXPECT_DOUBLE_EQ(report::Quantile({1, 2, 3, 4}, 1), 4);
  EXPECT_DOUBLE_EQ(report::Quantile({7}, 0.25), 7);
}

TEST(ReportBuilders, ModelFamily) {
  EXPECT_EQ(ModelFamily("ensemble", "Median(ETS(A,N,A)+Fourier(7:3;x2;log)+SNaive(7))", false), "Median(ETS+Fourier+SNaive)");
  EXPECT_EQ(ModelFamily("ensemble", "Mean(Theta+DOTM)", false), "Mean(Theta+DOTM)");
  EXPECT_EQ(ModelFamily("ensemble", "Median(", false), "Median()");
  EXPECT_EQ(ModelFamily("ets", "ETS(A,N,N)", false), "ets");
  EXPECT_EQ(ModelFamily("ets", "", true), "failed");
  EXPECT_EQ(ModelFamily("ensemble", "", false), "");
}

TEST(ReportBuilders, HistogramCountsNaNApartAndCutsLongTails) {
  std::vector<double> v = {kNaN, 1, 2, 2, 3, kNaN, INFINITY};
  report::Histogram h = report::MakeHistogram(v, 4);
  EXPECT_EQ(h.nan, 2);
  EXPECT_EQ(h.infinite, 1);
  EXPECT_EQ(h.finite, 4);
  EXPECT_EQ(h.above, 0);
  int64_t total = 0;
  for (auto b : h.bins) total += b;
  EXPECT_EQ(total, 4);
  const std::string svg = report::HistogramSvg(h, "mae <histogram>");
  EXPECT_EQ(Count(svg, "<rect class=\"bar\""), 3u);  // bins 1, 2 and 3 non-empty of 4
  EXPECT_NE(svg.find("mae &lt;histogram&gt;"), std::string::npos);

  std::vector<double> tail(1000, 1.0);
  for (size_t i = 0; i < tail.size(); ++i) tail[i] = static_cast<double>(i % 10);
  tail.push_back(1e9);  // one huge MAPE
  h = report::MakeHistogram(tail, 10);
  EXPECT_EQ(h.above, 1);
  EXPECT_LT(h.hi, 100);
  EXPECT_NE(report::HistogramSvg(h, "t").find("class=\"bar over\""), std::string::npos);

  h = report::MakeHistogram({5, 5, 5}, 3);  // a single value: one bar, a range around it
  EXPECT_GT(h.hi, h.lo);
  EXPECT_EQ(h.bins[0], 3);

  h = report::MakeHistogram({kNaN, kNaN}, 5);
  EXPECT_TRUE(h.bins.empty());
  EXPECT_EQ(h.nan, 2);
  const std::string empty = report::HistogramSvg(h, "x");
  EXPECT_NE(empty.find("no finite values"), std::string::npos);
  EXPECT_EQ(empty.find("<rect"), std::string::npos);
}

TEST(ReportBuilders, MetricSummary) {
  const std::string s = report::MetricSummaryHtml("mase", {1, 2, 3, kNaN, 5});
  EXPECT_NE(s.find("<th>count</th><td>4</td>"), std::string::npos) << s;
  EXPECT_NE(s.find("<th>NaN</th><td>1</td>"), std::string::npos) << s;
  EXPECT_NE(s.find("<th>median</th><td>2.5</td>"), std::string::npos) << s;
  EXPECT_NE(s.find("<th>max</th><td>5</td>"), std::string::npos) << s;
  const std::string e = report::MetricSummaryHtml("mase", {});
  EXPECT_NE(e.find("<th>count</th><td>0</td>"), std::string::npos);
  EXPECT_EQ(e.find("median"), std::string::npos);
}

TEST(ReportBuilders, BarChart) {
  const std::string s = report::BarChartSvg({{"ets", 10}, {"Median(ETS, <x>)", 5}}, "families");
  EXPECT_EQ(Count(s, "<rect class=\"bar\""), 2u);
  EXPECT_NE(s.find("Median(ETS, &lt;x&gt;)"), std::string::npos);
  EXPECT_EQ(s.find("<x>"), std::string::npos);
  EXPECT_NE(report::BarChartSvg({}, "none").find("no models"), std::string::npos);
}

TEST(ReportBuilders, SeriesChartBreaksLinesAtNaN) {
  ReportSeries s;
  s.key = "store=\"1\", item=<5>";
  s.last_period = 100;
  s.history_start = 95;
  s.history = {1, 2, kNaN, 4, 5, 6};  // periods 95..100: a gap at 97
  s.forecast = {6, 7, kNaN, 8};
  s.lo80 = {5, 6, kNaN, 7};
  s.hi80 = {7, 8, kNaN, 9};
  s.lo95 = {4, 5, 5, 6};
  s.hi95 = {8, 9, 9, 10};
  const std::string svg = report::SeriesChartSvg(s, Frequency::kInteger, 0);
  EXPECT_NE(svg.find("store=&quot;1&quot;, item=&lt;5&gt;"), std::string::npos);
  EXPECT_EQ(svg.find("NaN"), std::string::npos) << "no NaN coordinate";
  EXPECT_EQ(svg.find("nan"), std::string::npos) << "no NaN coordinate";
  // History: two runs (95-96, 98-100); forecast: from the last observation through steps 1-2, then step 4 alone.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("class=\"history\" d=\"([^\"]*)\"")));
  EXPECT_EQ(Count(m[1].str(), "M"), 2u);
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("class=\"forecast\" d=\"([^\"]*)\"")));
  EXPECT_EQ(Count(m[1].str(), "M"), 1u);
  EXPECT_EQ(Count(m[1].str(), "L"), 2u);
  EXPECT_EQ(Count(svg, "<circle class=\"forecast\""), 1u);
  // 95%: one band over all four steps; 80%: two pieces around the NaN step.
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("class=\"band95\" d=\"([^\"]*)\"")));
  EXPECT_EQ(Count(m[1].str(), "Z"), 1u);
  ASSERT_TRUE(std::regex_search(svg, m, std::regex("class=\"band80\" d=\"([^\"]*)\"")));
  EXPECT_EQ(Count(m[1].str(), "Z"), 2u);

  ReportSeries blank;
  blank.forecast = blank.lo80 = blank.hi80 = blank.lo95 = blank.hi95 = {kNaN, kNaN};
  const std::string none = report::SeriesChartSvg(blank, Frequency::kDaily, 0);
  EXPECT_NE(none.find("no finite values"), std::string::npos);
  EXPECT_EQ(none.find("<path"), std::string::npos);
}

TEST(ReportRender, EmptyRegistry) {
  ReportData d;
  d.registry = "reg.h5";
  d.predictions = "pred.h5";
  d.run_id = "20260101T000000Z-abcd";
  d.metrics.assign(5, {});
  const std::string html = RenderReport(d);
  ExpectSelfContained(html);
  for (const char* id : {"metrics", "models", "worst", "promotion", "provenance"})
    EXPECT_NE(html.find(std::string("<section id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_EQ(Count(html, "no finite values"), 5u);
  EXPECT_NE(html.find("No series."), std::string::npos);
  EXPECT_NE(html.find("no models"), std::string::npos);
  EXPECT_NE(html.find("No production registry given"), std::string::npos);
  EXPECT_EQ(html.find("<rect"), std::string::npos);
}

TEST(ReportRender, EscapesEveryText) {
  ReportData d;
  d.registry = "<reg>.h5";
  d.predictions = "p&p.h5";
  d.run_id = "<run>";
  d.models = 1;
  d.metrics = {{1}, {1}, {kNaN}, {1}, {kNaN}};
  d.families = {{"<fam>", 1}};
  d.statuses = {{"staged", 1}};
  ReportSeries s;
  s.key = "store=<b>&amp;</b>, item='x\"";
  s.record.model = "<model>";
  s.record.note = "<note & more>";
  s.record.metrics = Metrics::Undefined();
  s.forecast = s.lo80 = s.hi80 = s.lo95 = s.hi95 = {1, 2};
  s.history_note = "<why>";
  d.worst.push_back(s);
  d.provenance = {{"command_line", "manymodels train --x '<y>'"}, {"options", "a=<1>\nb=2\n"}};
  d.has_production = true;
  d.production = "prod&.h5";
  d.last_audit = {AuditRow{"store=<1>", "", "v<2>", "promote", "smape<20 & more", "T", "<user>"}};
  d.last_actions = {{"promote", 1}};
  const std::string html = RenderReport(d);
  ExpectSelfContained(html);
  for (const char* raw : {"<b>", "<reg>", "<run>", "<fam>", "<model>", "<note", "<why>", "<y>", "<1>", "<user>",
                          "<2>", "p&p", "prod&.", "&amp;</b>", "< 20"})
    EXPECT_EQ(html.find(raw), std::string::npos) << raw;
  EXPECT_NE(html.find("store=&lt;b&gt;&amp;amp;&lt;/b&gt;, item=&#39;x&quot;"), std::string::npos);
  EXPECT_NE(html.find("smape&lt;20 &amp; more"), std::string::npos);
  EXPECT_NE(html.find("<pre>a=&lt;1&gt;\nb=2</pre>"), std::string::npos);
  EXPECT_EQ(Count(html, "<svg class=\"series-chart\""), 1u);
}

// Hand-made outputs of "train": text keys with markup, one NaN MASE, an ensemble.
class ReportFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mm_report_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  void Write(const std::string& reg, const std::string& pred, const std::string& reg_run, const std::string& pred_run,
             const std::vector<double>& mase) {
    KeyTable keys;
    keys.columns = {KeyColumn{"store", true, {}, {}}};
    std::vector<ModelRecord> rows;
    std::vector<SeriesForecast> forecasts;
    for (size_t i = 0; i < mase.size(); ++i) {
      keys.columns[0].texts.push_back("s<" + std::to_string(i) + ">&");
      ModelRecord r;
      r.model = i % 2 ? "Median(ETS(A,N,N)+SNaive(7)+DOTM)" : "Naive";
      r.method = i % 2 ? "ensemble" : "naive";
      r.version = reg_run;
      r.status = i == 0 ? "failed" : "staged";
      r.note = i == 0 ? "too short" : "";
      r.metrics.mae = r.metrics.rmse = r.metrics.smape = 1;
      r.metrics.mape = kNaN;
      r.metrics.mase = mase[i];
      r.n_obs = 30;
      r.last_period = 100 + static_cast<int64_t>(i);
      rows.push_back(r);
      SeriesForecast f;
      f.model = r.model;
      f.last_period = r.last_period;
      f.forecast.mean = {static_cast<double>(i), 1, 2};
      f.forecast.lo80 = f.forecast.lo95 = {0, 0, 0};
      f.forecast.hi80 = f.forecast.hi95 = {5, 5, 5};
      forecasts.push_back(f);
    }
    TableMeta meta;
    meta.frequency = Frequency::kInteger;
    meta.season_lengths = {1};
    meta.horizon = 3;
    meta.lake = "lake.h5";
    RegistryWriter rw(Path(reg), keys, meta, Provenance{"train", "horizon=3\n", reg_run, "manymodels train", {}});
    rw.Write(0, rows);
    rw.root().SetAttr("predictions", Path(pred));
    PredictionsWriter pw(Path(pred), keys, meta, Provenance{"train", "horizon=3\n", pred_run, "manymodels train", {}});
    pw.Write(0, forecasts);
    rw.Commit();
    pw.Commit();
  }
  fs::path dir_;
};

TEST_F(ReportFilesTest, GathersTheWorstSeriesAndFamilies) {
  Write("reg.h5", "pred.h5", "RUN1", "RUN1", {0.5, kNaN, 3, 2, 9});
  ReportOptions o;
  o.registry = Path("reg.h5");
  o.predictions = Path("pred.h5");
  o.worst = 4;
  const ReportData d = GatherReport(o);
  EXPECT_EQ(d.run_id, "RUN1");
  EXPECT_EQ(d.models, 5);
  EXPECT_EQ(d.failed, 1);
  EXPECT_EQ(d.with_note, 1);
  ASSERT_EQ(d.worst.size(), 4u);
  // MASE 9, 3, 2, then 0.5; the NaN one is last and not among the four.
  EXPECT_EQ(d.worst[0].key, "store=s<4>&");
  EXPECT_EQ(d.worst[1].key, "store=s<2>&");
  EXPECT_EQ(d.worst[2].key, "store=s<3>&");
  EXPECT_EQ(d.worst[3].key, "store=s<0>&");
  EXPECT_EQ(d.worst[0].last_period, 104);
  EXPECT_EQ(d.worst[0].forecast, (std::vector<double>{4, 1, 2}));
  EXPECT_EQ(d.worst[0].history_note, "no --lake given: forecast only");
  ASSERT_EQ(d.families.size(), 3u);  // as train's summary: failed rows apart
  EXPECT_EQ(d.families[0], (std::pair<std::string, int64_t>{"Median(ETS+SNaive+DOTM)", 2}));
  EXPECT_EQ(d.families[1], (std::pair<std::string, int64_t>{"naive", 2}));
  EXPECT_EQ(d.families[2], (std::pair<std::string, int64_t>{"failed", 1}));
  ASSERT_EQ(d.metrics.size(), 5u);
  EXPECT_TRUE(std::isnan(d.metrics[4][1]));

  o.worst = 10;  // more than there are: all, NaN last
  const ReportData all = GatherReport(o);
  ASSERT_EQ(all.worst.size(), 5u);
  EXPECT_EQ(all.worst[4].key, "store=s<1>&");
  const std::string html = RenderReport(all);
  ExpectSelfContained(html);
  EXPECT_EQ(Count(html, "<svg class=\"series-chart\""), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(html.find("s<" + std::to_string(i) + ">"), std::string::npos) << i;
  EXPECT_NE(html.find("s&lt;4&gt;&amp;"), std::string::npos);
  EXPECT_NE(html.find("<code id=\"run-id\">RUN1</code>"), std::string::npos);
}

TEST_F(ReportFilesTest, RefusesOutputsOfTwoRuns) {
  Write("reg.h5", "pred.h5", "RUN1", "RUN2", {1, 2});
  ReportOptions o;
  o.registry = Path("reg.h5");
  o.predictions = Path("pred.h5");
  try {
    GatherReport(o);
    FAIL() << "a mix of two runs was read";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(o.registry), std::string::npos) << msg;
    EXPECT_NE(msg.find(o.predictions), std::string::npos) << msg;
    EXPECT_NE(msg.find("RUN1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("RUN2"), std::string::npos) << msg;
  }
}

TEST_F(ReportFilesTest, EmptyRegistry) {
  Write("reg.h5", "pred.h5", "RUN1", "RUN1", {});
  ReportOptions o;
  o.registry = Path("reg.h5");
  o.predictions = Path("pred.h5");
  const ReportData d = GatherReport(o);
  EXPECT_EQ(d.models, 0);
  EXPECT_TRUE(d.worst.empty());
  EXPECT_TRUE(d.families.empty());
  const std::string html = RenderReport(d);
  EXPECT_NE(html.find("No series."), std::string::npos);
}

}  // namespace
}  // namespace mm

// bench: layouts and price lists parsed (and refused), the figures of bench.csv computed from hand-made runs
// as io/bench.h documents them, bench.csv read back as written, and the pages' charts.
#include "manymodels/io/bench.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "manymodels/io/files.h"

namespace mm {
namespace {

namespace fs = std::filesystem;

fs::path TempFolder() { return fs::temp_directory_path() / ("mm_bench_test_" + std::to_string(::getpid())); }

// The files WriteTemp made go when the tests end.
class RemoveTempFolder : public ::testing::Environment {
 public:
  void TearDown() override { fs::remove_all(TempFolder()); }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new RemoveTempFolder);

std::string WriteTemp(const std::string& name, const std::string& text) {
  fs::create_directories(TempFolder());
  const std::string path = (TempFolder() / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(BenchLayouts, ParsesAndRefuses) {
  const auto l = ParseLayouts("1x1, 2x1,1x2,16x4");
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[1].ranks, 2);
  EXPECT_EQ(l[1].threads, 1);
  EXPECT_EQ(l[3].cores(), 64);
  EXPECT_EQ(l[3].Name(), "16x4");
  for (const char* bad :
       {"2y1", "", "1x1,", "0x1", "1x0", "x1", "1x", "-1x2", "1x1x1", "4097x1", "2X1", "1.5x1"})
    EXPECT_THROW(ParseLayouts(bad), std::invalid_argument) << bad;
  EXPECT_NE(ErrorOf([] { ParseLayouts("1x1,2y1"); }).find("'2y1'"), std::string::npos);
  EXPECT_NE(ErrorOf([] { ParseLayouts("1x1,1x1"); }).find("twice"), std::string::npos);
}

TEST(BenchPrices, ReadsAndNamesBadCells) {
  const auto p =
      ReadPrices(WriteTemp("p.csv", "region,sku,price_per_node_hour\nwest,A_1,1.5\neast,B-2.x,3\n"));
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].sku, "B-2.x");
  EXPECT_DOUBLE_EQ(p[0].price_per_node_hour, 1.5);
  const std::string neg = WriteTemp("neg.csv", "sku,price_per_node_hour\nA,1\nB,-2\n");
  EXPECT_NE(ErrorOf([&] { ReadPrices(neg); }).find(neg + ":3:2: price_per_node_hour of B"),
            std::string::npos);
  const std::string text = WriteTemp("text.csv", "sku,price_per_node_hour\nA,cheap\n");
  EXPECT_NE(ErrorOf([&] { ReadPrices(text); }).find(text + ":2:2:"), std::string::npos);
  const std::string twice = WriteTemp("twice.csv", "sku,price_per_node_hour\nA,1\nA,2\n");
  EXPECT_NE(ErrorOf([&] { ReadPrices(twice); }).find(twice + ":3:1: SKU 'A' is listed twice"),
            std::string::npos);
  const std::string name = WriteTemp("name.csv", "sku,price_per_node_hour\na b,1\n");
  EXPECT_NE(ErrorOf([&] { ReadPrices(name); }).find(name + ":2:1:"), std::string::npos);
  const std::string col = WriteTemp("col.csv", "sku,price\nA,1\n");
  EXPECT_NE(ErrorOf([&] { ReadPrices(col); }).find("no column 'price_per_node_hour'"), std::string::npos);
  EXPECT_THROW(ReadPrices(WriteTemp("empty.csv", "sku,price_per_node_hour\n")), InputError);
}

BenchRun MakeRun(int ranks, int threads, double wall, std::vector<BenchRank> per_rank) {
  BenchRun r;
  r.layout = {ranks, threads};
  r.wall_s = wall;
  r.run_s = wall - 1;
  r.series = 500;
  r.rows = 50000;
  r.ranks = std::move(per_rank);
  r.launch = "mpirun -n " + std::to_string(ranks);
  return r;
}

TEST(BenchRows, FiguresAsDocumented) {
  // 1x1 in 40 s; 2x1 in 25 s on two hosts, rank 1 busier; 2x2 in 12 s.
  BenchRank solo{"a", 38, 2, 1.5, 0.2, 0, 100};
  BenchRank r0{"a", 18, 1, 1.2, 0.1, 3, 120}, r1{"b", 22, 1.5, 0, 0, 0, 90};
  BenchRank q0{"a", 9, 0.5, 1, 0.1, 1, 150}, q1{"a", 11, 0.7, 0, 0, 0, 80};
  const std::vector<BenchRun> runs = {MakeRun(2, 1, 25, {r0, r1}), MakeRun(1, 1, 40, {solo}),
                                      MakeRun(2, 2, 12, {q0, q1})};
  BenchMachine m{"vm", "AMD EPYC", "manymodels test", 2};
  const auto rows = MakeBenchRows(runs, m, 2.0, {{"S1", 1.0}, {"S2", 4.0}});
  ASSERT_EQ(rows.size(), 3u);
  const BenchRow& a = rows[0];        // 2x1
  EXPECT_EQ(a.efficiency_vs, "1x1");  // 1x1 is the reference even when not first
  EXPECT_DOUBLE_EQ(a.efficiency, 40.0 / (25.0 * 2));
  EXPECT_DOUBLE_EQ(rows[1].efficiency, 1.0);
  EXPECT_DOUBLE_EQ(rows[2].efficiency, 40.0 / (12.0 * 4));
  EXPECT_DOUBLE_EQ(a.imbalance, 22.0 / 20.0);
  EXPECT_DOUBLE_EQ(rows[1].imbalance, 1.0);
  EXPECT_DOUBLE_EQ(a.read_s, 1.5);
  EXPECT_DOUBLE_EQ(a.fit_s, 20.5);  // rank 1: 22 busy - 1.5 reading
  EXPECT_DOUBLE_EQ(a.gather_s, 3);
  EXPECT_DOUBLE_EQ(a.write_s, 1.2);
  EXPECT_DOUBLE_EQ(a.write_wait_s, 0.1);
  EXPECT_DOUBLE_EQ(a.peak_mib_max, 120);
  EXPECT_EQ(a.nodes, 2);
  EXPECT_EQ(rows[2].nodes, 1);
  EXPECT_DOUBLE_EQ(a.series_per_s, 20);
  EXPECT_DOUBLE_EQ(a.rows_per_s, 2000);
  ASSERT_TRUE(a.cost_per_1000.has_value());
  EXPECT_DOUBLE_EQ(*a.cost_per_1000, 2.0 * 2 * (25.0 / 3600) / 500 * 1000);
  ASSERT_EQ(a.sku_costs.size(), 2u);
  EXPECT_EQ(a.sku_costs[1].first, "S2");
  EXPECT_DOUBLE_EQ(a.sku_costs[1].second, 4.0 * 2 * (25.0 / 3600) / 500 * 1000);
  // Without 1x1, the fewest cores is the reference.
  const auto no_solo = MakeBenchRows({runs[2], runs[0]}, m, std::nullopt, {});
  EXPECT_EQ(no_solo[0].efficiency_vs, "2x1");
  EXPECT_DOUBLE_EQ(no_solo[0].efficiency, 25.0 * 2 / (12.0 * 4));
  EXPECT_FALSE(no_solo[0].cost_per_1000.has_value());
}

TEST(BenchCsv, ReadsBackWhatItWrites) {
  BenchRank solo{"a", 38, 2, 1.5, 0.2, 0, 100};
  BenchRank r0{"a", 18, 1, 1.2, 0.1, 3, 120}, r1{"b", 22, 1.5, 0, 0, 0, 90};
  BenchRun two = MakeRun(2, 1, 25, {r0, r1});
  two.identical = false;
  const auto rows = MakeBenchRows({MakeRun(1, 1, 40, {solo}), two}, {"vm, \"x\"", "CPU, model", "p", 2}, 0.5,
                                  {{"S1", 1.0}});
  const std::string text = BenchCsv(rows);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "ranks,threads,series,seconds,read_s,fit_s,gather_s,write_s,series_per_s,peak_mib_max,efficiency,"
            "imbalance,cost_per_1000,cores,nodes,rows,rows_per_s,run_s,write_wait_s,efficiency_vs,identical,"
            "repeats,"
            "run,launch,host,cpu_model,cpus,program,cost_per_1000_S1");
  const auto back = ReadBenchCsv(WriteTemp("bench.csv", text));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].Layout(), "2x1");
  EXPECT_FALSE(back[1].identical);
  EXPECT_TRUE(back[0].identical);
  EXPECT_EQ(back[1].machine.host, "vm, \"x\"");
  EXPECT_EQ(back[1].machine.cpu_model, "CPU, model");
  EXPECT_NEAR(back[1].efficiency, 0.8, 1e-4);
  EXPECT_NEAR(*back[1].cost_per_1000, *rows[1].cost_per_1000, 1e-6);
  ASSERT_EQ(back[1].sku_costs.size(), 1u);
  EXPECT_EQ(back[1].sku_costs[0].first, "S1");
  EXPECT_EQ(back[1].nodes, 2);
  const std::string broken = WriteTemp("broken.csv", "ranks,threads\n1,1\n");
  EXPECT_NE(ErrorOf([&] { ReadBenchCsv(broken); }).find(broken + ":1:1: no column 'series'"),
            std::string::npos);
  std::string bad = text;
  bad.replace(bad.find("\n1,1,500,") + 1, 8, "1,1,lots,");
  const std::string badf = WriteTemp("bad.csv", bad);
  EXPECT_NE(ErrorOf([&] { ReadBenchCsv(badf); }).find(badf + ":2:3: series 'lots'"), std::string::npos);
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

TEST(BenchPages, ChartsTablesAndWarnings) {
  BenchRank solo{"a", 38, 2, 1.5, 0.2, 0, 100};
  BenchRank r0{"a", 18, 1, 1.2, 0.1, 3, 120}, r1{"a", 22, 1.5, 0, 0, 0, 90};
  BenchRun two = MakeRun(2, 1, 25, {r0, r1});
  const auto rows = MakeBenchRows({MakeRun(1, 1, 40, {solo}), two, MakeRun(1, 2, 22, {solo})},
                                  {"vm", "cpu <x>", "p", 2}, 1.0, {});
  const std::string page = RenderBench(rows, "manymodels bench --out <d>");
  for (const char* id :
       {"id=\"time-chart\"", "id=\"efficiency-chart\"", "id=\"cost-chart\"", "id=\"layouts\""})
    EXPECT_NE(page.find(id), std::string::npos) << id;
  EXPECT_EQ(Count(page, "<svg"), 3u);
  EXPECT_EQ(Count(page, "<circle class=\"point\""), 6u);  // three layouts on two charts
  EXPECT_EQ(Count(page, "<rect class=\"bar\""), 3u);
  EXPECT_NE(page.find("cpu &lt;x&gt;"), std::string::npos);
  EXPECT_NE(page.find("--out &lt;d&gt;"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("class=\"bad\""), std::string::npos);
  two.identical = false;
  const auto differ =
      MakeBenchRows({MakeRun(1, 1, 40, {solo}), two}, {"vm", "cpu", "p", 2}, std::nullopt, {});
  const std::string warned = RenderBench(differ, "bench");
  EXPECT_NE(warned.find("<p id=\"identical\" class=\"bad\">"), std::string::npos);
  EXPECT_NE(warned.find("No --price or --prices given"), std::string::npos);
  const std::string cmp = RenderBenchCompare({{"a/bench.csv", rows}, {"b/bench.csv", differ}});
  EXPECT_EQ(Count(cmp, "<svg"), 3u);
  EXPECT_NE(cmp.find("a/bench.csv"), std::string::npos);
  EXPECT_NE(cmp.find("b/bench.csv"), std::string::npos);
  EXPECT_EQ(Count(cmp, "<path class=\"line\""), 4u);  // one line per file on each of two charts
}

}  // namespace
}  // namespace mm

#include "manymodels/io/lake.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "manymodels/io/files.h"
#include "manymodels/io/ingest.h"
#include "manymodels/io/predictions.h"
#include "manymodels/io/registry.h"

namespace mm {
namespace {

namespace fs = std::filesystem;

class LakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mm_lake_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(LakeTest, IngestSortsKeysFillsGapsAndRoundTrips) {
  // Out of order, a text key, a gap (2020-01-03 missing for b) and an empty target (future covariate).
  std::ofstream(Path("in.csv")) << "day,shop,sales,price\n"
                                   "2020-01-02,b,5,1.5\n"
                                   "2020-01-01,a,1,1\n"
                                   "2020-01-04,b,7,1.5\n"
                                   "2020-01-02,a,2,1\n"
                                   "2020-01-01,b,4,1.5\n"
                                   "2020-01-03,a,,2\n";
  IngestOptions o;
  o.input = Path("in.csv");
  o.keys = {"shop"};
  o.time = "day";
  o.target = "sales";
  o.covariates = {"price"};
  o.out = Path("lake.h5");
  const IngestSummary s = Ingest(o, Provenance{"test", "", "", "", {}});
  EXPECT_EQ(s.rows, 6);
  EXPECT_EQ(s.series, 2);
  EXPECT_EQ(s.frequency, Frequency::kDaily);

  LakeReader lake(o.out);
  const LakeIndex& ix = lake.index();
  ASSERT_EQ(ix.num_series(), 2u);
  EXPECT_TRUE(ix.keys.columns[0].is_text);
  EXPECT_EQ(ix.keys.columns[0].texts, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ix.offsets, (std::vector<int64_t>{0, 3, 7}));
  EXPECT_EQ(ix.start[0], DaysFromCivil(2020, 1, 1));
  const auto b = lake.ReadTarget(1, 2);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0], 4);
  EXPECT_EQ(b[1], 5);
  EXPECT_TRUE(std::isnan(b[2]));
  EXPECT_EQ(b[3], 7);
  const auto a = lake.ReadTarget(0, 1);
  EXPECT_TRUE(std::isnan(a[2]));
  EXPECT_EQ(lake.ReadCovariate(0, 0, 1)[2], 2);
  EXPECT_EQ(ix.season_lengths, (std::vector<double>{7, 365.25}));
}

TEST_F(LakeTest, EncodedChunksReadBackThroughHdf5sOwnFilters) {
  // Chunks of 1,000 values (the last one short), deflated here and written without HDF5's filter pipeline,
  // then read through it (Transfer) and through this program's decoder (ReadRanges), in any order written.
  constexpr size_t kRows = 1000, kTotal = 2500;
  std::vector<double> v(kTotal);
  for (size_t i = 0; i < kTotal; ++i)
    v[i] = i % 7 == 0 ? std::nan("") : std::sin(0.01 * static_cast<double>(i)) * 1e3 + static_cast<double>(i);
  {
    h5::Location file = h5::Location::CreateFile(Path("chunks.h5"));
    h5::Dataset d = file.CreateF64("x", kTotal, kRows);
    h5::ChunkEncoder encoder(kRows);
    for (const size_t first : {2000u, 0u, 1000u})
      d.WriteChunk(first, encoder.Encode(&v[first], std::min(kRows, kTotal - first)));
    d.Close();
    file.Close();
  }
  h5::Location file = h5::Location::OpenFile(Path("chunks.h5"));
  const h5::Dataset d = file.OpenColumn("x");
  std::vector<double> hdf5(kTotal), ours(kTotal);
  d.Transfer(H5T_NATIVE_DOUBLE, 0, kTotal, hdf5.data(), false);
  d.ReadRanges(H5T_NATIVE_DOUBLE, {{0, 1500}, {1500, 1000}}, ours.data());
  for (size_t i = 0; i < kTotal; ++i) {
    if (std::isnan(v[i])) {
      EXPECT_TRUE(std::isnan(hdf5[i]) && std::isnan(ours[i])) << i;
    } else {
      EXPECT_EQ(hdf5[i], v[i]) << i;
      EXPECT_EQ(ours[i], v[i]) << i;
    }
  }
  h5::ChunkEncoder encoder(kRows);
  EXPECT_THROW(encoder.Encode(v.data(), kRows + 1), std::logic_error);
}

TEST_F(LakeTest, RegistryRowsWrittenOutOfOrderReadBackInPlace) {
  KeyTable keys;
  keys.columns.push_back({"store", false, {1, 2, 3}, {}});
  TableMeta meta{Frequency::kDaily, 0, {7}, 2, "lake.h5"};
  {
    RegistryWriter w(Path("reg.h5"), keys, meta, Provenance{"test", "", "run1", "", {}});
    ModelRecord r;
    r.model = "Naive";
    r.method = "naive";
    r.version = "run1";
    r.status = "staged";
    r.params = {1, 2, 3};
    r.n_obs = 30;
    w.Write(2, {r});
    r.model = "Mean";
    r.params = {};
    w.Write(0, {r, r});
    EXPECT_FALSE(fs::exists(Path("reg.h5")));  // only the temporary exists before Commit
    w.Commit();
  }
  const RegistryTable t = ReadRegistry(Path("reg.h5"));
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].model, "Mean");
  EXPECT_EQ(t.rows[2].model, "Naive");
  EXPECT_EQ(t.rows[2].params, (std::vector<uint8_t>{1, 2, 3}));
  EXPECT_TRUE(std::isnan(t.rows[1].metrics.mase));
  EXPECT_EQ(t.meta.horizon, 2);
  EXPECT_EQ(t.run_id, "run1");
}

TEST_F(LakeTest, UncommittedOutputLeavesNoFile) {
  KeyTable keys;
  keys.columns.push_back({"k", false, {1}, {}});
  {
    PredictionsWriter w(Path("pred.h5"), keys, TableMeta{Frequency::kDaily, 0, {1}, 3, ""}, Provenance{});
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(LakeTest, EveryChunkOnceOrNoCommit) {
  // One series of 3 slots: one chunk a column. Written twice is refused; never written, Commit refuses.
  LakeIndex ix;
  ix.keys.columns.push_back({"k", false, {1}, {}});
  ix.offsets = {0, 3};
  ix.start = {0};
  h5::ChunkEncoder encoder(3);
  const double v[3] = {1, 2, 3};
  {
    LakeWriter w(Path("twice.h5"), ix, Provenance{});
    ASSERT_EQ(w.chunk_rows(), 3u);
    w.WriteChunk(0, 0, encoder.Encode(v, 3));
    EXPECT_THROW(w.WriteChunk(0, 0, encoder.Encode(v, 3)), std::logic_error);
  }
  {
    LakeWriter w(Path("never.h5"), ix, Provenance{});
    EXPECT_THROW(w.Commit(), std::logic_error);
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(LakeTest, NotALakeIsAClearError) {
  std::ofstream(Path("x.h5")) << "not hdf5";
  try {
    LakeReader r(Path("x.h5"));
    FAIL();
  } catch (const h5::Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.h5"), std::string::npos);
  }
}

}  // namespace
}  // namespace mm

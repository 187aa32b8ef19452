// Outputs land whole or not at all, never replace an input, and leave no temporaries behind.
#include "manymodels/io/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace mm {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mm_files_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  static void Put(const std::string& path, const std::string& text) { std::ofstream(path) << text; }
  static std::string Get(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  size_t Entries() const { return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), {})); }
  fs::path dir_;
};

TEST_F(FilesTest, UncommittedOutputLeavesNothingAndCommittedReplacesWhole) {
  Put(Path("out.txt"), "old");
  {
    AtomicOutput out(Path("out.txt"));
    Put(out.temp_path(), "new");
    EXPECT_EQ(Get(Path("out.txt")), "old");  // not visible before Commit
  }
  EXPECT_EQ(Get(Path("out.txt")), "old");
  EXPECT_EQ(Entries(), 1u);
  AtomicOutput out(Path("out.txt"));
  Put(out.temp_path(), "new");
  out.Commit();
  EXPECT_EQ(Get(Path("out.txt")), "new");
  EXPECT_EQ(Entries(), 1u);
}

TEST_F(FilesTest, OutputsCommittedTogetherAreRestoredWhenOneRenameFails) {
  Put(Path("reg.h5"), "old registry");
  Put(Path("pred.h5"), "old predictions");
  {
    AtomicOutput reg(Path("reg.h5")), pred(Path("pred.h5"));
    Put(reg.temp_path(), "new registry");
    Put(pred.temp_path(), "new predictions");
    // Something takes the predictions' name before the renames (a folder there cannot be replaced by a file).
    fs::remove(Path("pred.h5"));
    fs::create_directory(Path("pred.h5"));
    Put(Path("pred.h5/x"), "x");
    EXPECT_THROW(CommitTogether({&reg, &pred}), std::runtime_error);
  }
  EXPECT_EQ(Get(Path("reg.h5")), "old registry");  // the registry went back to its old self
  EXPECT_EQ(Entries(), 2u) << "no temporaries or backups left";
}

TEST_F(FilesTest, OutputsCommittedTogetherBothLand) {
  Put(Path("reg.h5"), "old registry");
  AtomicOutput reg(Path("reg.h5")), pred(Path("pred.h5"));
  Put(reg.temp_path(), "new registry");
  Put(pred.temp_path(), "new predictions");
  CommitTogether({&reg, &pred});
  EXPECT_EQ(Get(Path("reg.h5")), "new registry");
  EXPECT_EQ(Get(Path("pred.h5")), "new predictions");
  EXPECT_EQ(Entries(), 2u);
}

TEST_F(FilesTest, StaleTemporariesOfGoneProcessesAreRemoved) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);  // `child` is now a process that is gone
  const std::string gone = Path("reg.h5.tmp-" + HostName() + "-" + std::to_string(child));
  const std::string legacy = Path("reg.h5.tmp-" + std::to_string(child));
  const std::string alive = Path("reg.h5.tmp-" + HostName() + "-" + std::to_string(::getppid()));
  const std::string other_host = Path("reg.h5.tmp-elsewhere-" + std::to_string(child));
  for (const auto& p : {gone, legacy, alive, other_host}) Put(p, "x");
  AtomicOutput out(Path("reg.h5"));
  EXPECT_FALSE(fs::exists(gone));
  EXPECT_FALSE(fs::exists(legacy));
  EXPECT_TRUE(fs::exists(alive)) << "a running process's temporary is left alone";
  EXPECT_TRUE(fs::exists(other_host)) << "another host's process may still be running";
}

TEST_F(FilesTest, SignalSafeRemovalTakesEveryLiveTemporary) {
  AtomicOutput a(Path("a.h5")), b(Path("b.h5"));
  Put(a.temp_path(), "x");
  Put(b.temp_path(), "y");
  RemoveTemporaries();
  EXPECT_EQ(Entries(), 0u);
}

TEST_F(FilesTest, SymbolicLinkIsWrittenThroughAndKept) {
  Put(Path("real.csv"), "old");
  fs::create_symlink(Path("real.csv"), Path("link.csv"));
  TextOutput out(Path("link.csv"));
  out.Write("new");
  out.Finish();
  EXPECT_TRUE(fs::is_symlink(Path("link.csv")));
  EXPECT_EQ(Get(Path("real.csv")), "new");
}

TEST_F(FilesTest, DevicesAreWrittenThroughNeverReplaced) {
  TextOutput out("/dev/null");
  out.Write("anything");
  out.Finish();
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_THROW(AtomicOutput("/dev/null", AtomicOutput::Kind::kFile), UsageError) << "an HDF5 file needs a file";
}

TEST_F(FilesTest, FullDeviceIsAnErrorNamingTheCause) {
  if (::access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  TextOutput out("/dev/full");
  try {
    out.Write(std::string(1 << 16, 'x'));
    out.Finish();
    FAIL() << "writing to /dev/full succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos) << e.what();
  }
}

TEST_F(FilesTest, MissingFolderIsAUsageErrorWithoutTemporaryNames) {
  try {
    AtomicOutput out(Path("no/such/x.csv"));
    FAIL();
  } catch (const UsageError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("does not exist"), std::string::npos) << m;
    EXPECT_EQ(m.find(".tmp-"), std::string::npos) << m;
  }
}

TEST_F(FilesTest, OutputsMayNotNameInputsOrEachOther) {
  Put(Path("lake.h5"), "lake");
  fs::create_symlink(Path("lake.h5"), Path("alias.h5"));
  const std::string dotted = (dir_ / "." / "lake.h5").string();
  EXPECT_THROW(CheckDistinctFiles({{"--lake", Path("lake.h5"), false}, {"--registry", dotted, true}}), UsageError);
  EXPECT_THROW(CheckDistinctFiles({{"--lake", Path("lake.h5"), false}, {"--registry", Path("alias.h5"), true}}),
               UsageError);
  EXPECT_THROW(CheckDistinctFiles({{"--registry", Path("r.h5"), true}, {"--predictions", (dir_ / "." / "r.h5").string(), true}}),
               UsageError)
      << "two outputs that do not exist yet, one path written two ways";
  EXPECT_NO_THROW(CheckDistinctFiles({{"--lake", Path("lake.h5"), false},
                                      {"--registry", Path("r.h5"), true},
                                      {"--predictions", Path("p.h5"), true}}));
  try {
    CheckDistinctFiles({{"--lake", Path("lake.h5"), false}, {"--registry", Path("lake.h5"), true}});
  } catch (const UsageError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("--registry"), std::string::npos);
    EXPECT_NE(m.find("--lake"), std::string::npos);
  }
}

}  // namespace
}  // namespace mm

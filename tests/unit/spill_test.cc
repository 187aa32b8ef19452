// ScratchFile: bytes written come back, in place or read in records, and the file has no name in its folder
// at any time; a folder where no file can be made is an error naming it.
#include "manymodels/io/spill.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace mm {
namespace {

namespace fs = std::filesystem;

class SpillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mm_spill_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) +
            "_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(SpillTest, BytesComeBackAndTheFileHasNoName) {
  std::vector<int32_t> values(100000);
  std::iota(values.begin(), values.end(), 0);
  {
    ScratchFile f(dir_.string(), "test rows");
    EXPECT_EQ(f.Append(values.data(), 40000 * sizeof(int32_t)), 0u);
    EXPECT_EQ(f.Append(values.data() + 40000, 60000 * sizeof(int32_t)), 40000 * sizeof(int32_t));
    EXPECT_EQ(f.size(), values.size() * sizeof(int32_t));
    EXPECT_TRUE(fs::is_empty(dir_));  // written, yet nothing to list (or to leave behind)
    const int32_t minus[2] = {-1, -2};
    f.Overwrite(10 * sizeof(int32_t), minus, sizeof minus);
    std::vector<int32_t> back(20);
    f.Read(0, back.data(), back.size() * sizeof(int32_t));
    EXPECT_EQ(back[9], 9);
    EXPECT_EQ(back[10], -1);
    EXPECT_EQ(back[11], -2);
    EXPECT_EQ(back[12], 12);
    // Records of 3 values, read 7 records' worth at a time (the buffer rounded down to whole records).
    ScratchReader reader(f, 30000 * sizeof(int32_t), 3 * 20000 * sizeof(int32_t), 3 * sizeof(int32_t),
                         22 * sizeof(int32_t));
    int64_t n = 0, sum = 0;
    while (const char* r = reader.Next()) {
      int32_t v[3];
      std::memcpy(v, r, sizeof v);
      EXPECT_EQ(v[0], 30000 + 3 * n);
      EXPECT_EQ(v[2], v[0] + 2);
      sum += v[1];
      ++n;
    }
    EXPECT_EQ(n, 20000);
    EXPECT_EQ(sum, 20000 * int64_t{30001} + 3 * int64_t{20000} * 19999 / 2);
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(SpillTest, AFolderWithoutRoomIsAnErrorNamingIt) {
  const std::string missing = (dir_ / "no-such-folder").string();
  try {
    ScratchFile f(missing, "rows of x.csv");
    FAIL() << "made a scratch file in a folder that does not exist";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(missing + ": cannot create a scratch file for the rows of x.csv (--tmpdir"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("No such file or directory"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace mm

// The journal keeps what it was given, record by record; a record cut short or corrupted ends what is read of
// its file; a fingerprint names its first difference.
#include "manymodels/io/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace mm {
namespace {

namespace fs = std::filesystem;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("mm_journal_test_" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_);
    dir_ = JournalDir((base_ / "reg.h5").string());
  }
  void TearDown() override { fs::remove_all(base_); }

  // The payloads ScanJournal hands over, in order.
  std::vector<std::vector<uint8_t>> Scan(JournalScan* scan = nullptr) {
    std::vector<std::vector<uint8_t>> got;
    JournalScan s = ScanJournal(dir_, [&](const JournalRecord& r, const std::vector<uint8_t>& payload) {
      EXPECT_EQ(ReadJournalRecord(r), payload);
      got.push_back(payload);
    });
    if (scan) *scan = s;
    return got;
  }
  static std::vector<uint8_t> Payload(uint8_t tag, size_t n) { return std::vector<uint8_t>(n, tag); }

  fs::path base_;
  std::string dir_;
};

TEST_F(JournalTest, RunFileRoundTripsAndNamesTheFirstDifference) {
  const Fingerprint fp = {{"lake", "/data/a\nb.h5"}, {"--horizon", "14"}, {"--models", "auto"}};
  CreateJournal(dir_, "RUN-1", fp);
  std::string run;
  Fingerprint read;
  ASSERT_TRUE(ReadJournalRun(dir_, &run, &read));
  EXPECT_EQ(run, "RUN-1");
  EXPECT_EQ(read, fp);
  EXPECT_EQ(FingerprintDifference(read, fp), "");
  Fingerprint other = fp;
  other[1].second = "7";
  EXPECT_EQ(FingerprintDifference(read, other), "--horizon is '14' in the journal, '7' now");
  other = fp;
  other.emplace_back("--seed", "2");
  EXPECT_EQ(FingerprintDifference(read, other), "--seed is not set in the journal, '2' now");
  EXPECT_EQ(FingerprintDifference(other, fp), "--seed is '2' in the journal, not set now");
  RemoveJournal(dir_);
  EXPECT_FALSE(fs::exists(dir_));
  EXPECT_FALSE(ReadJournalRun(dir_, &run, &read));
  RemoveJournal(dir_);  // none: nothing to do
}

TEST_F(JournalTest, RecordsComeBackInOrderAcrossRanksAndAttempts) {
  CreateJournal(dir_, "R", {});
  {
    JournalWriter a(dir_, 1, 0), b(dir_, 1, 1);
    for (uint8_t i = 0; i < 50; ++i) a.Append(Payload(i, 100 + i));
    b.Append(Payload(200, 3));
    a.Close();
    b.Close();
    EXPECT_EQ(a.records(), 50);
    EXPECT_GT(a.sync_seconds(), 0);
  }
  JournalWriter empty(dir_, 1, 2);  // no record: no file
  empty.Close();
  JournalScan scan;
  const auto got = Scan(&scan);
  ASSERT_EQ(got.size(), 51u);
  for (uint8_t i = 0; i < 50; ++i) EXPECT_EQ(got[i], Payload(i, 100 + i));
  EXPECT_EQ(got[50], Payload(200, 3));
  EXPECT_TRUE(scan.dropped.empty());
  EXPECT_EQ(scan.next_attempt, 2);
  EXPECT_FALSE(fs::exists(dir_ + "/a1-r2.records"));
  // An attempt never appends to an earlier attempt's file.
  JournalWriter again(dir_, 1, 0);
  again.Append(Payload(1, 1));
  EXPECT_THROW(again.Close(), std::runtime_error);
}

TEST_F(JournalTest, ACutOrCorruptRecordEndsItsFile) {
  CreateJournal(dir_, "R", {});
  {
    JournalWriter w(dir_, 1, 0);
    for (uint8_t i = 0; i < 3; ++i) w.Append(Payload(i, 1000));
    w.Close();
  }
  const std::string file = dir_ + "/a1-r0.records";
  const auto whole = fs::file_size(file);
  // Cut in the middle of the last record, as a SIGKILL during its write would.
  fs::resize_file(file, whole - 500);
  JournalScan scan;
  EXPECT_EQ(Scan(&scan).size(), 2u);
  ASSERT_EQ(scan.dropped.size(), 1u);
  EXPECT_NE(scan.dropped[0].find("cut short"), std::string::npos) << scan.dropped[0];
  // Cut inside a header.
  fs::resize_file(file, 2 * (12 + 1000) + 5);
  EXPECT_EQ(Scan().size(), 2u);
  // A flipped byte in the second record's payload: it and everything after are dropped.
  fs::resize_file(file, 2 * (12 + 1000));
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12 + 1000 + 12 + 10);
    f.put(static_cast<char>(0x55));
  }
  EXPECT_EQ(Scan(&scan).size(), 1u);
  EXPECT_NE(scan.dropped.at(0).find("checksum"), std::string::npos) << scan.dropped[0];
}

}  // namespace
}  // namespace mm

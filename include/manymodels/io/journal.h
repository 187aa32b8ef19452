// A run's journal, so that a killed `train` can resume: the folder REG.h5.journal beside the registry. It holds
// `run` (the run id and the fingerprint of what decides the results: a resumed run must match it) and one
// append-only file of records per rank and attempt (`a3-r1.records`: attempt 3, rank 1). A record is one batch
// of results, opaque here, written whole with one write and synced (fdatasync) before the batch moves on:
//   [magic u32][payload size u32][CRC-32 of the payload u32][payload]
// so a kill at any moment loses at most the batches in hand. A record cut short (SIGKILL mid-write) or whose
// checksum fails ends what is read of its file: it and anything after it are dropped, and its items done again.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mm {

// (name, value) pairs in a fixed order: "--horizon" -> "14", "lake" -> "/data/lake.h5", ...
using Fingerprint = std::vector<std::pair<std::string, std::string>>;

std::string JournalDir(const std::string& registry);  // REG.h5 -> REG.h5.journal
// A file's size and modification time, "89034752 bytes, modified 2026-12-01T06:33:22.123456789Z", for a
// fingerprint: a lake replaced or appended to since has another.
std::string FileStamp(const std::string& path);

// Starts a new journal for run `run_id` (removing an older one first): the folder and its `run` file, written
// atomically and synced, so a journal without a `run` file is one that never got a record.
void CreateJournal(const std::string& dir, const std::string& run_id, const Fingerprint& fingerprint);
// The run id and fingerprint of the journal in `dir`; false when there is none (no folder, or no `run` file).
// Throws std::runtime_error naming the file when `run` cannot be read.
bool ReadJournalRun(const std::string& dir, std::string* run_id, Fingerprint* fingerprint);
// The first difference between a journal's fingerprint and this run's, as "--horizon is 14 in the journal, 7
// now"; empty when they are the same.
std::string FingerprintDifference(const Fingerprint& journal, const Fingerprint& now);
// Removes the journal's files and folder (nothing when there is none); throws naming what could not be removed.
void RemoveJournal(const std::string& dir);

// Where one intact record lies.
struct JournalRecord {
  std::string path;
  uint64_t offset = 0;  // of its payload
  uint32_t size = 0;    // of its payload
};
struct JournalScan {
  std::vector<JournalRecord> records;  // file by file (in name order), each file's in the order written
  std::vector<std::string> dropped;    // "a1-r1.records: 37 bytes after record 12 (cut short)", one per file
  int next_attempt = 1;                // one more than the journal's latest
};
// Reads every record of the journal, checking each one's checksum, and passes each payload to `each` (which
// may throw to refuse the journal).
JournalScan ScanJournal(const std::string& dir,
                        const std::function<void(const JournalRecord&, const std::vector<uint8_t>&)>& each);
// One record's payload again (its checksum checked again).
std::vector<uint8_t> ReadJournalRecord(const JournalRecord& record);

// This rank's file of records in this attempt, created on the first record. Records are written by a thread of
// the writer's own, as a group commit: whatever has queued up since the last sync goes out in one write (each
// record whole, in order) and one fdatasync, so the cost of a sync is shared by the batches that arrived while
// it ran, and the caller never waits for the disk unless kMaxQueued bytes are waiting. A record not yet synced
// when the process is killed is lost like the batch in hand: its models are fitted again on --resume. Every
// call is checked; a failure (the first) is thrown, naming the file, by the next Append or Close.
class JournalWriter {
 public:
  JournalWriter(const std::string& dir, int attempt, int rank);
  ~JournalWriter();  // stops the thread; records still queued are written but not waited for
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  // Queues one record (its checksum is computed on the writer's thread); returns at once unless kMaxQueued
  // bytes are waiting.
  void Append(std::vector<uint8_t> payload);
  // Waits until every record is written and synced, then closes the file.
  void Close();
  double seconds() const;       // the caller's time in Append and Close (waiting for the queue or the disk)
  double sync_seconds() const;  // the writer thread's time writing and syncing
  int64_t records() const;
  uint64_t bytes() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace mm

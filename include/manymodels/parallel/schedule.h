// How the work items (train's groups, score's keys) are spread over the ranks (--schedule).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "manymodels/parallel/communicator.h"
#include "manymodels/parallel/shard.h"

namespace mm {

enum class Schedule { kStatic, kDynamic };
// "static" or "dynamic"; throws std::invalid_argument naming --schedule otherwise.
Schedule ParseSchedule(const std::string& name);
const char* ScheduleName(Schedule schedule);

// Hands this rank its next range of items, a batch at a time.
//  static: the rank's shard of the plan (a contiguous range balanced by estimated cost), in batches of at most
//    `batch` items.
//  dynamic: rank 0 hands out chunks of the items left, front to back, on request: at most `batch` items, fewer
//    toward the end (what is left over twice the ranks, as OpenMP's guided schedule), so that the ranks finish
//    together whatever the estimates missed. Rank 0 takes its own chunks from the queue and answers the others'
//    requests between its fits (Answer, called when a request arrives); every other rank keeps one request
//    ahead, so that a chunk is usually waiting when it finishes the one in hand.
// Only the items of `todo` (sorted ranges: all of them, or a resumed run's items missing from its journal) are
// handed out, and a range never spans a gap between two of them. The same items are done either way, and the
// outputs are placed by item, so the schedule changes only who does what.
class WorkSource {
 public:
  WorkSource(Communicator& comm, Schedule schedule, const std::vector<ShardRange>& todo,
             const std::vector<ShardRange>& shards, size_t batch);
  WorkSource(const WorkSource&) = delete;
  WorkSource& operator=(const WorkSource&) = delete;

  // This rank's next range; false when there is none (or after Stop). Dynamic, not rank 0: may wait for rank
  // 0's reply (the time goes to wait_seconds()).
  bool Next(ShardRange* range);
  // Rank 0, dynamic: answers rank `source`'s request with the next chunk (none after Stop, or when all are out).
  void Answer(int source);
  // No more work for this rank (a graceful stop); rank 0 also hands out nothing more. A request still
  // unanswered is waited for by the next Next, so that no reply is left undelivered.
  void Stop() { stopped_ = true; }
  double wait_seconds() const { return wait_seconds_; }

 private:
  size_t ChunkSize() const;
  void Request();

  Communicator& comm_;
  Schedule schedule_;
  size_t batch_;
  RangeQueue queue_;  // static: this rank's share; dynamic, rank 0: every item left
  bool asked_ = false, stopped_ = false;
  double wait_seconds_ = 0;
};

}  // namespace mm

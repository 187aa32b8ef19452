#include "manymodels/parallel/schedule.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "manymodels/core/bytes.h"
#include "manymodels/parallel/driver.h"

namespace mm {

Schedule ParseSchedule(const std::string& name) {
  if (name == "static") return Schedule::kStatic;
  if (name == "dynamic") return Schedule::kDynamic;
  throw std::invalid_argument("--schedule: '" + name + "' is not static or dynamic");
}

const char* ScheduleName(Schedule schedule) { return schedule == Schedule::kStatic ? "static" : "dynamic"; }

WorkSource::WorkSource(Communicator& comm, Schedule schedule, const std::vector<ShardRange>& todo,
                       const std::vector<ShardRange>& shards, size_t batch)
    : comm_(comm), schedule_(comm.size() == 1 ? Schedule::kStatic : schedule), batch_(std::max<size_t>(batch, 1)) {
  if (schedule_ == Schedule::kStatic) queue_ = RangeQueue(Intersect(todo, shards.at(static_cast<size_t>(comm.rank()))));
  else if (comm.rank() == 0) queue_ = RangeQueue(todo);
}

size_t WorkSource::ChunkSize() const {
  if (schedule_ == Schedule::kStatic) return batch_;
  const size_t guided = (queue_.left() + 2 * static_cast<size_t>(comm_.size()) - 1) / (2 * static_cast<size_t>(comm_.size()));
  return std::clamp<size_t>(guided, 1, batch_);
}

void WorkSource::Request() {
  comm_.SendToRoot({kRequestMessage});
  asked_ = true;
}

bool WorkSource::Next(ShardRange* range) {
  if (schedule_ == Schedule::kStatic || comm_.rank() == 0) return !stopped_ && queue_.Take(ChunkSize(), range);
  if (!asked_ && !stopped_) Request();
  if (!asked_) return false;
  const auto t0 = DriverClock::now();
  std::vector<uint8_t> reply;
  comm_.ReceiveFromRoot(&reply);
  wait_seconds_ += Since(t0);
  asked_ = false;
  ByteReader rd(reply);
  range->begin = static_cast<size_t>(rd.GetU64());
  range->end = static_cast<size_t>(rd.GetU64());
  if (range->begin == range->end) stopped_ = true;  // all handed out: ask no more
  if (stopped_) return false;
  Request();  // the next one travels while this one is fitted
  return true;
}

void WorkSource::Answer(int source) {
  ShardRange chunk;
  if (stopped_ || !queue_.Take(ChunkSize(), &chunk)) chunk = {};
  ByteWriter w;
  w.PutU64(chunk.begin);
  w.PutU64(chunk.end);
  comm_.SendFromRoot(source, w.Take());
}

}  // namespace mm

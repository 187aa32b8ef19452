// What the MPI drivers (train, score) share: the plan rank 0 makes and broadcasts, the run reports ranks send
// rank 0 at the end, rank 0's writer thread that puts result batches into their final rows, reading a batch of
// series from the lake as runs of consecutive series, and the clock and memory helpers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "manymodels/core/bytes.h"
#include "manymodels/io/hdf5.h"
#include "manymodels/io/journal.h"
#include "manymodels/io/lake.h"
#include "manymodels/parallel/communicator.h"
#include "manymodels/parallel/schedule.h"
#include "manymodels/parallel/shard.h"
#include "manymodels/parallel/train.h"

namespace mm {

using DriverClock = std::chrono::steady_clock;
inline double Since(DriverClock::time_point t) {
  return std::chrono::duration<double>(DriverClock::now() - t).count();
}
double PeakRssMb();  // the process's peak resident memory since it started (VmHWM), MiB

// The plan rank 0 broadcasts: contiguous ranges of work items per rank, the items to do, the run id, and
// integer columns the driver needs on every rank (train: the groups' members; score: each key's production row
// and lake series).
struct DriverPlan {
  std::string error;  // non-empty: every rank throws it
  std::string run_id;
  std::vector<ShardRange> shards;
  std::vector<ShardRange> todo;  // sorted: the items to do in this run (WorkSource)
  std::vector<std::vector<int64_t>> columns;
};
std::vector<uint8_t> EncodePlan(const DriverPlan& p);
DriverPlan DecodePlan(const std::vector<uint8_t>& bytes);
// Collective: rank 0 runs `make` (an exception becomes the plan's error), the plan goes to every rank, and
// every rank throws std::runtime_error with the error when there is one.
DriverPlan BroadcastPlan(Communicator& comm, const std::function<void(DriverPlan*)>& make);

// Messages to rank 0: kBatch (first item, count, results) and, with the dynamic schedule, kRequest (for the
// next chunk of work), then one kDone with the rank's report.
enum DriverMessage : uint8_t { kBatchMessage = 1, kDoneMessage = 2, kRequestMessage = 3 };
void PutReport(ByteWriter* w, const RankReport& r);
RankReport GetReport(ByteReader* rd);
// This rank's thread choice, host and rank, as its report starts.
RankReport StartReport(Communicator& comm, int threads_flag);

// Series `wanted` (ascending, distinct lake indices), one read per column of a selection of them all (runs of
// consecutive series are one range): columns[0] is the target, columns[1 + c] covariate `covariates[c]`, each
// one vector per wanted series. With `from` (one period per wanted series), series k is read from period
// from[k] on only: the whole series when from[k] is at or before its start, nothing when past its end; its
// first value read is then at period max(from[k], start). Takes h5::Mutex() itself.
std::vector<std::vector<std::vector<double>>> ReadSeriesRuns(const LakeReader& lake,
                                                             const std::vector<int64_t>& wanted,
                                                             const std::vector<size_t>& covariates,
                                                             const std::vector<int64_t>& from = {});

// Rank 0's writer thread: batches handed over by the main thread are written by `write` (called with
// h5::Mutex() held, on the writer thread), so the main thread goes on computing instead of waiting on HDF5.
// Batches queue up to a bound (memory). The first error is kept and rethrown to the main thread.
template <typename T>
class BatchWriter {
 public:
  using WriteFn = std::function<void(size_t first, std::vector<T> batch)>;
  explicit BatchWriter(WriteFn write) : write_(std::move(write)), thread_([this] { Run(); }) {}
  ~BatchWriter() { Stop(); }
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Main thread: hands a batch over; waits only when kMaxQueued batches are already waiting.
  void Write(size_t first, std::vector<T> batch) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!queue_full_.wait_for(lock, std::chrono::seconds(0), [this] { return Ready(); })) {
      const auto t0 = DriverClock::now();
      queue_full_.wait(lock, [this] { return Ready(); });
      wait_seconds_ += Since(t0);
    }
    if (error_) std::rethrow_exception(error_);
    queue_.emplace_back(first, std::move(batch));
    work_.notify_one();
  }
  // Main thread: waits until every batch handed over is written.
  void Drain() {
    const auto t0 = DriverClock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    queue_full_.wait(lock, [this] { return (queue_.empty() && !busy_) || error_; });
    wait_seconds_ += Since(t0);
    if (error_) std::rethrow_exception(error_);
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    work_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  double write_seconds() const { return write_seconds_; }  // the writer thread's busy time
  double wait_seconds() const { return wait_seconds_; }    // the main thread's time waiting on it

 private:
  static constexpr size_t kMaxQueued = 8;
  bool Ready() const { return queue_.size() < kMaxQueued || error_; }

  void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() || error_) {
        if (stopping_) return;
        queue_.clear();
        continue;
      }
      auto [first, batch] = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      queue_full_.notify_all();
      std::exception_ptr error;
      const auto t0 = DriverClock::now();
      try {
        std::lock_guard<std::mutex> hdf5(h5::Mutex());
        write_(first, std::move(batch));
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      write_seconds_ += Since(t0);
      busy_ = false;
      if (error && !error_) error_ = error;
      queue_full_.notify_all();
    }
  }

  WriteFn write_;
  std::mutex mutex_;
  std::condition_variable work_, queue_full_;
  std::deque<std::pair<size_t, std::vector<T>>> queue_;
  bool busy_ = false, stopping_ = false;
  std::exception_ptr error_;
  double write_seconds_ = 0, wait_seconds_ = 0;
  std::thread thread_;  // last: starts when everything above exists
};

// Rank 0: one message from rank `source`: a batch goes to `writer` (items read by `get`), the last one (kDone)
// puts that rank's report in `ranks`. Returns true for the last one.
template <typename Out>
bool AcceptMessage(const std::vector<uint8_t>& bytes, int source, std::vector<RankReport>* ranks,
                   Out (*get)(ByteReader*), BatchWriter<Out>& writer) {
  ByteReader rd(bytes);
  const uint8_t type = rd.GetU8();
  if (type == kDoneMessage) {
    ranks->at(static_cast<size_t>(source)) = GetReport(&rd);
    return true;
  }
  if (type != kBatchMessage) throw std::runtime_error("unknown message from rank " + std::to_string(source));
  const auto first = static_cast<size_t>(rd.GetU64());
  std::vector<Out> outs(rd.GetU64());
  for (auto& o : outs) o = get(&rd);
  writer.Write(first, std::move(outs));
  return false;
}

// What moves results to rank 0. On rank 0 (which has the sink): takes in what the other ranks send -- batches
// to the sink, requests for work to the WorkSource, each rank's last report -- between its own fits (Poll) and
// after its share (Finish). On the other ranks (no sink): sends their batches and their report. With a
// journal, every batch of this rank is first appended to it, as the bytes another rank sends (kBatch).
template <typename Sink>
class Gatherer {
 public:
  Gatherer(Communicator& comm, Sink* sink, WorkSource& work, JournalWriter* journal = nullptr)
      : comm_(comm), sink_(sink), work_(work), journal_(journal), ranks_running_(comm.size() - 1) {}

  // Rank 0's main thread, between fits, also inside the OpenMP loop, where nothing may escape: takes in every
  // message that has arrived; an error is kept and thrown by the next Deliver or Finish.
  void Poll() {
    if (!sink_ || error_ || ranks_running_ == 0) return;
    const auto t0 = DriverClock::now();
    try {
      std::vector<uint8_t> msg;
      int source = 0;
      while (ranks_running_ > 0 && comm_.Poll(&msg, &source)) Take(msg, source);
    } catch (...) {
      error_ = std::current_exception();
    }
    seconds_ += Since(t0);
  }

  // A batch of this rank's results, serialised item by item by `put` (for the journal, or to send): rank 0 hands
  // it to its sink's writer and takes in what the other ranks sent meanwhile; any other rank sends it to rank 0.
  template <typename Out>
  void Deliver(size_t first, std::vector<Out> outs, void (*put)(ByteWriter*, const Out&)) {
    if (error_) std::rethrow_exception(error_);
    const auto t0 = DriverClock::now();
    const double journal_before = journal_ ? journal_->seconds() : 0;
    std::vector<uint8_t> bytes;
    if (!sink_ || journal_) {
      ByteWriter w;
      w.PutU8(kBatchMessage);
      w.PutU64(first);
      w.PutU64(outs.size());
      for (const auto& o : outs) put(&w, o);
      bytes = w.Take();
      if (journal_) journal_->Append(sink_ ? std::move(bytes) : bytes);  // rank 0 sends nothing: no copy
    }
    if (sink_) sink_->Write(first, std::move(outs));
    else comm_.SendToRoot(std::move(bytes));
    seconds_ += Since(t0) - (journal_ ? journal_->seconds() - journal_before : 0);
    Poll();
  }

  // After this rank's share. Rank 0: takes in messages until every rank has sent its last, and waits for the
  // writer; returns how many results the sink wrote. Any other rank: sends its report and waits until rank 0
  // has taken in everything it sent; returns 0.
  int64_t Finish(RankReport* me) {
    if (error_) std::rethrow_exception(error_);
    const auto t0 = DriverClock::now();
    if (journal_) {
      journal_->Close();
      me->journal_seconds = journal_->seconds();
      me->journal_sync_seconds = journal_->sync_seconds();
    }
    if (!sink_) {
      me->gather_seconds += seconds_;
      ByteWriter w;
      w.PutU8(kDoneMessage);
      PutReport(&w, *me);
      comm_.SendToRoot(w.Take());
      comm_.FinishSends();
      return 0;
    }
    while (ranks_running_ > 0) {
      std::vector<uint8_t> msg;
      int source = 0;
      comm_.Receive(&msg, &source);
      Take(msg, source);
    }
    seconds_ += Since(t0);
    me->gather_seconds += seconds_;
    return sink_->Drain();
  }

  double seconds() const { return seconds_; }  // time spent moving results so far

 private:
  void Take(const std::vector<uint8_t>& msg, int source) {
    if (!msg.empty() && msg[0] == kRequestMessage) work_.Answer(source);
    else if (sink_->Accept(msg, source)) --ranks_running_;
  }

  Communicator& comm_;
  Sink* sink_;
  WorkSource& work_;
  JournalWriter* journal_;
  int ranks_running_;
  std::exception_ptr error_;
  double seconds_ = 0;
};

// Rank 0, inside FinishRun's commit: runs `commit` (the sink's Commit: its last writes, then the outputs put
// in place) and sets `root`'s write_seconds (the sink's writer-thread time) and write_wait_seconds (the main
// thread's waits on that writer), each with the commit's time added.
template <typename Sink, typename Commit>
void TimedCommit(const Sink& sink, RankReport* root, const Commit& commit) {
  const auto commit_start = DriverClock::now();
  commit();
  root->write_seconds = sink.write_seconds() + Since(commit_start);
  root->write_wait_seconds = sink.wait_seconds() + Since(commit_start);
}

// The end of a run, on every rank: rank 0 (which has the sink) runs `commit`, which takes in the other ranks'
// results (gather.Finish) and writes the outputs; an error there is reported as COMMAND's, the sink destroyed
// (which removes its temporaries) and the job aborted. The other ranks send their last results and report.
// Then every rank waits for the others.
template <typename Sink, typename Commit>
void FinishRun(const char* command, Communicator& comm, std::unique_ptr<Sink>& sink, Gatherer<Sink>& gather,
               RankReport* me, const Commit& commit) {
  if (sink) {
    try {
      commit();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "manymodels %s: %s\n", command, e.what());
      sink.reset();
      comm.Abort(1);
    }
  } else {
    gather.Finish(me);
  }
  comm.Barrier();
}

}  // namespace mm

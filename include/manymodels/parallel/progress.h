// Progress of a long run on stderr: a live line on a terminal (every 0.2 s), otherwise a log line every 5 s
// (Slurm output files) -- from a clock thread, so a log shows life while the caller is busy in a long fit or
// write -- with items done / total, rate and ETA.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace mm {

class Progress {
 public:
  // `every`: the interval between lines; zero means the default for the terminal or log file.
  Progress(std::string label, int64_t total, bool enabled = true,
           std::chrono::milliseconds every = std::chrono::milliseconds(0));
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void Update(int64_t done) { done_.store(done, std::memory_order_relaxed); }  // cheap, from any thread
  void Finish();  // stops the clock and prints the final line

 private:
  void Print(bool final);
  void Stop();
  std::string label_;
  int64_t total_;
  std::atomic<int64_t> done_{0};
  bool enabled_, tty_;
  std::chrono::milliseconds every_;
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread clock_;
};

}  // namespace mm

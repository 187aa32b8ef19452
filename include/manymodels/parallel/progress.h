// Progress of a long run on stderr: a live line on a terminal, a log line every few seconds otherwise
// (Slurm output files), with items done / total, rate and ETA.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace mm {

class Progress {
 public:
  Progress(std::string label, int64_t total, bool enabled = true);
  void Update(int64_t done);  // cheap; prints only when due
  void Finish();              // the final line

 private:
  void Print(bool final);
  std::string label_;
  int64_t total_, done_ = 0;
  bool enabled_, tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
};

}  // namespace mm

#include "manymodels/parallel/progress.h"

#include <unistd.h>

#include <cstdio>

namespace mm {

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

void Progress::Update(int64_t done) {
  done_ = done;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const auto every = tty_ ? std::chrono::milliseconds(200) : std::chrono::milliseconds(5000);
  if (now - last_print_ >= every) {
    last_print_ = now;
    Print(false);
  }
}

void Progress::Finish() {
  if (enabled_) Print(true);
}

void Progress::Print(bool final) {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done_) / secs : 0;
  const double pct = total_ > 0 ? 100.0 * static_cast<double>(done_) / static_cast<double>(total_) : 100.0;
  char eta[32] = "--";
  if (rate > 0 && !final) {
    const auto left = static_cast<long>(static_cast<double>(total_ - done_) / rate);
    std::snprintf(eta, sizeof eta, "%ld:%02ld", left / 60, left % 60);
  }
  std::fprintf(stderr, "%s%s: %lld/%lld series (%.1f%%), %.1f series/s, %s %s%s", tty_ ? "\r" : "",
               label_.c_str(), static_cast<long long>(done_), static_cast<long long>(total_), pct, rate,
               final ? "elapsed" : "ETA", final ? (std::to_string(static_cast<long>(secs)) + " s").c_str() : eta,
               tty_ && !final ? "   " : "\n");
  std::fflush(stderr);
}

}  // namespace mm

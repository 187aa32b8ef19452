#include "manymodels/parallel/progress.h"

#include <unistd.h>

#include <cstdio>

namespace mm {

Progress::Progress(std::string label, int64_t total, bool enabled, std::chrono::milliseconds every)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      tty_(isatty(STDERR_FILENO) == 1),
      every_(every.count() > 0 ? every : std::chrono::milliseconds(tty_ ? 200 : 5000)),
      start_(std::chrono::steady_clock::now()) {
  if (!enabled_) return;
  clock_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, every_, [this] { return stopping_; })) Print(false);
  });
}

Progress::~Progress() { Stop(); }

void Progress::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (clock_.joinable()) clock_.join();
}

void Progress::Finish() {
  Stop();
  if (enabled_) Print(true);
}

void Progress::Print(bool final) {
  const int64_t done = done_.load(std::memory_order_relaxed);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
  const double pct = total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0;
  char eta[32] = "--";
  if (rate > 0 && !final) {
    const auto left = static_cast<long>(static_cast<double>(total_ - done) / rate);
    std::snprintf(eta, sizeof eta, "%ld:%02ld", left / 60, left % 60);
  }
  std::fprintf(stderr, "%s%s: %lld/%lld series (%.1f%%), %.1f series/s, %s %s%s", tty_ ? "\r" : "",
               label_.c_str(), static_cast<long long>(done), static_cast<long long>(total_), pct, rate,
               final ? "elapsed" : "ETA", final ? (std::to_string(static_cast<long>(secs)) + " s").c_str() : eta,
               tty_ && !final ? "   " : "\n");
  std::fflush(stderr);
}

}  // namespace mm

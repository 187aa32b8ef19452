#include "manymodels/io/journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <deque>
#include <exception>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <tuple>

#include "manymodels/io/files.h"

namespace mm {
namespace {

constexpr uint32_t kMagic = 0x314a4d4d;  // "MMJ1"
constexpr size_t kHeader = 12;
const char* const kRunHead = "manymodels journal 1";

std::string Errno() { return std::strerror(errno); }

uint32_t Crc(const uint8_t* data, size_t size) {
  return static_cast<uint32_t>(crc32(crc32(0L, Z_NULL, 0), data, static_cast<uInt>(size)));
}

// Values on one line each: backslash and newline escaped.
std::string Escape(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
  return out;
}

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out += s[i + 1] == 'n' ? '\n' : s[i + 1];
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// fsync of a folder, so that a file made or removed in it stays made or removed after a crash.
void SyncFolder(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(dir + ": cannot open to sync: " + Errno());
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL && err != EROFS) throw std::runtime_error(dir + ": " + std::strerror(err));
}

std::string Parent(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

// a<attempt>-r<rank>.records
bool ParseRecordsName(const std::string& name, int* attempt, int* rank) {
  int used = 0;
  if (std::sscanf(name.c_str(), "a%d-r%d.records%n", attempt, rank, &used) != 2) return false;
  return used == static_cast<int>(name.size()) && *attempt > 0 && *rank >= 0;
}

std::string RecordsName(int attempt, int rank) {
  return "a" + std::to_string(attempt) + "-r" + std::to_string(rank) + ".records";
}

uint32_t GetU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace

std::string JournalDir(const std::string& registry) { return registry + ".journal"; }

std::string FileStamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error(path + ": " + Errno());
  char when[64];
  std::tm tm{};
  gmtime_r(&st.st_mtim.tv_sec, &tm);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  char nanos[16];
  std::snprintf(nanos, sizeof nanos, ".%09ldZ", static_cast<long>(st.st_mtim.tv_nsec));
  return std::to_string(st.st_size) + " bytes, modified " + when + nanos;
}

void CreateJournal(const std::string& dir, const std::string& run_id, const Fingerprint& fingerprint) {
  RemoveJournal(dir);
  if (::mkdir(dir.c_str(), 0777) != 0) throw std::runtime_error(dir + ": cannot make the journal's folder: " + Errno());
  SyncFolder(Parent(dir));
  std::string text = std::string(kRunHead) + "\nrun_id=" + Escape(run_id) + "\n";
  for (const auto& [name, value] : fingerprint) text += Escape(name) + "=" + Escape(value) + "\n";
  TextOutput run(dir + "/run");
  run.Write(text);
  run.Finish();
}

bool ReadJournalRun(const std::string& dir, std::string* run_id, Fingerprint* fingerprint) {
  const std::string path = dir + "/run";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line != kRunHead)
    throw std::runtime_error(path + ": not a manymodels journal (its first line is not '" + kRunHead + "')");
  run_id->clear();
  fingerprint->clear();
  for (int n = 2; std::getline(in, line); ++n) {
    // The name is escaped too, so its first '=' that is not escaped ends it; names here never hold one.
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw std::runtime_error(path + ":" + std::to_string(n) + ": no '=' in the line");
    const std::string name = Unescape(line.substr(0, eq)), value = Unescape(line.substr(eq + 1));
    if (name == "run_id") *run_id = value;
    else fingerprint->emplace_back(name, value);
  }
  if (run_id->empty()) throw std::runtime_error(path + ": no run_id");
  return true;
}

std::string FingerprintDifference(const Fingerprint& journal, const Fingerprint& now) {
  auto find = [](const Fingerprint& f, const std::string& name) -> const std::string* {
    for (const auto& [n, v] : f)
      if (n == name) return &v;
    return nullptr;
  };
  auto show = [](const std::string* v) { return v ? (v->empty() ? std::string("empty") : "'" + *v + "'") : std::string("not set"); };
  for (const auto& [name, value] : now) {
    const std::string* old = find(journal, name);
    if (!old || *old != value) return name + " is " + show(old) + " in the journal, " + show(&value) + " now";
  }
  for (const auto& [name, value] : journal)
    if (!find(now, name)) return name + " is " + show(&value) + " in the journal, not set now";
  return "";
}

void RemoveJournal(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return;
    throw std::runtime_error(dir + ": cannot read the journal's folder: " + Errno());
  }
  std::string error;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (::unlink((dir + "/" + name).c_str()) != 0 && error.empty()) error = dir + "/" + name + ": " + Errno();
  }
  ::closedir(d);
  if (error.empty() && ::rmdir(dir.c_str()) != 0) error = dir + ": " + Errno();
  if (!error.empty()) throw std::runtime_error("cannot remove the journal: " + error);
  SyncFolder(Parent(dir));
}

JournalScan ScanJournal(const std::string& dir,
                        const std::function<void(const JournalRecord&, const std::vector<uint8_t>&)>& each) {
  JournalScan scan;
  std::vector<std::tuple<int, int, std::string>> files;
  DIR* d = ::opendir(dir.c_str());
  if (!d) throw std::runtime_error(dir + ": cannot read the journal's folder: " + Errno());
  while (const dirent* e = ::readdir(d)) {
    int attempt = 0, rank = 0;
    if (ParseRecordsName(e->d_name, &attempt, &rank)) {
      files.emplace_back(attempt, rank, dir + "/" + e->d_name);
      scan.next_attempt = std::max(scan.next_attempt, attempt + 1);
    }
  }
  ::closedir(d);
  std::sort(files.begin(), files.end());
  for (const auto& [attempt, rank, path] : files) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw std::runtime_error(path + ": " + Errno());
    struct stat st {};
    if (::fstat(::fileno(f), &st) != 0) {
      std::fclose(f);
      throw std::runtime_error(path + ": " + Errno());
    }
    const auto file_size = static_cast<uint64_t>(st.st_size);
    uint64_t offset = 0;
    int64_t n = 0;
    std::vector<uint8_t> payload;
    for (;;) {
      uint8_t header[kHeader];
      const size_t got = std::fread(header, 1, kHeader, f);
      std::string why;
      if (got == 0 && !std::ferror(f)) break;  // the end, after a whole record
      if (got < kHeader) {
        why = "cut short";
      } else if (GetU32(header) != kMagic) {
        why = "not a record";
      } else if (offset + kHeader + GetU32(header + 4) > file_size) {
        why = "cut short";
      } else {
        payload.resize(GetU32(header + 4));
        if (std::fread(payload.data(), 1, payload.size(), f) != payload.size()) why = "cut short";
        else if (Crc(payload.data(), payload.size()) != GetU32(header + 8)) why = "checksum mismatch";
      }
      if (std::ferror(f)) {
        std::fclose(f);
        throw std::runtime_error(path + ": " + Errno());
      }
      if (!why.empty()) {
        scan.dropped.push_back(path.substr(path.find_last_of('/') + 1) + ": " + std::to_string(file_size - offset) +
                               " bytes after record " + std::to_string(n) + " (" + why + ")");
        break;
      }
      const JournalRecord record{path, offset + kHeader, static_cast<uint32_t>(payload.size())};
      offset += kHeader + payload.size();
      ++n;
      scan.records.push_back(record);
      try {
        each(record, payload);
      } catch (...) {
        std::fclose(f);
        throw;
      }
    }
    std::fclose(f);
  }
  return scan;
}

std::vector<uint8_t> ReadJournalRecord(const JournalRecord& record) {
  const int fd = ::open(record.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(record.path + ": " + Errno());
  std::vector<uint8_t> bytes(kHeader + record.size);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done,
                              static_cast<off_t>(record.offset - kHeader + done));
    if (n <= 0) {
      const std::string why = n == 0 ? "cut short" : Errno();
      ::close(fd);
      throw std::runtime_error(record.path + ": the record at byte " + std::to_string(record.offset - kHeader) + ": " +
                               why);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (GetU32(bytes.data()) != kMagic || GetU32(bytes.data() + 4) != record.size ||
      Crc(bytes.data() + kHeader, record.size) != GetU32(bytes.data() + 8))
    throw std::runtime_error(record.path + ": the record at byte " + std::to_string(record.offset - kHeader) +
                             " changed since it was read");
  return std::vector<uint8_t>(bytes.begin() + kHeader, bytes.end());
}

struct JournalWriter::State {
  static constexpr uint64_t kMaxQueued = 256u << 20;
  std::string path;
  int fd = -1;
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::vector<uint8_t>> queue;  // payloads: the thread adds each one's header (and its checksum)
  uint64_t queued_bytes = 0;
  bool busy = false, stopping = false;
  std::exception_ptr error;
  double seconds = 0, sync_seconds = 0;
  int64_t records = 0;
  uint64_t bytes = 0;
  std::thread thread;

  // The writer thread: every record queued so far in one write, then one fdatasync.
  void Run() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      changed.wait(lock, [this] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping, all written
      std::deque<std::vector<uint8_t>> group;
      group.swap(queue);
      busy = true;
      lock.unlock();
      const auto t0 = std::chrono::steady_clock::now();
      std::exception_ptr failed;
      uint64_t written = 0;
      try {
        written = WriteAndSync(group);
      } catch (...) {
        failed = std::current_exception();
      }
      lock.lock();
      sync_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      busy = false;
      if (failed && !error) error = failed;
      if (!failed) records += static_cast<int64_t>(group.size()), bytes += written;
      for (const auto& p : group) queued_bytes -= p.size();
      changed.notify_all();
      if (error) {
        queue.clear();
        queued_bytes = 0;
        return;
      }
    }
  }

  uint64_t WriteAndSync(const std::deque<std::vector<uint8_t>>& group) {
    if (fd < 0) {
      // O_EXCL: an attempt's file is never an earlier one's, whose last record may be cut short.
      fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
      if (fd < 0) throw std::runtime_error(path + ": cannot make the journal file: " + Errno());
      SyncFolder(Parent(path));
    }
    // Each record whole, header then payload, all of them in one write.
    std::vector<std::array<uint32_t, 3>> headers(group.size());
    std::vector<iovec> parts;
    uint64_t total = 0;
    for (size_t i = 0; i < group.size(); ++i) {
      const auto& payload = group[i];
      headers[i] = {kMagic, static_cast<uint32_t>(payload.size()), Crc(payload.data(), payload.size())};
      parts.push_back({headers[i].data(), kHeader});
      parts.push_back({const_cast<uint8_t*>(payload.data()), payload.size()});
      total += kHeader + payload.size();
    }
    size_t first = 0;
    for (uint64_t left = total; left > 0;) {
      const int count = static_cast<int>(std::min<size_t>(parts.size() - first, IOV_MAX));
      const ssize_t n = ::writev(fd, parts.data() + first, count);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(path + ": " + Errno());
      }
      left -= static_cast<uint64_t>(n);
      // A short write: go on from where it stopped.
      for (auto k = static_cast<size_t>(n); k > 0 && first < parts.size();) {
        const size_t take = std::min(k, parts[first].iov_len);
        parts[first].iov_base = static_cast<uint8_t*>(parts[first].iov_base) + take;
        parts[first].iov_len -= take;
        k -= take;
        if (parts[first].iov_len == 0) ++first;
      }
      while (first < parts.size() && parts[first].iov_len == 0) ++first;
    }
    if (::fdatasync(fd) != 0) throw std::runtime_error(path + ": " + Errno());
    return total;
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    if (thread.joinable()) thread.join();
  }
};

JournalWriter::JournalWriter(const std::string& dir, int attempt, int rank) : state_(std::make_unique<State>()) {
  state_->path = dir + "/" + RecordsName(attempt, rank);
  state_->thread = std::thread([s = state_.get()] { s->Run(); });
}

JournalWriter::~JournalWriter() {
  state_->Stop();
  if (state_->fd >= 0) ::close(state_->fd);
}

void JournalWriter::Append(std::vector<uint8_t> payload) {
  const auto t0 = std::chrono::steady_clock::now();
  if (payload.size() > UINT32_MAX) throw std::runtime_error(state_->path + ": a batch of more than 4 GiB");
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mutex);
  s.changed.wait(lock, [&] { return s.queued_bytes < State::kMaxQueued || s.error; });
  if (s.error) std::rethrow_exception(s.error);
  s.queued_bytes += payload.size();
  s.queue.push_back(std::move(payload));
  s.changed.notify_all();
  s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void JournalWriter::Close() {
  const auto t0 = std::chrono::steady_clock::now();
  State& s = *state_;
  s.Stop();
  {
    std::lock_guard<std::mutex> lock(s.mutex);
    s.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s.error) std::rethrow_exception(s.error);
  }
  if (s.fd < 0) return;
  const int rc = ::close(s.fd);
  s.fd = -1;
  if (rc != 0) throw std::runtime_error(s.path + ": " + Errno());
}

double JournalWriter::seconds() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->seconds;
}
double JournalWriter::sync_seconds() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->sync_seconds;
}
int64_t JournalWriter::records() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->records;
}
uint64_t JournalWriter::bytes() const {
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->bytes;
}

}  // namespace mm

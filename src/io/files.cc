#include "manymodels/io/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mm {
namespace {

// ------------------------------------------------------------------ the signal-safe list of temporaries
// Fixed storage, so a signal handler can walk it without allocating or locking. A slot is claimed (1), filled,
// then published (2); RemoveTemporaries unlinks the published ones.
constexpr int kSlots = 64;
char slot_path[kSlots][PATH_MAX];
std::atomic<int> slot_state[kSlots];

// While outputs are being renamed together, a stop signal (which any thread may receive) waits until the
// renames are done, so it cannot leave a new registry beside old predictions.
std::atomic<int> committing{0};
std::atomic<int> deferred_signal{0};
std::atomic<int> stop_follows_commit{0};

int Register(const std::string& path) {
  if (path.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (slot_state[i].compare_exchange_strong(expected, 1)) {
      std::memcpy(slot_path[i], path.c_str(), path.size() + 1);
      slot_state[i].store(2);
      return i;
    }
  }
  return -1;  // more live outputs than slots: still removed by the destructor, not by a signal
}

void Unregister(int slot) {
  if (slot >= 0) slot_state[slot].store(0);
}

std::string Errno() { return std::strerror(errno); }

std::string DirName(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Suffix() { return HostName() + "-" + std::to_string(::getpid()); }

// fsync of a file or folder by name; throws naming `what` on failure.
void Sync(const std::string& path, const std::string& what, bool directory) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) throw std::runtime_error(what + ": cannot open to sync: " + Errno());
  const int rc = ::fsync(fd);
  const int err = errno;
  if (::close(fd) != 0 || rc != 0) {
    errno = rc != 0 ? err : errno;
    if (directory && (errno == EINVAL || errno == EROFS)) return;  // folders that cannot be synced
    throw std::runtime_error(what + ": " + Errno());
  }
}

// Removes TARGET.tmp-HOST-PID and TARGET.old-HOST-PID (and the older TARGET.tmp-PID) left by processes of
// this host that no longer run.
void RemoveStale(const std::string& target) {
  const std::string dir = DirName(target), base = BaseName(target), host = HostName();
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.compare(0, base.size(), base) != 0) continue;
    std::string rest = name.substr(base.size());
    if (rest.compare(0, 5, ".tmp-") != 0 && rest.compare(0, 5, ".old-") != 0) continue;
    rest = rest.substr(5);
    if (rest.compare(0, host.size() + 1, host + "-") == 0) rest = rest.substr(host.size() + 1);
    else if (rest.find('-') != std::string::npos) continue;  // another host's: it may still be running
    if (rest.empty() || rest.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(rest.c_str(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid() || ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    const std::string stale = dir + "/" + name;
    if (::unlink(stale.c_str()) == 0)
      std::fprintf(stderr, "manymodels: removed %s, left by process %ld that is gone\n", stale.c_str(), pid);
  }
  ::closedir(d);
}

// Identity of a file for CheckDistinctFiles: device and inode when it exists; the real path otherwise.
struct FileIdentity {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  std::string path;
};

FileIdentity Identify(const std::string& path) {
  FileIdentity id;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    id.exists = true;
    id.dev = st.st_dev;
    id.ino = st.st_ino;
  }
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf)) id.path = buf;
  else if (::realpath(DirName(path).c_str(), buf)) id.path = std::string(buf) + "/" + BaseName(path);
  else id.path = path;
  return id;
}

}  // namespace

std::string HostName() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

namespace {

// Where an output named `path` really goes: through a symbolic link to its file, or straight onto a device
// or pipe when `kind` allows (direct). Throws UsageError when it cannot be an output.
std::string ResolveTarget(const std::string& path, AtomicOutput::Kind kind, bool* direct) {
  if (path.empty()) throw UsageError("an output file name is empty");
  std::string target = path;
  *direct = false;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    // Write through the link: replace what it points to, keep the link.
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf)) {
      target = buf;
    } else {
      const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
      if (n <= 0) throw UsageError(path + ": cannot read the symbolic link: " + Errno());
      buf[n] = 0;
      target = buf[0] == '/' ? std::string(buf) : DirName(path) + "/" + buf;
    }
  }
  if (::stat(target.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) throw UsageError(path + ": is a folder, not a file");
    if (!S_ISREG(st.st_mode)) {
      if (kind == AtomicOutput::Kind::kStream) {
        *direct = true;  // a device or pipe: written directly, never replaced by a file
        return target;
      }
      throw UsageError(path + ": not a regular file; this output can only be written to a file");
    }
  }
  const std::string dir = DirName(target);
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw UsageError(path + ": the folder '" + dir + "' does not exist");
  return target;
}

}  // namespace

AtomicOutput::AtomicOutput(std::string path, Kind kind) : path_(std::move(path)) {
  target_ = ResolveTarget(path_, kind, &direct_);
  if (direct_) {
    temp_ = target_;
    return;
  }
  temp_ = target_ + ".tmp-" + Suffix();
  RemoveStale(target_);
  slot_ = Register(temp_);
}

AtomicOutput::~AtomicOutput() {
  if (!committed_ && !direct_) ::unlink(temp_.c_str());
  Unregister(slot_);
}

void AtomicOutput::Commit() { CommitTogether({this}); }

void CommitTogether(const std::vector<AtomicOutput*>& outputs) {
  for (AtomicOutput* o : outputs)
    if (!o->direct_) Sync(o->temp_, o->path_, false);
  // No signal between the renames: the outputs are replaced together (see DeferStopSignal).
  committing.store(1);
  std::vector<std::string> backups(outputs.size());
  std::string error;
  size_t done = 0;
  for (; done < outputs.size() && error.empty(); ++done) {
    AtomicOutput* o = outputs[done];
    if (o->direct_) continue;
    if (outputs.size() > 1) {
      const std::string backup = o->target_ + ".old-" + Suffix();
      if (::link(o->target_.c_str(), backup.c_str()) == 0) backups[done] = backup;
    }
    if (::rename(o->temp_.c_str(), o->target_.c_str()) != 0) {
      error = o->path_ + ": cannot rename the finished file into place: " + Errno();
      break;
    }
  }
  if (!error.empty()) {
    // Undo the renames made so far: each target gets its previous file back (or none, if it had none).
    for (size_t i = 0; i < done; ++i) {
      AtomicOutput* o = outputs[i];
      if (o->direct_) continue;
      if (!backups[i].empty()) ::rename(backups[i].c_str(), o->target_.c_str());
      else ::unlink(o->target_.c_str());
    }
  }
  for (const auto& b : backups)
    if (!b.empty()) ::unlink(b.c_str());
  for (size_t i = 0; i < outputs.size(); ++i) {
    AtomicOutput* o = outputs[i];
    if (error.empty()) o->committed_ = true;
    else if (!o->direct_) ::unlink(o->temp_.c_str());
  }
  committing.store(0);
  if (const int sig = deferred_signal.exchange(0)) {
    stop_follows_commit.store(error.empty() ? 1 : 0);
    ::raise(sig);
  }
  if (!error.empty()) throw std::runtime_error(error);
  for (AtomicOutput* o : outputs)
    if (!o->direct_) Sync(DirName(o->target_), o->path_ + " (its folder)", true);
}

TextOutput::TextOutput(const std::string& path) : name_(path.empty() ? "standard output" : path) {
  if (path.empty()) {
    file_ = stdout;
    return;
  }
  out_ = std::make_unique<AtomicOutput>(path, AtomicOutput::Kind::kStream);
  file_ = std::fopen(out_->temp_path().c_str(), "wb");
  if (!file_) Fail();
}

TextOutput::~TextOutput() {
  if (file_ && file_ != stdout) std::fclose(file_);
}

void TextOutput::Fail() { throw std::runtime_error(name_ + ": " + (errno ? Errno() : std::string("write failed"))); }

void TextOutput::Write(const std::string& text) {
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) Fail();
}

void TextOutput::Finish() {
  errno = 0;
  if (file_ == stdout) {
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) Fail();
    return;
  }
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) Fail();
  out_->Commit();
}

bool StopFollowsCommit() { return stop_follows_commit.load() != 0; }

bool DeferStopSignal(int sig) {
  if (!committing.load()) return false;
  deferred_signal.store(sig);
  return true;
}

void RemoveTemporaries() {
  for (int i = 0; i < kSlots; ++i)
    if (slot_state[i].load() == 2) ::unlink(slot_path[i]);
}

void CheckDistinctFiles(const std::vector<FileRole>& files) {
  for (const auto& f : files) {
    bool direct = false;
    if (f.output) ResolveTarget(f.path, f.stream ? AtomicOutput::Kind::kStream : AtomicOutput::Kind::kFile, &direct);
  }
  std::vector<FileIdentity> ids;
  for (const auto& f : files) ids.push_back(Identify(f.path));
  for (size_t i = 0; i < files.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      if (!files[i].output && !files[j].output) continue;
      const bool same = (ids[i].exists && ids[j].exists && ids[i].dev == ids[j].dev && ids[i].ino == ids[j].ino) ||
                        ids[i].path == ids[j].path;
      if (!same) continue;
      const FileRole& out = files[i].output ? files[i] : files[j];
      const FileRole& other = files[i].output ? files[j] : files[i];
      throw UsageError(out.option + " and " + other.option + " name the same file (" + out.path +
                       (out.path == other.path ? "" : " and " + other.path) + "): " +
                       (other.output ? "two outputs cannot share a file"
                                     : "an output must never replace an input"));
    }
}

std::string AbsolutePath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf)) return buf;
  return path;
}

void WriteStdout(const std::string& text) {
  errno = 0;
  const size_t n = std::fwrite(text.data(), 1, text.size(), stdout);
  if (n != text.size() || std::fflush(stdout) != 0 || std::ferror(stdout))
    throw std::runtime_error(std::string("standard output: ") + (errno ? Errno() : "write failed"));
}

}  // namespace mm

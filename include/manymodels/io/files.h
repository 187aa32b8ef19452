// Output files appear whole or not at all, and never in place of an input.
//
// An AtomicOutput is written under a temporary name beside its target (`TARGET.tmp-HOST-PID`) and renamed into
// place by Commit() once it is complete, closed and synced; destroyed before that, it removes the temporary.
// Every live temporary is also listed where a signal handler can reach it (RemoveTemporaries), so SIGINT,
// SIGTERM or an abort leave nothing behind; the temporaries of processes on this host that are gone (kill -9)
// are removed by the next AtomicOutput of the same target.
#pragma once

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace mm {

// Bad input: the message follows the compiler convention "FILE:LINE:COLUMN: message".
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A command line that cannot work as given (exit code 2), e.g. an output naming an input.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class AtomicOutput {
 public:
  // kFile: the output must be a regular file (HDF5). kStream: text written front to back, so a target that
  // exists and is not a regular file (/dev/null, /dev/stdout, a FIFO) is written directly.
  enum class Kind { kFile, kStream };
  // Throws UsageError when the target's folder does not exist or the target cannot be an output file.
  // A symbolic link is followed: its target is replaced and the link stays.
  explicit AtomicOutput(std::string path, Kind kind = Kind::kFile);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  // Where to write: the temporary, or the target itself for a stream onto a device.
  const std::string& temp_path() const { return temp_; }
  const std::string& path() const { return path_; }  // as the user named it (for messages)
  // fsyncs the temporary and renames it into place; throws std::runtime_error naming path() on failure.
  void Commit();

 private:
  friend void CommitTogether(const std::vector<AtomicOutput*>& outputs);
  std::string path_, target_, temp_;
  bool direct_ = false, committed_ = false;
  int slot_ = -1;  // in the signal-safe list of temporaries
};

// Text written front to back to a file (atomically, as above) or, with an empty path, to stdout. Every write
// is checked; Finish() flushes, closes and commits. Destroyed unfinished, it leaves no file.
class TextOutput {
 public:
  explicit TextOutput(const std::string& path);
  ~TextOutput();
  TextOutput(const TextOutput&) = delete;
  TextOutput& operator=(const TextOutput&) = delete;
  void Write(const std::string& text);
  void Finish();

 private:
  [[noreturn]] void Fail();
  std::string name_;
  std::unique_ptr<AtomicOutput> out_;
  std::FILE* file_ = nullptr;
};

// Commits several outputs of one run so that they are replaced together or not at all: the existing targets
// are kept as backups until every rename has succeeded, and restored if one fails.
void CommitTogether(const std::vector<AtomicOutput*>& outputs);

// Removes every live temporary of this process. Async-signal-safe: for signal handlers and aborts.
void RemoveTemporaries();
// For a stop signal's handler (async-signal-safe): true when outputs are being committed together right now;
// the signal is then raised again as soon as the renames are done, and the handler should just return.
bool DeferStopSignal(int sig);
// Async-signal-safe: whether the stop signal being handled was deferred by a commit that put its outputs in
// place (then the outputs are the finished new ones, not the previous ones).
bool StopFollowsCommit();

// The files a command reads and writes, by option name. Throws UsageError naming both options when an output
// is the same file as an input or as another output (compared by device and inode when the file exists, by
// the real path of its folder when it does not, so `./a.h5`, `a.h5` and a link to it are one file), or when
// an output cannot be written where it is named (no such folder; a device for a file-only output).
struct FileRole {
  std::string option;  // "--lake"
  std::string path;
  bool output = false;
  bool stream = false;  // an output written front to back (CSV, JSON), which may go to a device
};
void CheckDistinctFiles(const std::vector<FileRole>& files);

// The absolute, symlink-free path of an existing file (for provenance); the path as given if it cannot be had.
std::string AbsolutePath(const std::string& path);

// This machine's host name (as MPI and Slurm report it).
std::string HostName();

// Writes all of `text` to stdout and flushes; throws std::runtime_error ("standard output: No space left on
// device") when it cannot.
void WriteStdout(const std::string& text);

}  // namespace mm

// Output files appear whole or not at all: they are written under a temporary name beside the target and
// renamed into place by Commit(). An AtomicOutput destroyed before Commit() removes the temporary.
#pragma once

#include <stdexcept>
#include <string>

namespace mm {

// Bad input: the message follows the compiler convention "FILE:LINE:COLUMN: message".
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class AtomicOutput {
 public:
  explicit AtomicOutput(std::string path);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;
  const std::string& temp_path() const { return temp_; }
  const std::string& path() const { return path_; }
  void Commit();  // rename(temp, path); throws std::runtime_error on failure

 private:
  std::string path_, temp_;
  bool committed_ = false;
};

}  // namespace mm

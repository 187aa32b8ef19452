#include "manymodels/io/files.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mm {

AtomicOutput::AtomicOutput(std::string path)
    : path_(std::move(path)), temp_(path_ + ".tmp-" + std::to_string(::getpid())) {}

AtomicOutput::~AtomicOutput() {
  if (!committed_) std::remove(temp_.c_str());
}

void AtomicOutput::Commit() {
  if (std::rename(temp_.c_str(), path_.c_str()) != 0)
    throw std::runtime_error(path_ + ": cannot rename " + temp_ + " into place: " + std::strerror(errno));
  committed_ = true;
}

}  // namespace mm

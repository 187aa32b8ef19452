#include "manymodels/io/spill.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace mm {

ScratchFile::ScratchFile(const std::string& folder, const std::string& purpose)
    : folder_(folder.empty() ? "." : folder), purpose_(purpose) {
  fd_ = ::open(folder_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd_ < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // A file system without O_TMPFILE (older NFS): a named file, unlinked at once.
    std::string name = folder_ + "/.manymodels-scratch-XXXXXX";
    fd_ = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd_ >= 0) ::unlink(name.c_str());
  }
  if (fd_ < 0) Fail("cannot create a scratch file");
}

ScratchFile::~ScratchFile() {
  if (fd_ >= 0) ::close(fd_);
}

void ScratchFile::Fail(const std::string& what) const {
  throw std::runtime_error(folder_ + ": " + what + " for the " + purpose_ +
                           " (--tmpdir chooses the folder): " + std::strerror(errno));
}

uint64_t ScratchFile::Append(const void* data, size_t n) {
  const uint64_t at = size_;
  Overwrite(at, data, n);
  size_ = at + n;
  return at;
}

void ScratchFile::Overwrite(uint64_t offset, const void* data, size_t n) {
  const auto* p = static_cast<const char*>(data);
  for (size_t done = 0; done < n;) {
    const ssize_t k = ::pwrite(fd_, p + done, n - done, static_cast<off_t>(offset + done));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      if (k == 0) errno = ENOSPC;
      Fail("cannot write the scratch file");
    }
    done += static_cast<size_t>(k);
  }
}

void ScratchFile::Read(uint64_t offset, void* data, size_t n) const {
  auto* p = static_cast<char*>(data);
  for (size_t done = 0; done < n;) {
    const ssize_t k = ::pread(fd_, p + done, n - done, static_cast<off_t>(offset + done));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      if (k == 0) errno = EIO;  // shorter than written: nothing else should touch an unnamed file
      Fail("cannot read the scratch file");
    }
    done += static_cast<size_t>(k);
  }
}

ScratchReader::ScratchReader(const ScratchFile& file, uint64_t offset, uint64_t size, size_t record,
                             size_t buffer)
    : file_(&file), next_(offset), stop_(offset + size), record_(record) {
  buf_.resize(std::max<size_t>(1, buffer / record) * record);
}

bool ScratchReader::Fill() {
  if (next_ == stop_) return false;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(buf_.size(), stop_ - next_));
  file_->Read(next_, buf_.data(), n);
  next_ += n;
  pos_ = 0;
  end_ = n;
  return true;
}

}  // namespace mm

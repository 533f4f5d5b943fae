#include "ha/wakeup.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace cpha {

Wakeup::Wakeup() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0)
    throw std::system_error(errno, std::generic_category(), "eventfd");
}

Wakeup::~Wakeup() { close(fd_); }

void Wakeup::Signal() {
  uint64_t one = 1;
  // A full counter already means "woken"; nothing to do on failure.
  [[maybe_unused]] ssize_t written = write(fd_, &one, sizeof(one));
}

void Wakeup::Drain() {
  uint64_t count = 0;
  [[maybe_unused]] ssize_t read_bytes = read(fd_, &count, sizeof(count));
}

}  // namespace cpha

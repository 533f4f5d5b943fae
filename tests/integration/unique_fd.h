// UniqueFd: sole owner of a file descriptor; closes it on destruction.
//
// Thread-safety: like any value; one owner at a time.

#ifndef CPHA_TESTS_INTEGRATION_UNIQUE_FD_H_
#define CPHA_TESTS_INTEGRATION_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace cpha::integration {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  // The descriptor, or -1 when there is none.
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

  // Closes the current descriptor (if any) and owns `fd` instead.
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_UNIQUE_FD_H_

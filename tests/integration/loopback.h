// Loopback helpers for the integration tests: a free port, and a TCP
// listener that accepts connections into its backlog but never answers, so
// that a client hangs exactly as it would on a silent database server.
//
// Thread-safety: FreeLoopbackPort may be called from any thread; a
// SilentListener is owned by one test.

#ifndef CPHA_TESTS_INTEGRATION_LOOPBACK_H_
#define CPHA_TESTS_INTEGRATION_LOOPBACK_H_

#include <memory>
#include <string>

#include "ha/status.h"
#include "tests/integration/unique_fd.h"

namespace cpha::integration {

// A port on 127.0.0.1 that was free a moment ago: the kernel picks it for a
// socket bound to port 0, which is then closed. Returns 0 on failure.
int FreeLoopbackPort();

class SilentListener {
 public:
  // Binds 127.0.0.1 on a port the kernel picks and listens; fails with the
  // errno text.
  static StatusOr<std::unique_ptr<SilentListener>> Start();

  int port() const { return port_; }

 private:
  struct PassKey {};

 public:
  // Use Start(); public only for std::make_unique.
  SilentListener(PassKey, UniqueFd fd, int port)
      : fd_(std::move(fd)), port_(port) {}

 private:
  UniqueFd fd_;
  int port_;
};

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_LOOPBACK_H_

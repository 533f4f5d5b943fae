#include "tests/integration/loopback.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace cpha::integration {
namespace {

// A socket bound to 127.0.0.1 on a port the kernel picks; sets *port.
UniqueFd BindLoopback(int* port) {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return fd;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) !=
          0) {
    return UniqueFd();
  }
  *port = ntohs(address.sin_port);
  return fd;
}

}  // namespace

int FreeLoopbackPort() {
  int port = 0;
  UniqueFd fd = BindLoopback(&port);
  return fd.valid() ? port : 0;
}

StatusOr<std::unique_ptr<SilentListener>> SilentListener::Start() {
  int port = 0;
  UniqueFd fd = BindLoopback(&port);
  if (!fd.valid() || listen(fd.get(), 64) != 0) {
    return Status::Error(
        ErrorKind::kConnection,
        std::string("cannot listen on 127.0.0.1: ") + std::strerror(errno));
  }
  return std::make_unique<SilentListener>(PassKey{}, std::move(fd), port);
}

}  // namespace cpha::integration

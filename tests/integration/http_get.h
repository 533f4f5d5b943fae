// HttpGet: a small blocking HTTP/1.1 GET over loopback sockets, for probing
// the sidecar's endpoints the way a kubelet or Prometheus would.
//
// Thread-safety: both functions may be called from several threads at once.

#ifndef CPHA_TESTS_INTEGRATION_HTTP_GET_H_
#define CPHA_TESTS_INTEGRATION_HTTP_GET_H_

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cpha::integration {

struct HttpResult {
  // Empty when a complete response arrived; otherwise what went wrong
  // (refused, timed out, malformed), and status is 0.
  std::string error;
  int status = 0;
  std::string content_type;
  std::string body;
  // When the request's last byte was sent and when the response's last
  // byte arrived (the epoch of the clock when the request was never sent).
  std::chrono::steady_clock::time_point sent_at;
  std::chrono::steady_clock::time_point received_at;
  // From the start of the connect to the last byte of the body.
  std::chrono::microseconds elapsed{0};

  bool ok() const { return error.empty(); }
  // The body parsed as JSON; a discarded value when it is not JSON.
  nlohmann::json Json() const;
  // "GET <path> -> 200 in 1.2 ms: <body>" for failure messages.
  std::string Describe(const std::string& path) const;
};

// GETs `path` from 127.0.0.1:port with `Connection: close`. Never throws;
// a connect, send or read failure or the timeout ends in result.error.
HttpResult HttpGet(
    int port, const std::string& path,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

// GETs `path` from every port at once: connects to all first, then sends
// the requests back to back, then reads the answers, so that the answers
// describe as nearly one instant as the servers allow. One result per port,
// in the order of `ports`.
std::vector<HttpResult> HttpGetAll(
    const std::vector<int>& ports, const std::string& path,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_HTTP_GET_H_

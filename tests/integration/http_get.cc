#include "tests/integration/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "tests/integration/unique_fd.h"

namespace cpha::integration {
namespace {

using Clock = std::chrono::steady_clock;

// One request in flight.
struct Exchange {
  int port = 0;
  UniqueFd fd;
  std::string response;
  // Set once the exchange failed; it then takes no further part.
  std::string error;
  bool done = false;
  Clock::time_point started;
};

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits until fd is ready for `events`; an error text on timeout.
std::string WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd pfd{fd, events, 0};
    int ready = poll(&pfd, 1, MillisLeft(deadline));
    if (ready > 0) return "";
    if (ready == 0) return "timed out";
    if (errno != EINTR) return std::strerror(errno);
  }
}

std::string Connect(Exchange& exchange, Clock::time_point deadline) {
  exchange.fd.Reset(
      socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!exchange.fd.valid())
    return std::string("socket: ") + std::strerror(errno);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(exchange.port));
  if (connect(exchange.fd.get(), reinterpret_cast<sockaddr*>(&address),
              sizeof(address)) == 0) {
    return "";
  }
  if (errno != EINPROGRESS) return std::strerror(errno);
  std::string waited = WaitFor(exchange.fd.get(), POLLOUT, deadline);
  if (!waited.empty()) return "connect " + waited;
  int error = 0;
  socklen_t length = sizeof(error);
  getsockopt(exchange.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
  return error == 0 ? "" : std::strerror(error);
}

std::string SendAll(const UniqueFd& fd, const std::string& data,
                    Clock::time_point deadline) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n =
        send(fd.get(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (errno == EAGAIN) {
      std::string waited = WaitFor(fd.get(), POLLOUT, deadline);
      if (!waited.empty()) return "send " + waited;
    } else if (errno != EINTR) {
      return std::strerror(errno);
    }
  }
  return "";
}

// Reads what is available; marks the exchange done at end of file (we sent
// Connection: close).
void ReadSome(Exchange& exchange) {
  char buffer[16384];
  for (;;) {
    ssize_t n = recv(exchange.fd.get(), buffer, sizeof(buffer), 0);
    if (n > 0) {
      exchange.response.append(buffer, static_cast<size_t>(n));
    } else if (n == 0) {
      exchange.done = true;
      return;
    } else if (errno == EAGAIN) {
      return;
    } else if (errno != EINTR) {
      exchange.error = std::strerror(errno);
      return;
    }
  }
}

// Reads every exchange that is still open until all are done or failed, or
// the deadline passes.
void ReadAll(std::vector<Exchange>& exchanges, std::vector<HttpResult>& results,
             Clock::time_point deadline) {
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<size_t> which;
    for (size_t i = 0; i < exchanges.size(); ++i) {
      if (exchanges[i].done || !exchanges[i].error.empty()) continue;
      fds.push_back({exchanges[i].fd.get(), POLLIN, 0});
      which.push_back(i);
    }
    if (fds.empty()) return;
    int ready = poll(fds.data(), fds.size(), MillisLeft(deadline));
    if (ready == 0) {
      for (size_t i : which) exchanges[i].error = "read timed out";
      return;
    }
    if (ready < 0 && errno != EINTR) {
      for (size_t i : which) exchanges[i].error = std::strerror(errno);
      return;
    }
    for (size_t k = 0; k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      ReadSome(exchanges[which[k]]);
      if (exchanges[which[k]].done) {
        results[which[k]].received_at = Clock::now();
      }
    }
  }
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(c));
  return text;
}

// Splits a complete HTTP/1.1 response into the result's fields.
std::string Parse(const std::string& response, HttpResult& result) {
  size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos) return "no end of headers in response";
  std::istringstream head(response.substr(0, head_end));
  std::string line, version;
  std::getline(head, line);
  std::istringstream status_line(line);
  if (!(status_line >> version >> result.status) ||
      version.rfind("HTTP/1.", 0) != 0) {
    return "malformed status line: " + line;
  }
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (Lower(line.substr(0, colon)) == "content-type") {
      size_t value = line.find_first_not_of(' ', colon + 1);
      result.content_type =
          value == std::string::npos ? "" : line.substr(value);
    }
  }
  result.body = response.substr(head_end + 4);
  return "";
}

}  // namespace

nlohmann::json HttpResult::Json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string HttpResult::Describe(const std::string& path) const {
  std::ostringstream text;
  text << "GET " << path << " -> ";
  if (!ok()) {
    text << "error: " << error;
  } else {
    text << status << " in " << elapsed.count() / 1000.0 << " ms: " << body;
  }
  return text.str();
}

HttpResult HttpGet(int port, const std::string& path,
                   std::chrono::milliseconds timeout) {
  return HttpGetAll({port}, path, timeout).front();
}

std::vector<HttpResult> HttpGetAll(const std::vector<int>& ports,
                                   const std::string& path,
                                   std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  std::vector<Exchange> exchanges(ports.size());
  std::vector<HttpResult> results(ports.size());

  // Connect to all; the servers start work only when a request arrives.
  for (size_t i = 0; i < ports.size(); ++i) {
    exchanges[i].port = ports[i];
    exchanges[i].started = Clock::now();
    exchanges[i].error = Connect(exchanges[i], deadline);
  }

  // Send all requests back to back.
  for (size_t i = 0; i < ports.size(); ++i) {
    if (!exchanges[i].error.empty()) continue;
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                          std::to_string(ports[i]) +
                          "\r\nConnection: close\r\n\r\n";
    exchanges[i].error = SendAll(exchanges[i].fd, request, deadline);
    results[i].sent_at = Clock::now();
  }

  ReadAll(exchanges, results, deadline);
  for (size_t i = 0; i < ports.size(); ++i) {
    HttpResult& result = results[i];
    std::string failed = exchanges[i].error;
    if (failed.empty()) failed = Parse(exchanges[i].response, result);
    if (!failed.empty()) {
      result.error = failed;
      result.status = 0;
    }
    Clock::time_point end =
        exchanges[i].done ? result.received_at : Clock::now();
    result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
        end - exchanges[i].started);
  }
  return results;
}

}  // namespace cpha::integration

#include "exporter/http_client.h"

#include <civetweb.h>

#include <cctype>
#include <charconv>
#include <memory>
#include <string_view>

namespace cpha {
namespace {

struct ConnectionCloser {
  void operator()(mg_connection* connection) const {
    mg_close_connection(connection);
  }
};

// The length of the host at the start of `text`: "[v6]" of hex digits and
// ':', or a name of letters, digits, '.' and '-'; 0 when there is none.
size_t HostLength(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close == 1) return 0;
    std::string_view inside = text.substr(1, close - 1);
    if (inside.find_first_not_of("0123456789abcdefABCDEF:") !=
        std::string_view::npos) {
      return 0;
    }
    return close + 1;
  }
  size_t length = 0;
  while (length < text.size()) {
    const char c = text[length];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') {
      break;
    }
    ++length;
  }
  return length;
}

}  // namespace

// Not std::regex: its matcher recurses once per character, and a long
// --orchestrator-url (130 KB) overflowed the stack.
StatusOr<HttpTarget> ParseBaseUrl(const std::string& url) {
  const Status malformed = Status::Error(
      ErrorKind::kInvalidArgument,
      "--orchestrator-url must look like http://host:port, got '" +
          url.substr(0, 200) + "'");
  HttpTarget target;
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0) {
    target.tls = true;
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else {
    return malformed;
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);

  size_t host_end = HostLength(rest);
  if (host_end == 0) return malformed;
  target.host = std::string(rest.substr(0, host_end));
  rest.remove_prefix(host_end);
  if (target.host.front() == '[') {
    target.host = target.host.substr(1, target.host.size() - 2);
  }

  target.port = target.tls ? 443 : 80;
  if (rest.empty()) return target;
  std::string_view port = rest.substr(1);
  if (rest.front() != ':' || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos) {
    return malformed;
  }
  std::from_chars(port.data(), port.data() + port.size(), target.port);
  if (target.port < 1 || target.port > 65535) {
    return Status::Error(ErrorKind::kInvalidArgument,
                         "--orchestrator-url: port out of range");
  }
  return target;
}

StatusOr<HttpAnswer> HttpCall(const std::string& base_url,
                              const std::string& method,
                              const std::string& path, const std::string& body,
                              const std::string& bearer_token, int timeout_ms) {
  StatusOr<HttpTarget> target = ParseBaseUrl(base_url);
  if (!target.ok()) return target.status();

  char error[256] = {};
  std::unique_ptr<mg_connection, ConnectionCloser> connection(
      mg_connect_client(target->host.c_str(), target->port, target->tls ? 1 : 0,
                        error, sizeof(error)));
  if (!connection) {
    return Status::Error(ErrorKind::kConnection,
                         "cannot reach " + base_url + ": " +
                             (error[0] ? error : "connection failed"));
  }

  std::string request = method + " " + path +
                        " HTTP/1.1\r\nHost: " + target->host +
                        "\r\nConnection: close\r\n";
  if (!bearer_token.empty()) {
    request += "Authorization: Bearer " + bearer_token + "\r\n";
  }
  request += "Content-Type: application/json\r\nContent-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
  mg_write(connection.get(), request.data(), request.size());

  if (mg_get_response(connection.get(), error, sizeof(error), timeout_ms) < 0) {
    return Status::Error(
        ErrorKind::kConnection,
        "no answer from " + base_url + ": " + (error[0] ? error : "timeout"));
  }
  HttpAnswer answer;
  answer.status = mg_get_response_info(connection.get())->status_code;
  char buffer[4096];
  for (;;) {
    int read = mg_read(connection.get(), buffer, sizeof(buffer));
    if (read <= 0) break;
    answer.body.append(buffer, static_cast<size_t>(read));
  }
  return answer;
}

}  // namespace cpha

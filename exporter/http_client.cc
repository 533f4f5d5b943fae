#include "exporter/http_client.h"

#include <civetweb.h>

#include <charconv>
#include <memory>
#include <regex>

namespace cpha {
namespace {

struct ConnectionCloser {
  void operator()(mg_connection* connection) const {
    mg_close_connection(connection);
  }
};

struct Target {
  bool tls = false;
  std::string host;
  int port = 0;
};

StatusOr<Target> ParseBaseUrl(const std::string& url) {
  static const std::regex kUrl(
      R"(^(https?)://(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+)(?::([0-9]{1,5}))?/?$)");
  std::smatch match;
  if (!std::regex_match(url, match, kUrl)) {
    return Status::Error(ErrorKind::kInvalidArgument,
                         "--orchestrator-url must look like "
                         "http://host:port, got '" +
                             url + "'");
  }
  Target target;
  target.tls = match[1] == "https";
  target.host = match[2];
  if (target.host.front() == '[') {
    target.host = target.host.substr(1, target.host.size() - 2);
  }
  target.port = target.tls ? 443 : 80;
  if (match[3].matched) target.port = std::stoi(match[3]);
  if (target.port < 1 || target.port > 65535) {
    return Status::Error(ErrorKind::kInvalidArgument,
                         "--orchestrator-url: port out of range");
  }
  return target;
}

}  // namespace

StatusOr<HttpAnswer> HttpCall(const std::string& base_url,
                              const std::string& method,
                              const std::string& path, const std::string& body,
                              const std::string& bearer_token, int timeout_ms) {
  StatusOr<Target> target = ParseBaseUrl(base_url);
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

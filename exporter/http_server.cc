#include "exporter/http_server.h"

#include <civetweb.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string_view>

#include "ha/log.h"

namespace cpha {
namespace {

constexpr const char* kComponent = "http";

// CivetWeb reports start-up problems through this callback; the text is
// kept so that Start can return it as its one-line error.
int KeepStartupMessage(const mg_connection* /*connection*/,
                       const char* message) {
  Log(LogLevel::kDebug, kComponent, "civetweb", {{"message", message}});
  return 1;  // handled: CivetWeb prints nothing itself
}

void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(MG_FEATURES_TLS); });
}

std::string ListeningPorts(const HttpServerOptions& options) {
  std::string host = options.host == "0.0.0.0" ? "" : options.host;
  std::string port = std::to_string(options.port);
  if (!options.tls_cert_file.empty()) port += "s";
  if (host.empty()) return port;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void Send(mg_connection* connection, const HttpResponse& response) {
  std::string head =
      "HTTP/1.1 " + std::to_string(response.status) + " " +
      mg_get_response_code_text(connection, response.status) +
      "\r\nContent-Type: " + response.content_type +
      "\r\nContent-Length: " + std::to_string(response.body.size()) +
      "\r\nCache-Control: no-store\r\n";
  for (const auto& [name, value] : response.headers) {
    head += name + ": " + value + "\r\n";
  }
  head += "\r\n";
  mg_write(connection, head.data(), head.size());
  if (!response.omit_body) {
    mg_write(connection, response.body.data(), response.body.size());
  }
}

}  // namespace

StatusOr<std::string> DecodeRequestPath(std::string_view raw) {
  std::string path;
  path.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      path += raw[i];
      continue;
    }
    int high = i + 1 < raw.size() ? HexValue(raw[i + 1]) : -1;
    int low = i + 2 < raw.size() ? HexValue(raw[i + 2]) : -1;
    if (high < 0 || low < 0) {
      return Status::Error(ErrorKind::kInvalidArgument,
                           "the path is not valid percent-encoding");
    }
    path += static_cast<char>(high * 16 + low);
    i += 2;
  }
  // CivetWeb's own decoding ended the path at an encoded NUL, so that
  // "/metrics%00.txt" was "/metrics"; no route holds one.
  if (path.find('\0') != std::string::npos) {
    return Status::Error(ErrorKind::kInvalidArgument,
                         "the path holds a NUL byte");
  }
  return path;
}

HttpResponse JsonError(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  response.body = nlohmann::json{{"error", message}}.dump();
  return response;
}

void HttpServer::ContextDeleter::operator()(mg_context* context) const {
  mg_stop(context);
}

HttpServer::HttpServer(PassKey, const HttpServerOptions& options,
                       std::vector<cpha::Route> routes)
    : options_(options), routes_(std::move(routes)) {}

HttpServer::~HttpServer() = default;

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const HttpServerOptions& options, std::vector<cpha::Route> routes) {
  InitLibraryOnce();
  auto server =
      std::make_unique<HttpServer>(PassKey{}, options, std::move(routes));

  const std::string ports = ListeningPorts(options);
  const std::string threads = std::to_string(options.threads);
  const std::string timeout = std::to_string(options.request_timeout_ms);
  std::vector<const char*> config = {
      "listening_ports",
      ports.c_str(),
      "num_threads",
      threads.c_str(),
      "request_timeout_ms",
      timeout.c_str(),
      "enable_keep_alive",
      "yes",
      "keep_alive_timeout_ms",
      "500",
      "max_request_size",
      "16384",
      "decode_url",
      "no",
      // Answers go out as a head and a body write: without this, a
      // kept-alive scraper's delayed ACK holds the body back ~40 ms.
      "tcp_nodelay",
      "1",
  };
  if (!options.tls_cert_file.empty()) {
    config.push_back("ssl_certificate");
    config.push_back(options.tls_cert_file.c_str());
  }
  config.push_back(nullptr);

  mg_callbacks callbacks{};
  callbacks.log_message = KeepStartupMessage;
  mg_init_data init{&callbacks, server.get(), config.data()};
  char error_text[256] = {};
  unsigned error_code = 0;
  mg_error_data error{&error_code, error_text, sizeof(error_text)};

  server->context_.reset(mg_start2(&init, &error));
  if (!server->context_) {
    return Status::Error(ErrorKind::kInvalidArgument,
                         "--listen: cannot serve on " + ports + ": " +
                             (error_text[0] ? error_text : "unknown error"));
  }
  mg_set_request_handler(server->context_.get(), "**", &HttpServer::Dispatch,
                         server.get());

  mg_server_port bound[4] = {};
  int count = mg_get_server_ports(server->context_.get(), 4, bound);
  server->port_ = count > 0 ? bound[0].port : options.port;
  return server;
}

int HttpServer::Dispatch(mg_connection* connection, void* self) {
  auto* server = static_cast<HttpServer*>(self);
  HttpResponse response;
  try {
    response = server->Answer(connection);
  } catch (const std::exception& error) {
    Log(LogLevel::kError, kComponent, "handler failed",
        {{"error", error.what()}});
    response = JsonError(500, "internal error");
  } catch (...) {
    response = JsonError(500, "internal error");
  }
  Send(connection, response);
  return response.status;
}

HttpResponse HttpServer::Answer(mg_connection* connection) {
  const mg_request_info* info = mg_get_request_info(connection);
  HttpRequest request;
  request.method = info->request_method ? info->request_method : "";
  // CivetWeb leaves the path encoded (decode_url=no); we decode strictly.
  StatusOr<std::string> path =
      DecodeRequestPath(info->local_uri ? info->local_uri : "");
  if (!path.ok()) return JsonError(400, path.status().message());
  request.path = std::move(path.value());
  request.query = info->query_string ? info->query_string : "";
  const char* authorization = mg_get_header(connection, "Authorization");
  request.authorization = authorization ? authorization : "";

  // HTTP/1.1 requires Host (RFC 9112, section 3.2); HTTP/1.0 does not.
  const std::string_view version = info->http_version ? info->http_version : "";
  if (version == "1.1" && mg_get_header(connection, "Host") == nullptr) {
    return JsonError(400, "HTTP/1.1 request without Host");
  }

  // A GET or HEAD carries no body; one that does is refused rather than
  // answered, so that no proxy and this server disagree on where the next
  // request starts.
  const char* chunked = mg_get_header(connection, "Transfer-Encoding");
  const bool has_body = info->content_length > 0 || chunked != nullptr;
  if (has_body && (request.method == "GET" || request.method == "HEAD")) {
    return JsonError(400, "a " + request.method + " request carries no body");
  }

  if (info->content_length > static_cast<long long>(options_.max_body_bytes)) {
    return JsonError(413, "request body larger than " +
                              std::to_string(options_.max_body_bytes) +
                              " bytes");
  }
  char buffer[4096];
  for (;;) {
    int read = mg_read(connection, buffer, sizeof(buffer));
    if (read == 0) break;
    if (read < 0) {
      // CivetWeb could not read the body: a broken chunk or a short read.
      return JsonError(400, "malformed or truncated request body");
    }
    request.body.append(buffer, static_cast<size_t>(read));
    if (request.body.size() > options_.max_body_bytes) {
      return JsonError(413, "request body larger than " +
                                std::to_string(options_.max_body_bytes) +
                                " bytes");
    }
  }
  return Resolve(request);
}

HttpResponse HttpServer::Resolve(const HttpRequest& request) const {
  std::set<std::string> allowed;
  for (const cpha::Route& route : routes_) {
    if (route.path != request.path) continue;
    if (route.method == request.method) return route.handler(request);
    if (route.method == "GET" && request.method == "HEAD") {
      HttpResponse head = route.handler(request);
      head.omit_body = true;
      return head;
    }
    allowed.insert(route.method);
  }
  if (allowed.empty()) return JsonError(404, "no such path");

  std::string allow;
  for (const std::string& method : allowed) {
    allow += (allow.empty() ? "" : ", ") + method;
  }
  HttpResponse response =
      JsonError(405, "method " + request.method + " not allowed; use " + allow);
  response.headers.emplace_back("Allow", allow);
  return response;
}

}  // namespace cpha

#include "exporter/http_server.h"

#include <civetweb.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

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
      "listening_ports",       ports.c_str(),
      "num_threads",           threads.c_str(),
      "request_timeout_ms",    timeout.c_str(),
      "enable_keep_alive",     "yes",
      "keep_alive_timeout_ms", "500",
      "max_request_size",      "16384",
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
  request.path = info->local_uri ? info->local_uri : "";
  const char* raw = info->request_uri ? info->request_uri : "";
  if (std::string_view(raw).find("%00") != std::string_view::npos) {
    return JsonError(400, "the path holds an encoded NUL byte");
  }
  request.query = info->query_string ? info->query_string : "";
  const char* authorization = mg_get_header(connection, "Authorization");
  request.authorization = authorization ? authorization : "";

  if (info->content_length > static_cast<long long>(options_.max_body_bytes)) {
    return JsonError(413, "request body larger than " +
                              std::to_string(options_.max_body_bytes) +
                              " bytes");
  }
  char buffer[4096];
  for (;;) {
    int read = mg_read(connection, buffer, sizeof(buffer));
    if (read <= 0) break;
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

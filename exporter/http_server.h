// HttpServer: the sidecar's one CivetWeb server. It owns the CivetWeb
// context and answers every request through a table of exact-path routes.
// Unknown paths get 404, known paths with another method 405 (with Allow),
// oversized bodies 413, all as JSON. A handler that throws is answered 500;
// nothing thrown crosses into CivetWeb. No file is ever served from disk.
//
// Thread-safety: handlers run on CivetWeb's worker threads, several at once;
// they must only read shared state that is itself thread-safe.

#ifndef CPHA_EXPORTER_HTTP_SERVER_H_
#define CPHA_EXPORTER_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ha/status.h"

struct mg_context;
struct mg_connection;

namespace cpha {

struct HttpRequest {
  std::string method;
  std::string path;
  std::string query;
  std::string body;
  std::string authorization;  // the Authorization header, or empty
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool omit_body = false;  // HEAD: headers (with the length) only
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct Route {
  std::string method;  // "GET", "POST"
  std::string path;    // exact path, e.g. "/v1/health/leader"
  HttpHandler handler;
};

struct HttpServerOptions {
  std::string host;  // empty or "0.0.0.0" for every interface
  int port = 0;      // 0: the kernel picks one; port() tells which
  int threads = 8;
  std::string tls_cert_file;  // when set, HTTPS
  size_t max_body_bytes = 64 * 1024;
  int request_timeout_ms = 2000;
};

// The request path as the routes see it, with every %XX decoded. Fails
// (kInvalidArgument, the message of the 400 answer) when a '%' is not
// followed by two hex digits or when the decoded path holds a NUL byte.
StatusOr<std::string> DecodeRequestPath(std::string_view raw);

// A JSON error body {"error": message} with the given status.
HttpResponse JsonError(int status, const std::string& message);

class HttpServer {
  struct PassKey {};

 public:
  // Binds and starts serving. Fails (kInvalidArgument) when the address can
  // not be bound, with CivetWeb's reason.
  static StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, std::vector<Route> routes);

  // Stops accepting, waits for running handlers, frees the context.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the kernel's choice when started with port 0).
  int port() const { return port_; }

  // Use Start(); public only for std::make_unique.
  HttpServer(PassKey, const HttpServerOptions& options,
             std::vector<cpha::Route> routes);

 private:
  static int Dispatch(mg_connection* connection, void* self);
  HttpResponse Answer(mg_connection* connection);
  HttpResponse Resolve(const HttpRequest& request) const;

  const HttpServerOptions options_;
  const std::vector<cpha::Route> routes_;
  int port_ = 0;

  struct ContextDeleter {
    void operator()(mg_context* context) const;
  };
  std::unique_ptr<mg_context, ContextDeleter> context_;
};

}  // namespace cpha

#endif  // CPHA_EXPORTER_HTTP_SERVER_H_

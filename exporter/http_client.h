// A small blocking HTTP client for the operator CLI, on CivetWeb's client
// API. One request per connection; every call bounded by a timeout.
//
// Thread-safety: free function; safe from any thread.

#ifndef CPHA_EXPORTER_HTTP_CLIENT_H_
#define CPHA_EXPORTER_HTTP_CLIENT_H_

#include <string>

#include "ha/status.h"

namespace cpha {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// Where a base URL points.
struct HttpTarget {
  bool tls = false;
  std::string host;  // without the brackets of an IPv6 address
  int port = 0;
};

// Parses "http://host[:port][/]" or "https://...", where host is a name,
// an IPv4 address or a bracketed IPv6 address. kInvalidArgument otherwise.
StatusOr<HttpTarget> ParseBaseUrl(const std::string& url);

// `base_url` is "http://host:port" (or https://); `path` starts with '/'.
// Returns kConnection when the node can not be reached, kInvalidArgument
// for a malformed URL.
StatusOr<HttpAnswer> HttpCall(const std::string& base_url,
                              const std::string& method,
                              const std::string& path, const std::string& body,
                              const std::string& bearer_token, int timeout_ms);

}  // namespace cpha

#endif  // CPHA_EXPORTER_HTTP_CLIENT_H_

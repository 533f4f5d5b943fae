// CurlJson: one HTTP request through curl (any method, a body, an
// Authorization header), for tests of the admin API, whose answers are JSON.
//
// Thread-safety: free function; safe from any thread.

#ifndef CPHA_TESTS_INTEGRATION_CURL_REQUEST_H_
#define CPHA_TESTS_INTEGRATION_CURL_REQUEST_H_

#include <nlohmann/json.hpp>
#include <string>

namespace cpha::integration {

struct JsonAnswer {
  int status = 0;       // 0 when curl got no answer
  nlohmann::json body;  // discarded when the body is not JSON
};

// Sends `method` to http://127.0.0.1:`port``path` with `body`, and with
// "Authorization: `authorization`" unless it is empty.
JsonAnswer CurlJson(int port, const std::string& method,
                    const std::string& path, const std::string& body,
                    const std::string& authorization);

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_CURL_REQUEST_H_

// ConnParams: the libpq connection parameters parsed from --postgres-url,
// which may be a URI (postgresql://user:pw@h1:p1,h2:p2/db?...) or a
// key=value string. The sidecar adds its own keywords (application_name,
// keepalives, timeouts) on top of what the operator gave.
//
// The password stays inside; Redacted() is the only form that may be logged
// or shown.
//
// Thread-safety: a value type; const methods are safe from any thread.

#ifndef CPHA_HA_CONN_PARAMS_H_
#define CPHA_HA_CONN_PARAMS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ha/status.h"

namespace cpha {

class ConnParams {
 public:
  // No parameters: libpq's defaults and environment (PGHOST, ...).
  ConnParams() = default;

  // Parses a URI or key=value connection string with libpq's own parser.
  // On failure the Status message never repeats any part of the input, since
  // it may contain a password.
  static StatusOr<ConnParams> Parse(std::string_view text);

  // Sets `keyword` to `value`, replacing what the operator gave.
  void Set(std::string_view keyword, std::string_view value);

  // The value of `keyword`, or empty when unset.
  std::string Get(std::string_view keyword) const;

  // "host=a,b port=1,2 dbname=d user=u": never the password.
  std::string Redacted() const;

  // Null-terminated keyword and value arrays for PQconnectStartParams; valid
  // while this object lives and is not modified.
  struct CArrays {
    std::vector<const char*> keywords;
    std::vector<const char*> values;
  };
  CArrays ToCArrays() const;

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

}  // namespace cpha

#endif  // CPHA_HA_CONN_PARAMS_H_

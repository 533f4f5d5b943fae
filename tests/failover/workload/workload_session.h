// WorkloadSession: the one database session of a cp-ha-workload subcommand,
// a cpha::PgSession (the project's only owner of a PGconn) set up so that
// nothing waits without bound when the network drops packets silently:
//   - libpq connect_timeout, TCP keepalives and tcp_user_timeout on the
//     connection;
//   - a client-side bound on every statement (PgSession closes the session
//     when it passes);
//   - a server-side statement_timeout, longer than the client-side bound,
//     so that the client always gives up first. A COMMIT whose wait for the
//     synchronous standby the server cancels would otherwise come back as a
//     success with only a WARNING, and be acknowledged without being
//     replicated.
//
// Thread-safety: a session belongs to one thread.

#ifndef CPHA_TESTS_FAILOVER_WORKLOAD_WORKLOAD_SESSION_H_
#define CPHA_TESTS_FAILOVER_WORKLOAD_WORKLOAD_SESSION_H_

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "ha/pg_session.h"
#include "ha/status.h"

namespace cpha::workload {

struct DbTimeouts {
  // Bound on opening the connection (all hosts of a multi-host URL).
  std::chrono::milliseconds connect{2000};
  // Client-side bound on each statement.
  std::chrono::milliseconds statement{2000};
};

// How much longer the server-side statement_timeout is than the client-side
// bound.
inline constexpr std::chrono::milliseconds kServerTimeoutSlack{1000};

class WorkloadSession {
 public:
  // Parses `url` (URI or key=value, possibly multi-host) and adds the
  // timeout and keepalive keywords. Fails with kInvalidArgument, without
  // repeating the URL, when it does not parse. Does not connect.
  static StatusOr<std::unique_ptr<WorkloadSession>> Create(
      const std::string& url, const std::string& application_name,
      const DbTimeouts& timeouts);

  // Connects unless connected, then sets statement_timeout. Errors:
  // kConnection or kTimeout (the session stays closed).
  Status EnsureConnected();

  // Runs one statement with text parameters, bounded by the statement
  // timeout. Errors as PgSession::Query: kConnection and kTimeout close the
  // session, kQuery (with the SQLSTATE) leaves it open.
  StatusOr<PgResult> Query(std::string_view sql,
                           const QueryParams& params = {});
  Status Exec(std::string_view sql, const QueryParams& params = {});

  // Closes the connection; the next EnsureConnected opens a new one.
  void Close() { session_.Close(); }
  bool connected() const { return session_.connected(); }
  // "host:port" of the server reached; empty when not connected.
  std::string server() const { return session_.server(); }
  // The connection parameters without the password.
  const std::string& redacted_url() const { return redacted_url_; }

 private:
  struct PassKey {};

 public:
  // Use Create(); public only for std::make_unique.
  WorkloadSession(PassKey, ConnParams params, std::string application_name,
                  const DbTimeouts& timeouts);

 private:
  // Constant after construction.
  const DbTimeouts timeouts_;
  const std::string redacted_url_;

  PgSession session_;
};

}  // namespace cpha::workload

#endif  // CPHA_TESTS_FAILOVER_WORKLOAD_WORKLOAD_SESSION_H_

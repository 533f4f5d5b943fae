// PgSession: one libpq connection with every call bounded by a timeout.
//
// Connect and Query use libpq's asynchronous API and poll(2), so a server
// that stops answering (a partition that drops packets) costs at most the
// timeout, never a hung thread. A query that times out closes the session:
// its server-side state (an advisory lock, an open transaction) is then the
// server's to clean up, which is what the elector relies on.
//
// PgResult owns one PGresult; PgSession owns one PGconn. No other type frees
// either handle.
//
// Thread-safety: a PgSession belongs to one thread. PgResult is movable and
// may be handed to another thread.

#ifndef CPHA_HA_PG_SESSION_H_
#define CPHA_HA_PG_SESSION_H_

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ha/conn_params.h"
#include "ha/status.h"

namespace cpha {

class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result) {}

  int rows() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int column) const {
    return PQgetisnull(result_.get(), row, column) != 0;
  }
  // The text value; empty for NULL.
  std::string Text(int row, int column) const {
    return PQgetvalue(result_.get(), row, column);
  }
  // 0 for NULL or a value that is not an integer.
  int64_t Int(int row, int column) const;
  // True only for a non-NULL "t".
  bool Bool(int row, int column) const;

 private:
  struct Deleter {
    void operator()(PGresult* result) const { PQclear(result); }
  };
  std::unique_ptr<PGresult, Deleter> result_;
};

using Millis = std::chrono::milliseconds;
using QueryParams = std::vector<std::optional<std::string>>;

class PgSession {
 public:
  // `application_name` is truncated by the server to 63 bytes.
  PgSession(ConnParams params, std::string application_name);
  ~PgSession();

  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  // Opens the connection (trying each host of a multi-host URL as libpq
  // does). Returns kConnection or kTimeout on failure. Closes any previous
  // connection first.
  Status Connect(Millis timeout);

  bool connected() const { return conn_ != nullptr; }

  // Closes the connection; the server ends the session and frees its
  // session-level locks.
  void Close();

  // Runs one statement with text parameters ($1, $2, ... ; nullopt is NULL).
  // Errors: kConnection (session closed), kTimeout (session closed), kQuery
  // (server error; the session stays open).
  StatusOr<PgResult> Query(std::string_view sql, const QueryParams& params,
                           Millis timeout);

  // Runs a statement that returns no rows of interest.
  Status Exec(std::string_view sql, Millis timeout,
              const QueryParams& params = {});

  // Runs a script of several statements without parameters (a migration).
  Status ExecScript(std::string_view script, Millis timeout);

  // Sleeps until `until` while watching the idle session, so that a server
  // that ends it (pg_terminate_backend, shutdown) is noticed at once rather
  // than at the next query. Returns early, with *woken set, when `wake_fd`
  // becomes readable. Returns kConnection when the server closed the
  // session.
  Status WaitIdle(std::chrono::steady_clock::time_point until, int wake_fd,
                  bool* woken);

  // Sleeps until `until` or until `wake_fd` becomes readable (*woken).
  static void WaitOnFd(std::chrono::steady_clock::time_point until, int wake_fd,
                       bool* woken);

  // The server's process id for this session; 0 when not connected.
  int backend_pid() const;

  // The session's socket, -1 when not connected. Only for watching it; the
  // session stays the one owner of the connection.
  int socket() const;

  // "host:port" of the server this session reached; empty when not
  // connected.
  std::string server() const;

 private:
  using Clock = std::chrono::steady_clock;

  // Waits until the socket is ready for `events` or the deadline passes.
  Status WaitSocket(short events, Clock::time_point deadline);
  Status SendAndFlush(std::string_view sql, const QueryParams& params,
                      Clock::time_point deadline);
  Status FlushOutput(Clock::time_point deadline);
  StatusOr<PgResult> CollectResult(Clock::time_point deadline);
  Status ConnectionLost(std::string_view during);

  const ConnParams params_;
  const std::string application_name_;

  struct ConnDeleter {
    void operator()(PGconn* conn) const { PQfinish(conn); }
  };
  std::unique_ptr<PGconn, ConnDeleter> conn_;
};

}  // namespace cpha

#endif  // CPHA_HA_PG_SESSION_H_

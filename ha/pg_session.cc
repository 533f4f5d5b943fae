#include "ha/pg_session.h"

#include <poll.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "ha/log.h"

namespace cpha {
namespace {

// Server notices (e.g. "canceling wait for synchronous replication") go to
// our log instead of libpq's default of raw stderr.
void LogNotice(void* /*arg*/, const char* message) {
  std::string text(message);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  LogLevel level =
      text.rfind("WARNING", 0) == 0 ? LogLevel::kWarn : LogLevel::kDebug;
  Log(level, "postgres", "server notice", {{"notice", text}});
}

// libpq's messages span lines (one per host tried for a multi-host URL);
// keep them all, on one line.
std::string OneLine(const char* message) {
  std::string text;
  for (const char* c = message ? message : ""; *c != '\0'; ++c) {
    if (*c == '\n') {
      text += "; ";
    } else if (*c != '\t') {
      text += *c;
    }
  }
  while (text.size() >= 2 && text.compare(text.size() - 2, 2, "; ") == 0) {
    text.resize(text.size() - 2);
  }
  return text;
}

bool IsConnectionSqlstate(const std::string& sqlstate) {
  return sqlstate.empty() || sqlstate.rfind("08", 0) == 0;
}

}  // namespace

int64_t PgResult::Int(int row, int column) const {
  if (IsNull(row, column)) return 0;
  const char* text = PQgetvalue(result_.get(), row, column);
  int64_t value = 0;
  std::from_chars(text, text + std::strlen(text), value);
  return value;
}

bool PgResult::Bool(int row, int column) const {
  return !IsNull(row, column) && Text(row, column) == "t";
}

PgSession::PgSession(ConnParams params, std::string application_name)
    : params_(std::move(params)),
      application_name_(std::move(application_name)) {}

PgSession::~PgSession() = default;

Status PgSession::Connect(Millis timeout) {
  Close();
  const Clock::time_point deadline = Clock::now() + timeout;

  ConnParams params = params_;
  params.Set("application_name", application_name_);
  ConnParams::CArrays arrays = params.ToCArrays();
  conn_.reset(PQconnectStartParams(arrays.keywords.data(), arrays.values.data(),
                                   /*expand_dbname=*/0));
  if (!conn_) {
    return Status::Error(ErrorKind::kConnection, "out of memory");
  }
  if (PQstatus(conn_.get()) == CONNECTION_BAD) {
    return ConnectionLost("connect");
  }

  PostgresPollingStatusType poll_status = PGRES_POLLING_WRITING;
  while (poll_status != PGRES_POLLING_OK) {
    if (poll_status == PGRES_POLLING_FAILED) return ConnectionLost("connect");
    short events = poll_status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    Status ready = WaitSocket(events, deadline);
    if (!ready.ok()) {
      Close();
      return ready;
    }
    poll_status = PQconnectPoll(conn_.get());
  }

  PQsetNoticeProcessor(conn_.get(), LogNotice, nullptr);
  if (PQsetnonblocking(conn_.get(), 1) != 0) {
    return ConnectionLost("set non-blocking");
  }
  return Status();
}

void PgSession::Close() { conn_.reset(); }

StatusOr<PgResult> PgSession::Query(std::string_view sql,
                                    const QueryParams& params, Millis timeout) {
  if (!conn_) {
    return Status::Error(ErrorKind::kConnection, "not connected");
  }
  const Clock::time_point deadline = Clock::now() + timeout;

  Status sent = SendAndFlush(sql, params, deadline);
  if (!sent.ok()) return sent;

  return CollectResult(deadline);
}

Status PgSession::Exec(std::string_view sql, Millis timeout,
                       const QueryParams& params) {
  StatusOr<PgResult> result = Query(sql, params, timeout);
  return result.ok() ? Status() : result.status();
}

Status PgSession::ExecScript(std::string_view script, Millis timeout) {
  if (!conn_) {
    return Status::Error(ErrorKind::kConnection, "not connected");
  }
  const Clock::time_point deadline = Clock::now() + timeout;

  std::string text(script);
  if (PQsendQuery(conn_.get(), text.c_str()) == 0)
    return ConnectionLost("send");
  Status flushed = FlushOutput(deadline);
  if (!flushed.ok()) return flushed;

  StatusOr<PgResult> result = CollectResult(deadline);
  return result.ok() ? Status() : result.status();
}

Status PgSession::WaitIdle(Clock::time_point until, int wake_fd, bool* woken) {
  *woken = false;
  for (;;) {
    auto remaining =
        std::chrono::duration_cast<Millis>(until - Clock::now()).count();
    if (remaining <= 0) return Status();
    if (!conn_) return Status::Error(ErrorKind::kConnection, "not connected");

    pollfd descriptors[2] = {{PQsocket(conn_.get()), POLLIN, 0},
                             {wake_fd, POLLIN, 0}};
    int ready =
        poll(descriptors, wake_fd >= 0 ? 2 : 1, static_cast<int>(remaining));
    if (ready < 0 && errno != EINTR) {
      return Status::Error(ErrorKind::kConnection,
                           std::string("poll: ") + std::strerror(errno));
    }
    if (ready <= 0) continue;

    if (descriptors[0].revents != 0) {
      // Whatever the server sent to an idle session (an error before it
      // closes, or a notice) is consumed here.
      if (PQconsumeInput(conn_.get()) == 0 ||
          PQstatus(conn_.get()) == CONNECTION_BAD) {
        return ConnectionLost("idle");
      }
    }
    if (wake_fd >= 0 && descriptors[1].revents != 0) {
      *woken = true;
      return Status();
    }
  }
}

void PgSession::WaitOnFd(Clock::time_point until, int wake_fd, bool* woken) {
  *woken = false;
  for (;;) {
    auto remaining =
        std::chrono::duration_cast<Millis>(until - Clock::now()).count();
    if (remaining <= 0) return;
    pollfd descriptor{wake_fd, POLLIN, 0};
    if (poll(&descriptor, 1, static_cast<int>(remaining)) > 0) {
      *woken = true;
      return;
    }
  }
}

int PgSession::backend_pid() const {
  return conn_ ? PQbackendPID(conn_.get()) : 0;
}

int PgSession::socket() const { return conn_ ? PQsocket(conn_.get()) : -1; }

std::string PgSession::server() const {
  if (!conn_) return {};
  const char* host = PQhost(conn_.get());
  const char* port = PQport(conn_.get());
  return std::string(host ? host : "") + ":" + (port ? port : "");
}

Status PgSession::WaitSocket(short events, Clock::time_point deadline) {
  for (;;) {
    auto remaining =
        std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (remaining.count() <= 0) {
      return Status::Error(ErrorKind::kTimeout,
                           "no answer from the database in time");
    }

    pollfd descriptor{PQsocket(conn_.get()), events, 0};
    if (descriptor.fd < 0) {
      return Status::Error(ErrorKind::kConnection, "no socket");
    }
    int ready = poll(&descriptor, 1, static_cast<int>(remaining.count()));
    if (ready > 0) return Status();
    if (ready < 0 && errno != EINTR) {
      return Status::Error(ErrorKind::kConnection,
                           std::string("poll: ") + std::strerror(errno));
    }
  }
}

Status PgSession::SendAndFlush(std::string_view sql, const QueryParams& params,
                               Clock::time_point deadline) {
  std::string statement(sql);
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& param : params) {
    values.push_back(param ? param->c_str() : nullptr);
  }

  if (PQsendQueryParams(conn_.get(), statement.c_str(),
                        static_cast<int>(values.size()), nullptr, values.data(),
                        nullptr, nullptr, 0) == 0) {
    return ConnectionLost("send");
  }
  return FlushOutput(deadline);
}

Status PgSession::FlushOutput(Clock::time_point deadline) {
  for (;;) {
    int flushed = PQflush(conn_.get());
    if (flushed == 0) return Status();
    if (flushed < 0) return ConnectionLost("flush");

    Status ready = WaitSocket(POLLOUT | POLLIN, deadline);
    if (!ready.ok()) {
      Close();
      return ready;
    }
    if (PQconsumeInput(conn_.get()) == 0) return ConnectionLost("read");
  }
}

StatusOr<PgResult> PgSession::CollectResult(Clock::time_point deadline) {
  std::optional<PgResult> last;
  Status error;
  for (;;) {
    while (PQisBusy(conn_.get())) {
      Status ready = WaitSocket(POLLIN, deadline);
      if (!ready.ok()) {
        Close();
        return ready;
      }
      if (PQconsumeInput(conn_.get()) == 0) return ConnectionLost("read");
    }

    PGresult* raw = PQgetResult(conn_.get());
    if (raw == nullptr) break;
    PgResult result(raw);
    ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_FATAL_ERROR && error.ok()) {
      const char* sqlstate = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
      const char* primary = PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY);
      std::string code = sqlstate ? sqlstate : "";
      error = Status::Error(IsConnectionSqlstate(code) ? ErrorKind::kConnection
                                                       : ErrorKind::kQuery,
                            OneLine(primary), code);
    }
    last.emplace(std::move(result));
  }

  if (PQstatus(conn_.get()) == CONNECTION_BAD) {
    Status lost = error.ok() ? ConnectionLost("query") : error;
    Close();
    return Status::Error(ErrorKind::kConnection, lost.message(),
                         lost.sqlstate());
  }
  if (!error.ok()) {
    if (error.kind() == ErrorKind::kConnection) Close();
    return error;
  }
  if (!last) {
    return Status::Error(ErrorKind::kQuery, "no result");
  }
  return std::move(*last);
}

Status PgSession::ConnectionLost(std::string_view during) {
  std::string why = conn_ ? OneLine(PQerrorMessage(conn_.get())) : "";
  if (why.empty()) why = "connection lost";
  Close();
  return Status::Error(ErrorKind::kConnection,
                       std::string(during) + ": " + why);
}

}  // namespace cpha

#include "tests/failover/workload/workload_session.h"

#include <algorithm>

namespace cpha::workload {
namespace {

using std::chrono::milliseconds;

// libpq's connect_timeout is in whole seconds and treats 1 as 2.
int64_t ConnectTimeoutSeconds(milliseconds timeout) {
  return std::max<int64_t>(2, (timeout.count() + 999) / 1000);
}

// A dead peer is noticed after about the statement bound: keepalives probe
// every second once idle for a second, tcp_user_timeout gives up on
// unacknowledged data.
void AddTimeouts(ConnParams& params, const DbTimeouts& timeouts) {
  const int64_t bound_seconds =
      std::max<int64_t>(1, timeouts.statement.count() / 1000);
  params.Set("connect_timeout",
             std::to_string(ConnectTimeoutSeconds(timeouts.connect)));
  params.Set("keepalives", "1");
  params.Set("keepalives_idle", "1");
  params.Set("keepalives_interval", "1");
  params.Set("keepalives_count", std::to_string(bound_seconds));
  params.Set("tcp_user_timeout", std::to_string(timeouts.statement.count()));
}

}  // namespace

StatusOr<std::unique_ptr<WorkloadSession>> WorkloadSession::Create(
    const std::string& url, const std::string& application_name,
    const DbTimeouts& timeouts) {
  StatusOr<ConnParams> params = ConnParams::Parse(url);
  if (!params.ok()) return params.status();
  AddTimeouts(params.value(), timeouts);
  return std::make_unique<WorkloadSession>(PassKey{}, std::move(params.value()),
                                           application_name, timeouts);
}

WorkloadSession::WorkloadSession(PassKey, ConnParams params,
                                 std::string application_name,
                                 const DbTimeouts& timeouts)
    : timeouts_(timeouts),
      redacted_url_(params.Redacted()),
      session_(std::move(params), std::move(application_name)) {}

Status WorkloadSession::EnsureConnected() {
  if (session_.connected()) return Status();
  Status connected = session_.Connect(timeouts_.connect);
  if (!connected.ok()) return connected;

  const milliseconds server_bound = timeouts_.statement + kServerTimeoutSlack;
  Status set = session_.Exec(
      "SET statement_timeout = " + std::to_string(server_bound.count()),
      timeouts_.statement);
  if (!set.ok()) session_.Close();
  return set;
}

StatusOr<PgResult> WorkloadSession::Query(std::string_view sql,
                                          const QueryParams& params) {
  return session_.Query(sql, params, timeouts_.statement);
}

Status WorkloadSession::Exec(std::string_view sql, const QueryParams& params) {
  return session_.Exec(sql, timeouts_.statement, params);
}

}  // namespace cpha::workload

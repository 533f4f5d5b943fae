// cp-ha-sidecar: the HA sidecar of the control plane. Parses options (a bad
// one ends the process with one line and exit code 2), starts the HTTP
// server, the replication monitor, the audit collector, the recovery runner
// (triggered by the elector on each won epoch) and the elector, and on
// SIGTERM or SIGINT resigns leadership gracefully and exits 0.

#include <signal.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "collectors/audit_collector.h"
#include "collectors/replication_monitor.h"
#include "exporter/admin_routes.h"
#include "exporter/cli.h"
#include "exporter/http_server.h"
#include "exporter/options.h"
#include "exporter/routes.h"
#include "ha/backup.h"
#include "ha/conn_params.h"
#include "ha/elector.h"
#include "ha/ha_state.h"
#include "ha/log.h"
#include "ha/recovery.h"

// exporter/tls_compat: lets Debian 12's CivetWeb serve HTTPS with OpenSSL 3.
extern "C" int cpha_libssl_compat_loaded();

#ifndef CPHA_VERSION
#define CPHA_VERSION "0.0.0"
#endif

namespace cpha {
namespace {

constexpr auto kRefreshInterval = std::chrono::milliseconds(100);

int Fail(const std::string& message) {
  std::fprintf(stderr, "cp-ha-sidecar: error: %s\n", message.c_str());
  return 2;
}

std::string RandomInstanceId() {
  std::random_device device;
  std::uniform_int_distribution<uint32_t> bits;
  char text[17];
  std::snprintf(text, sizeof(text), "%08x%08x", bits(device), bits(device));
  return text;
}

// /proc/<pid>/cmdline shows argv as it is now: blank the database URL so
// that `ps` never shows a password.
void ScrubDatabaseUrl(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const char* flag = "--postgres-url";
    size_t flag_length = std::strlen(flag);
    if (std::strncmp(argv[i], flag, flag_length) != 0) continue;
    if (argv[i][flag_length] == '=') {
      std::memset(argv[i] + flag_length + 1, '*',
                  std::strlen(argv[i] + flag_length + 1));
    } else if (argv[i][flag_length] == '\0' && i + 1 < argc) {
      std::memset(argv[i + 1], '*', std::strlen(argv[i + 1]));
    }
  }
}

// libpq-side bounds on both sessions, matching the server-side ones that
// the elector sets on its lock session.
void AddClientBounds(ConnParams& conn, const Options& options) {
  auto seconds = [](Duration duration) {
    return std::max<int64_t>(
        2, std::chrono::duration_cast<std::chrono::seconds>(duration).count());
  };
  auto millis = [](Duration duration) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(duration)
        .count();
  };
  conn.Set("connect_timeout", std::to_string(seconds(options.connect_timeout)));
  conn.Set("keepalives", "1");
  conn.Set("keepalives_idle", "1");
  conn.Set("keepalives_interval", "1");
  conn.Set("keepalives_count",
           std::to_string(seconds(options.lock_session_timeout)));
  conn.Set("tcp_user_timeout",
           std::to_string(millis(options.lock_session_timeout)));
}

ReadinessPolicy PolicyFrom(const Options& options) {
  ReadinessPolicy policy;
  policy.min_sync_replicas = options.min_sync_replicas;
  policy.stepdown_bound =
      options.lock_session_timeout - options.stepdown_margin;
  policy.fresh_for =
      std::max(2 * options.quorum_monitor_interval,
               options.quorum_monitor_interval + options.db_timeout);
  policy.maintenance = options.maintenance;
  return policy;
}

ElectorConfig ElectorConfigFrom(const Options& options, ConnParams conn) {
  ElectorConfig config;
  config.conn = std::move(conn);
  config.schema = options.schema;
  config.create_app_schema = options.create_app_schema;
  config.lock_key = options.advisory_lock_key;
  config.keepalive_interval = options.keepalive_interval;
  config.campaign_interval = options.campaign_interval;
  config.lock_session_timeout = options.lock_session_timeout;
  config.db_timeout = options.db_timeout;
  config.connect_timeout = options.connect_timeout;
  config.resign_holdoff = options.resign_holdoff;
  config.min_sync_replicas = options.min_sync_replicas;
  return config;
}

ReplicationMonitorConfig MonitorConfigFrom(const Options& options,
                                           ConnParams conn) {
  ReplicationMonitorConfig config;
  config.conn = std::move(conn);
  config.schema = options.schema;
  config.interval = options.quorum_monitor_interval;
  config.db_timeout = options.db_timeout;
  config.connect_timeout = options.connect_timeout;
  return config;
}

AuditCollectorConfig AuditConfigFrom(const Options& options, ConnParams conn) {
  AuditCollectorConfig config;
  config.conn = std::move(conn);
  config.schema = options.schema;
  config.interval = options.audit_interval;
  config.replay_horizon = options.promotion_replay_horizon;
  config.db_timeout = options.db_timeout;
  config.connect_timeout = options.connect_timeout;
  return config;
}

RecoveryConfig RecoveryConfigFrom(const Options& options, ConnParams conn,
                                  const AuditCollector& audit) {
  RecoveryConfig config;
  config.conn = std::move(conn);
  config.schema = options.schema;
  config.fence_mode = options.fence_mode;
  config.replay_horizon = options.promotion_replay_horizon;
  config.outbox_retention = options.outbox_retention;
  config.purge_interval = options.outbox_purge_interval;
  config.db_timeout = options.db_timeout;
  config.connect_timeout = options.connect_timeout;
  // The audit collector counts the deferred decisions the pass writes only
  // when its baseline was taken first.
  config.audit_baseline_ready = [&audit] { return audit.baseline_taken(); };
  config.baseline_wait = options.audit_interval + 2 * options.db_timeout;
  return config;
}

BackupConfig BackupConfigFrom(const Options& options, ConnParams conn) {
  BackupConfig config;
  config.conn = std::move(conn);
  config.schema = options.schema;
  config.pg_bin_dir = options.pg_bin_dir;
  config.default_dir = options.backup_dir;
  config.tool_timeout = options.backup_timeout;
  config.db_timeout = options.db_timeout;
  config.connect_timeout = options.connect_timeout;
  return config;
}

// The admin token was read once, with the options.
AdminConfig AdminConfigFrom(const Options& options) {
  AdminConfig config;
  config.token = options.admin_token;
  return config;
}

sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

// Refreshes the state (counting transitions as time passes) until a stop
// signal arrives; returns its number.
int ServeUntilSignal(HaState& state, const sigset_t& signals) {
  timespec wait{
      0, std::chrono::duration_cast<std::chrono::nanoseconds>(kRefreshInterval)
             .count()};
  for (;;) {
    int received = sigtimedwait(&signals, nullptr, &wait);
    if (received > 0) return received;
    state.Refresh(SteadyClock::now());
  }
}

int Run(const Options& options, ConnParams conn) {
  const sigset_t signals = StopSignals();

  HaMetrics metrics(CPHA_VERSION);
  NodeIdentity identity{options.holder_id, RandomInstanceId(), CPHA_VERSION};
  ReadinessPolicy policy = PolicyFrom(options);
  HaState state(identity, policy, metrics);

  const AdminConfig admin = AdminConfigFrom(options);

  ReplicationMonitor monitor(MonitorConfigFrom(options, conn), state);
  AuditCollector audit(AuditConfigFrom(options, conn), state);
  RecoveryRunner recovery(RecoveryConfigFrom(options, conn, audit), state);
  ElectorConfig elector_config = ElectorConfigFrom(options, conn);
  elector_config.on_elected = [&recovery](int64_t epoch) {
    recovery.Trigger(epoch);
  };
  Elector elector(std::move(elector_config), state);
  BackupService backups(BackupConfigFrom(options, conn), state);

  // The server is up before any thread touches the database, so that a
  // bad --listen ends the process before it joins the election.
  std::vector<Route> routes = HealthRoutes(state);
  for (Route& route : AdminRoutes(state, elector, admin)) {
    routes.push_back(std::move(route));
  }
  for (Route& route : BackupRoutes(state, backups, admin)) {
    routes.push_back(std::move(route));
  }
  HttpServerOptions http;
  http.host = options.listen_host;
  http.port = options.listen_port;
  http.threads = options.http_threads;
  http.tls_cert_file = options.tls_cert_file;
  // Referenced so that the linker keeps the shim that CivetWeb's dlopen of
  // libssl.so must find already loaded.
  if (!http.tls_cert_file.empty() && cpha_libssl_compat_loaded() != 1) {
    return Fail("--tls-cert-file: the libssl compatibility shim is missing");
  }
  StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start(http, std::move(routes));
  if (!server.ok()) return Fail(server.status().message());

  Log(LogLevel::kInfo, "main", "serving",
      {{"listen",
        options.listen_host + ":" + std::to_string(server.value()->port())},
       {"holder_id", identity.holder_id},
       {"stepdown_bound_seconds",
        std::chrono::duration<double>(policy.stepdown_bound).count()},
       {"lock_session_timeout_seconds",
        std::chrono::duration<double>(options.lock_session_timeout).count()},
       {"min_sync_replicas", options.min_sync_replicas},
       {"admin_api", admin.token ? "enabled" : "disabled"}});

  monitor.Start();
  audit.Start();
  recovery.Start();
  elector.Start();

  int received = ServeUntilSignal(state, signals);
  Log(LogLevel::kInfo, "main", "stopping", {{"signal", strsignal(received)}});
  // The runner stops before the elector resigns, so that no fenced write of
  // ours starts after this node stopped claiming its epoch.
  recovery.Stop();
  elector.Stop();
  audit.Stop();
  monitor.Stop();
  server.value().reset();
  Log(LogLevel::kInfo, "main", "stopped");
  return 0;
}

}  // namespace
}  // namespace cpha

int main(int argc, char** argv) {
  using namespace cpha;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args.front() == "ha") {
    return RunCli({args.begin() + 1, args.end()}, ProcessEnvironment(), stdout,
                  stderr);
  }
  // Blanked before anything else: /proc/<pid>/cmdline shows the password
  // from exec until here, and this keeps that window as short as it can be.
  ScrubDatabaseUrl(argc, argv);
  // Blocked before any thread starts, so that a stop signal is only ever
  // taken by sigtimedwait (a graceful resign).
  const sigset_t signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  StatusOr<ParsedOptions> parsed = ParseOptions(args, ProcessEnvironment());
  if (!parsed.ok()) return Fail(parsed.status().message());
  if (parsed->action == Action::kHelp) {
    std::fputs(parsed->help.c_str(), stdout);
    return 0;
  }
  if (parsed->action == Action::kVersion) {
    std::printf("cp-ha-sidecar %s\n", CPHA_VERSION);
    return 0;
  }

  const Options& options = parsed->options;
  SetLogLevel(options.log_level);
  StatusOr<ConnParams> conn = ConnParams::Parse(options.postgres_url);
  if (!conn.ok()) return Fail("--postgres-url: " + conn.status().message());
  AddClientBounds(conn.value(), options);
  return Run(options, conn.value());
}

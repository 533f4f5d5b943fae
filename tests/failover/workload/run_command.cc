// cp-ha-workload run.

#include <atomic>
#include <iostream>
#include <thread>

#include "ha/log.h"
#include "tests/failover/workload/commands.h"
#include "tests/failover/workload/stop_signals.h"
#include "tests/failover/workload/writer.h"

namespace cpha::workload {
namespace {

using Clock = std::chrono::steady_clock;

nlohmann::json Summary(const RunOptions& options, const WriterStats& writer,
                       const PollerStats& poller, const std::string& stopped_by,
                       Clock::duration ran_for) {
  nlohmann::json summary = WriterStatsToJson(writer);
  summary["holder"] = options.holder;
  summary["fence_mode"] = FenceModeName(options.fence_mode);
  summary["ack_log"] = options.ack_log;
  summary["stopped_by"] = stopped_by;
  summary["ran_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(ran_for).count();
  summary["poller"] = PollerStatsToJson(poller);
  return summary;
}

void LogStart(const RunOptions& options, const WorkloadSession& session) {
  Log(LogLevel::kInfo, "workload", "start",
      {{"holder", options.holder},
       {"sidecar_port", options.sidecar_port},
       {"database", session.redacted_url()},
       {"fence_mode", FenceModeName(options.fence_mode)},
       {"poll_interval_ms", int64_t{options.poll_interval.count()}},
       {"stale_grace_ms", int64_t{options.stale_grace.count()}},
       {"write_interval_ms", int64_t{options.write_interval.count()}}});
}

}  // namespace

int RunWorkload(const RunOptions& options) {
  BlockStopSignals();

  StatusOr<std::unique_ptr<AckLogWriter>> ack_log =
      AckLogWriter::Open(options.ack_log);
  if (!ack_log.ok()) {
    std::cerr << "run: " << ack_log.status().message() << "\n";
    return kExitCannotCheck;
  }
  StatusOr<std::unique_ptr<WorkloadSession>> session = WorkloadSession::Create(
      options.postgres_url, "ha-workload-" + options.holder, options.db);
  if (!session.ok()) {
    std::cerr << "run: " << session.status().ToString() << "\n";
    return kExitCannotCheck;
  }
  LogStart(options, *session.value());

  // The poller and the writer run until a signal or the duration.
  const Clock::time_point started = Clock::now();
  SidecarPoller poller(options.sidecar_port, options.poll_interval,
                       options.http_timeout);
  Writer writer({.holder = options.holder,
                 .fence_mode = options.fence_mode,
                 .stale_grace = options.stale_grace,
                 .write_interval = options.write_interval},
                *session.value(), *ack_log.value(), poller);
  std::atomic<bool> stop{false};
  std::thread writing([&] { writer.Run(stop); });
  const std::string stopped_by = WaitForStop(options.duration);
  stop.store(true);
  writing.join();
  poller.Stop();

  std::cout << Summary(options, writer.stats(), poller.stats(), stopped_by,
                       Clock::now() - started)
                   .dump()
            << std::endl;
  return writer.stats().ack_log_errors > 0 ? kExitCannotCheck : kExitOk;
}

}  // namespace cpha::workload

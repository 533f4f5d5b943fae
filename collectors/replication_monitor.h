// ReplicationMonitor: the quorum monitor. Every --quorum-monitor-interval,
// on its own database session, it reads whether the server is a primary,
// whether this role may read pg_stat_replication, the replication rows and
// the leadership singleton, and records them in HaState. Read readiness is
// the freshness of its last success.
//
// It never serves HTTP: handlers read what it recorded.
//
// Thread-safety: Start and Stop from any thread; the work runs on the
// monitor's own thread.

#ifndef CPHA_COLLECTORS_REPLICATION_MONITOR_H_
#define CPHA_COLLECTORS_REPLICATION_MONITOR_H_

#include <atomic>
#include <string>
#include <thread>

#include "ha/conn_params.h"
#include "ha/ha_state.h"
#include "ha/pg_session.h"
#include "ha/wakeup.h"

namespace cpha {

struct ReplicationMonitorConfig {
  ConnParams conn;
  std::string schema = "public";
  Duration interval = std::chrono::seconds(1);
  Duration db_timeout = std::chrono::seconds(2);
  Duration connect_timeout = std::chrono::seconds(3);
};

class ReplicationMonitor {
 public:
  ReplicationMonitor(ReplicationMonitorConfig config, HaState& state);
  ~ReplicationMonitor();

  ReplicationMonitor(const ReplicationMonitor&) = delete;
  ReplicationMonitor& operator=(const ReplicationMonitor&) = delete;

  void Start();
  void Stop();

 private:
  void Run();
  Status EnsureConnected();
  Status CheckOnce(TimePoint started);
  void RecordFailure(const Status& status);

  // Constant after construction.
  const ReplicationMonitorConfig config_;
  HaState& state_;

  // Owned by the monitor thread.
  PgSession session_;
  std::string last_logged_error_;

  Wakeup wakeup_;
  std::atomic<bool> stop_requested_{false};
  std::thread thread_;
};

}  // namespace cpha

#endif  // CPHA_COLLECTORS_REPLICATION_MONITOR_H_

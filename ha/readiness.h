// Readiness: the pure decision of DESIGN.md section 5. Given the facts the
// elector and the replication monitor last recorded, the policy and the
// current monotonic time, it says whether this node may read and may write,
// and why not. It reads no clock and no database, so tests drive it with an
// injected time.
//
// Thread-safety: free functions over values.

#ifndef CPHA_HA_READINESS_H_
#define CPHA_HA_READINESS_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace cpha {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using Duration = SteadyClock::duration;

enum class ElectorRole {
  kNoSession,   // no lock session (not yet, or lost): not campaigning
  kFollower,    // connected, another node holds the lock
  kLeader,      // holds the lock and won the current epoch
  kHoldingOff,  // resigned or refused to lead; not campaigning for a while
  kStopped,     // shut down
};

const char* ElectorRoleName(ElectorRole role);

// What the elector last established on its lock session.
struct ElectorFacts {
  ElectorRole role = ElectorRole::kNoSession;
  bool lock_held = false;
  int64_t epoch = 0;        // the epoch this node won; 0 when not leader
  std::string acquired_at;  // RFC 3339 UTC, from the database's now()
  TimePoint last_ack{};     // when the last acknowledged keepalive was sent
  std::string server;       // host:port of the lock session
  std::string detail;       // why not leader, for the readiness reason
  // Set by HaState::Refresh, never stored: the server wrote to or closed
  // the idle lock session, which it does before it frees the lock.
  bool lock_session_signalled = false;
};

struct ReplicationRow {
  std::string application_name;
  std::string state;       // empty when unreadable (no pg_monitor)
  std::string sync_state;  // empty when unreadable
};

// The singleton row of leadership_state, as last read.
struct DurableLeadership {
  bool known = false;
  int64_t current_epoch = 0;
  std::string holder_id;
  std::string acquired_at;  // RFC 3339 UTC; empty when never acquired
};

// What the replication monitor last read from its own session.
struct MonitorFacts {
  bool ever_succeeded = false;
  TimePoint last_success{};
  std::string last_error;  // empty after a success
  bool in_recovery = false;
  int sync_replica_count = 0;
  bool privileged = false;  // superuser or pg_monitor
  std::string server;       // host:port of the monitor session
  std::vector<ReplicationRow> replication;
  DurableLeadership leadership;
};

struct ReadinessPolicy {
  int min_sync_replicas = 0;
  // S - margin: how long after the last acknowledged keepalive the leader
  // may still claim write authority.
  Duration stepdown_bound{};
  // How old the monitor's last success may be for read-ready.
  Duration fresh_for{};
  bool maintenance = false;
};

struct Verdict {
  bool ready = false;
  std::string reason;  // empty when ready
};

struct Readiness {
  Verdict read;
  Verdict write;
  bool leader_within_deadline = false;
};

// The step-down deadline of a leader whose last acknowledged keepalive was
// sent at `last_ack`.
TimePoint StepDownDeadline(TimePoint last_ack, const ReadinessPolicy& policy);

Readiness EvaluateReadiness(const ElectorFacts& elector,
                            const MonitorFacts& monitor,
                            const ReadinessPolicy& policy, TimePoint now);

}  // namespace cpha

#endif  // CPHA_HA_READINESS_H_

// PatroniLab: a disposable Patroni cluster (one etcd, node1 and node2
// managing PostgreSQL 15 in synchronous_mode_strict) made and driven by
// lab/patroni.sh, for the failover suite. It lives in a fresh directory
// under /tmp on six consecutive loopback ports; the destructor stops every
// process, lifts any partition and removes the directory.
//
// Each sidecar reaches the database through its own loopback address (see
// ViaAddress), so that Partition can cut one sidecar off silently.
//
// Thread-safety: the methods only run lab/patroni.sh and psql, so they may
// be called from any thread; the tests call them from the test thread.

#ifndef CPHA_TESTS_FAILOVER_PATRONI_LAB_H_
#define CPHA_TESTS_FAILOVER_PATRONI_LAB_H_

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ha/status.h"

namespace cpha::failover {

class PatroniLab {
 public:
  // Creates the cluster (about 10 s) and waits until node1 leads with node2
  // as its streaming synchronous standby.
  static StatusOr<std::unique_ptr<PatroniLab>> Create();

  ~PatroniLab();

  PatroniLab(const PatroniLab&) = delete;
  PatroniLab& operator=(const PatroniLab&) = delete;

  const std::string& dir() const { return dir_; }

  // The loopback address through which sidecar `index` (0 or 1) connects;
  // each lab has its own pair.
  const std::string& ViaAddress(int index) const { return via_[index]; }

  // The name of the running Patroni leader ("node1" or "node2").
  StatusOr<std::string> Leader() const;
  // The other node's name.
  static std::string Other(const std::string& node);
  // Waits until a leader runs with a streaming synchronous standby.
  Status WaitHealthy(std::chrono::seconds timeout) const;

  // Faults and repairs; each runs the script's subcommand of that name.
  Status Switchover() const;
  Status Failover(const std::string& candidate) const;
  Status KillPostgres(const std::string& node) const;
  Status Restart(const std::string& node) const;
  Status Stop(const std::string& node) const;
  // kill -9 of the node's Patroni and postmaster, as a host dying.
  Status Kill(const std::string& node) const;
  Status Start(const std::string& node) const;
  Status Partition(const std::string& via, bool on) const;

  // Runs one statement with psql as the superuser on `node` in `database`;
  // returns the output trimmed (psql -At) or psql's error.
  StatusOr<std::string> Psql(const std::string& node, const std::string& sql,
                             const std::string& database) const;
  // The same on whichever node leads now.
  StatusOr<std::string> PsqlLeader(const std::string& sql,
                                   const std::string& database) const;

  // A multi-host URL to `database` over `via`, asking for the writable node.
  std::string MultiUrl(const std::string& via,
                       const std::string& database) const;

  // The tail of a node's Patroni log and of the etcd log, for failures.
  std::string LogTails(int lines) const;

 private:
  struct PassKey {};

 public:
  // Use Create(); public only for std::make_unique.
  PatroniLab(PassKey, std::string dir, int base_port,
             std::array<std::string, 2> via);

 private:
  Status Script(const std::string& subcommand,
                const std::vector<std::string>& args) const;
  int PgPort(const std::string& node) const;

  const std::string dir_;
  const int base_port_;
  const std::array<std::string, 2> via_;
};

}  // namespace cpha::failover

#endif  // CPHA_TESTS_FAILOVER_PATRONI_LAB_H_

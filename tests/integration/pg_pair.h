// PgPair: a disposable PostgreSQL 15 primary plus synchronous standby on
// loopback, made and driven by lab/pgpair.sh. The pair lives in a fresh
// directory under /tmp on ports that were free when it was created; the
// destructor stops both servers and removes the directory.
//
// Thread-safety: the methods only run lab/pgpair.sh and psql, so they may be
// called from any thread; the tests call them from the test thread.

#ifndef CPHA_TESTS_INTEGRATION_PG_PAIR_H_
#define CPHA_TESTS_INTEGRATION_PG_PAIR_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ha/status.h"

namespace cpha::integration {

enum class PgNode {
  kPrimary,  // the node created as the primary (even after a promotion)
  kStandby,  // the node created as the synchronous standby
};

const char* PgNodeName(PgNode node);

// Who connects to which database; an empty field keeps the lab's default
// (superuser postgres/postgres, database autonomy).
struct PgLogin {
  std::string user = {};
  std::string password = {};
  std::string database = {};
};

class PgPair {
 public:
  // Creates the pair (about 2 s). Fails with the script's error when it
  // cannot; a half-made pair is removed.
  static StatusOr<std::unique_ptr<PgPair>> Create();

  // Stops both servers at once and removes the directory.
  ~PgPair();

  PgPair(const PgPair&) = delete;
  PgPair& operator=(const PgPair&) = delete;

  const std::string& dir() const { return dir_; }
  int port(PgNode node) const;

  // Each runs the lab script's subcommand of the same name and fails with
  // its error line. Stop uses fast shutdown; Kill is a SIGKILL of the
  // postmaster; Promote turns the standby into a primary.
  Status Start(PgNode node) const;
  Status Stop(PgNode node) const;
  Status Kill(PgNode node) const;
  Status Promote() const;
  // Waits until the standby streams as the primary's sync standby.
  Status WaitSync(std::chrono::seconds timeout) const;

  // Runs one SQL statement with psql on `node` as the superuser, in
  // `database` (default: autonomy). Returns the output trimmed, one row a
  // line with columns separated by '|'; fails with psql's error.
  StatusOr<std::string> Psql(
      PgNode node, const std::string& sql, const std::string& database = "",
      std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  // libpq URLs as the script prints them, with `login` applied.
  std::string Url(PgNode node, const PgLogin& login = {}) const;
  // Both hosts with target_session_attrs=read-write.
  std::string MultiUrl(const PgLogin& login = {}) const;

  // The last `lines` lines of the node's server log.
  std::string LogTail(PgNode node, int lines) const;

 private:
  struct PassKey {};

 public:
  // Use Create(); public only for std::make_unique.
  PgPair(PassKey, std::string dir, int primary_port, int standby_port,
         std::string primary_url, std::string standby_url,
         std::string multi_url);

 private:
  // Runs `lab/pgpair.sh <subcommand> DIR args...`.
  Status Script(const std::string& subcommand,
                const std::vector<std::string>& args) const;

  // Constant after construction.
  const std::string dir_;
  const int primary_port_;
  const int standby_port_;
  const std::string primary_url_;
  const std::string standby_url_;
  const std::string multi_url_;
};

// Splits psql -At output into rows of '|'-separated columns.
std::vector<std::vector<std::string>> SplitRows(const std::string& output);

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_PG_PAIR_H_

#include "tests/failover/patroni_lab.h"

#include <sys/stat.h>

#include <cstdlib>
#include <random>

#include "tests/integration/command.h"

namespace cpha::failover {
namespace {

using integration::CommandResult;
using integration::RunCommand;
using integration::Trim;

constexpr const char* kScript = CPHA_SOURCE_DIR "/lab/patroni.sh";
constexpr const char* kPsql = "/usr/lib/postgresql/15/bin/psql";
constexpr std::chrono::seconds kScriptTimeout(180);
constexpr int kCreateAttempts = 4;

Status ScriptError(const std::string& what, const CommandResult& result) {
  return Status::Error(ErrorKind::kFailedPrecondition,
                       what + ": " + result.Describe());
}

// Six consecutive ports somewhere in 30000..59999; create fails cleanly
// when one is busy, and the caller tries another base.
int RandomBasePort() {
  static std::mt19937 generator{std::random_device{}()};
  std::uniform_int_distribution<int> slot(0, 4999);
  return 30000 + 6 * slot(generator);
}

}  // namespace

StatusOr<std::unique_ptr<PatroniLab>> PatroniLab::Create() {
  Status last;
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    // Patroni and PostgreSQL run as user postgres, which must enter it.
    std::string dir = "/tmp/cpha-patroni-XXXXXX";
    if (mkdtemp(dir.data()) == nullptr || chmod(dir.c_str(), 0755) != 0) {
      return Status::Error(ErrorKind::kFailedPrecondition,
                           "cannot make a directory like " + dir);
    }
    const int base = RandomBasePort();
    CommandResult created =
        RunCommand({kScript, "create", dir, std::to_string(base)},
                   {.timeout = kScriptTimeout});
    if (created.ok()) {
      std::array<std::string, 2> via;
      for (int index = 0; index < 2; ++index) {
        CommandResult address =
            RunCommand({kScript, "via", dir, std::to_string(index + 1)});
        via[index] = Trim(address.out);
      }
      return std::make_unique<PatroniLab>(PassKey{}, dir, base, via);
    }
    RunCommand({kScript, "destroy", dir}, {.timeout = kScriptTimeout});
    last = ScriptError("patroni.sh create " + dir, created);
    if (created.err.find("is busy") == std::string::npos) break;
  }
  return last;
}

PatroniLab::PatroniLab(PassKey, std::string dir, int base_port,
                       std::array<std::string, 2> via)
    : dir_(std::move(dir)), base_port_(base_port), via_(std::move(via)) {}

PatroniLab::~PatroniLab() {
  RunCommand({kScript, "destroy", dir_}, {.timeout = kScriptTimeout});
}

StatusOr<std::string> PatroniLab::Leader() const {
  CommandResult result = RunCommand({kScript, "leader", dir_});
  if (!result.ok()) return ScriptError("patroni.sh leader", result);
  return Trim(result.out);
}

std::string PatroniLab::Other(const std::string& node) {
  return node == "node1" ? "node2" : "node1";
}

Status PatroniLab::WaitHealthy(std::chrono::seconds timeout) const {
  return Script("wait-healthy", {std::to_string(timeout.count())});
}

Status PatroniLab::Switchover() const { return Script("switchover", {}); }

Status PatroniLab::Failover(const std::string& candidate) const {
  return Script("failover", {candidate});
}

Status PatroniLab::KillPostgres(const std::string& node) const {
  return Script("kill-postgres", {node});
}

Status PatroniLab::Restart(const std::string& node) const {
  return Script("restart", {node});
}

Status PatroniLab::Stop(const std::string& node) const {
  return Script("stop", {node});
}

Status PatroniLab::Kill(const std::string& node) const {
  return Script("kill", {node});
}

Status PatroniLab::Start(const std::string& node) const {
  return Script("start", {node});
}

Status PatroniLab::Partition(const std::string& via, bool on) const {
  return Script("partition", {via, on ? "on" : "off"});
}

StatusOr<std::string> PatroniLab::Psql(const std::string& node,
                                       const std::string& sql,
                                       const std::string& database) const {
  CommandResult result =
      RunCommand({kPsql, "-X", "-Atq", "-v", "ON_ERROR_STOP=1", "-h",
                  dir_ + "/" + node, "-p", std::to_string(PgPort(node)), "-U",
                  "postgres", "-d", database, "-c", sql},
                 {.timeout = std::chrono::seconds(30)});
  if (!result.ok()) {
    return Status::Error(
        ErrorKind::kFailedPrecondition,
        "psql on " + node + " (" + sql + "): " + result.Describe());
  }
  return Trim(result.out);
}

StatusOr<std::string> PatroniLab::PsqlLeader(
    const std::string& sql, const std::string& database) const {
  StatusOr<std::string> leader = Leader();
  if (!leader.ok()) return leader.status();
  return Psql(leader.value(), sql, database);
}

std::string PatroniLab::MultiUrl(const std::string& via,
                                 const std::string& database) const {
  return "postgresql://postgres:postgres@" + via + ":" +
         std::to_string(PgPort("node1")) + "," + via + ":" +
         std::to_string(PgPort("node2")) + "/" + database +
         "?target_session_attrs=read-write";
}

std::string PatroniLab::LogTails(int lines) const {
  std::string text;
  for (const char* name : {"node1", "node2", "etcd"}) {
    CommandResult tail = RunCommand(
        {"tail", "-n", std::to_string(lines), dir_ + "/" + name + ".log"});
    text += "--- " + std::string(name) + ".log ---\n" + tail.out;
  }
  return text;
}

Status PatroniLab::Script(const std::string& subcommand,
                          const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {kScript, subcommand, dir_};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result = RunCommand(argv, {.timeout = kScriptTimeout});
  if (!result.ok()) return ScriptError("patroni.sh " + subcommand, result);
  return Status();
}

int PatroniLab::PgPort(const std::string& node) const {
  return base_port_ + (node == "node1" ? 2 : 3);
}

}  // namespace cpha::failover

#include "tests/integration/pg_pair.h"

#include <sys/stat.h>

#include <cstdlib>
#include <sstream>

#include "tests/integration/command.h"
#include "tests/integration/loopback.h"

#ifndef CPHA_SOURCE_DIR
#error "CPHA_SOURCE_DIR must name the source tree (set by CMake)"
#endif

namespace cpha::integration {
namespace {

const std::string kScript = std::string(CPHA_SOURCE_DIR) + "/lab/pgpair.sh";
constexpr std::chrono::seconds kScriptTimeout(90);

Status ScriptError(const std::string& what, const CommandResult& result) {
  return Status::Error(ErrorKind::kFailedPrecondition,
                       what + ": " + result.Describe());
}

StatusOr<std::string> ScriptOutput(const std::vector<std::string>& argv) {
  CommandResult result = RunCommand(argv, {.timeout = kScriptTimeout});
  if (!result.ok()) return ScriptError("pgpair.sh " + argv[1], result);
  return Trim(result.out);
}

// postgresql://USER:PASSWORD@HOSTS/DATABASE[?QUERY] with the login's
// non-empty fields put in.
std::string ApplyLogin(const std::string& url, const PgLogin& login) {
  const std::string scheme = "postgresql://";
  size_t at = url.find('@');
  size_t colon = url.find(':', scheme.size());
  size_t slash = url.find('/', at);
  size_t query = url.find('?', slash);
  if (at == std::string::npos || colon > at || slash == std::string::npos) {
    return url;
  }
  std::string user = url.substr(scheme.size(), colon - scheme.size());
  std::string password = url.substr(colon + 1, at - colon - 1);
  std::string hosts = url.substr(at + 1, slash - at - 1);
  std::string database =
      url.substr(slash + 1, query == std::string::npos ? std::string::npos
                                                       : query - slash - 1);
  std::string rest = query == std::string::npos ? "" : url.substr(query);
  if (!login.user.empty()) user = login.user;
  if (!login.password.empty()) password = login.password;
  if (!login.database.empty()) database = login.database;
  return scheme + user + ":" + password + "@" + hosts + "/" + database + rest;
}

}  // namespace

const char* PgNodeName(PgNode node) {
  switch (node) {
    case PgNode::kPrimary:
      return "primary";
    case PgNode::kStandby:
      return "standby";
  }
  return "unknown";
}

StatusOr<std::unique_ptr<PgPair>> PgPair::Create() {
  // The servers run as user postgres, which must enter the directory.
  std::string dir = "/tmp/cpha-it-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr || chmod(dir.c_str(), 0755) != 0) {
    return Status::Error(ErrorKind::kFailedPrecondition,
                         "cannot make a directory like " + dir);
  }
  int primary_port = FreeLoopbackPort();
  int standby_port = FreeLoopbackPort();
  while (standby_port == primary_port) standby_port = FreeLoopbackPort();

  CommandResult created =
      RunCommand({kScript, "create", dir, std::to_string(primary_port),
                  std::to_string(standby_port)},
                 {.timeout = kScriptTimeout});
  if (!created.ok()) {
    RunCommand({kScript, "destroy", dir});
    return ScriptError("pgpair.sh create " + dir, created);
  }

  std::string urls[3];
  const char* targets[3] = {"primary", "standby", "multi"};
  for (int i = 0; i < 3; ++i) {
    StatusOr<std::string> url = ScriptOutput({kScript, "url", dir, targets[i]});
    if (!url.ok()) {
      RunCommand({kScript, "destroy", dir});
      return url.status();
    }
    urls[i] = url.value();
  }
  return std::make_unique<PgPair>(PassKey{}, dir, primary_port, standby_port,
                                  urls[0], urls[1], urls[2]);
}

PgPair::PgPair(PassKey, std::string dir, int primary_port, int standby_port,
               std::string primary_url, std::string standby_url,
               std::string multi_url)
    : dir_(std::move(dir)),
      primary_port_(primary_port),
      standby_port_(standby_port),
      primary_url_(std::move(primary_url)),
      standby_url_(std::move(standby_url)),
      multi_url_(std::move(multi_url)) {}

PgPair::~PgPair() {
  RunCommand({kScript, "destroy", dir_}, {.timeout = kScriptTimeout});
}

int PgPair::port(PgNode node) const {
  return node == PgNode::kPrimary ? primary_port_ : standby_port_;
}

Status PgPair::Start(PgNode node) const {
  return Script("start", {PgNodeName(node)});
}

Status PgPair::Stop(PgNode node) const {
  return Script("stop", {PgNodeName(node), "fast"});
}

Status PgPair::Kill(PgNode node) const {
  return Script("kill", {PgNodeName(node)});
}

Status PgPair::Promote() const { return Script("promote", {}); }

Status PgPair::WaitSync(std::chrono::seconds timeout) const {
  return Script("wait-sync", {std::to_string(timeout.count())});
}

StatusOr<std::string> PgPair::Psql(PgNode node, const std::string& sql,
                                   const std::string& database,
                                   std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {
      kScript, "psql", dir_, PgNodeName(node), "-Atq", "-v", "ON_ERROR_STOP=1"};
  if (!database.empty()) {
    argv.push_back("-c");
    argv.push_back("\\connect " + database);
  }
  argv.push_back("-c");
  argv.push_back(sql);
  CommandResult result = RunCommand(argv, {.timeout = timeout});
  if (!result.ok()) {
    return Status::Error(ErrorKind::kQuery, "psql on " +
                                                std::string(PgNodeName(node)) +
                                                " failed for \"" + sql +
                                                "\": " + result.Describe());
  }
  return Trim(result.out);
}

std::string PgPair::Url(PgNode node, const PgLogin& login) const {
  return ApplyLogin(node == PgNode::kPrimary ? primary_url_ : standby_url_,
                    login);
}

std::string PgPair::MultiUrl(const PgLogin& login) const {
  return ApplyLogin(multi_url_, login);
}

std::string PgPair::LogTail(PgNode node, int lines) const {
  CommandResult tail = RunCommand({"tail", "-n", std::to_string(lines),
                                   dir_ + "/" + PgNodeName(node) + ".log"});
  return tail.out;
}

Status PgPair::Script(const std::string& subcommand,
                      const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {kScript, subcommand, dir_};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult result = RunCommand(argv, {.timeout = kScriptTimeout});
  if (!result.ok()) return ScriptError("pgpair.sh " + subcommand, result);
  return Status();
}

std::vector<std::vector<std::string>> SplitRows(const std::string& output) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::vector<std::string> columns;
    size_t start = 0;
    for (;;) {
      size_t bar = line.find('|', start);
      columns.push_back(line.substr(start, bar - start));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    rows.push_back(std::move(columns));
  }
  return rows;
}

}  // namespace cpha::integration

#include "exporter/cli.h"

#include <boost/program_options.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "exporter/http_client.h"

namespace cpha {
namespace po = boost::program_options;
namespace {

using nlohmann::json;

struct CliOptions {
  std::string verb;
  std::string url;
  std::string operator_name;
  std::string reason;
  std::string output;
  std::string token;
  int timeout_ms = 10000;
  bool timeout_given = false;
  std::string backup_id;
  std::string output_dir;
  bool confirm = false;
};

// Backups and restores wait on pg_dump and pg_restore: without --timeout
// the CLI waits a little longer than the sidecar's default tool timeout.
constexpr int kBackupTimeoutMs = 11 * 60 * 1000;

po::options_description Describe() {
  po::options_description desc(
      "cp-ha-sidecar ha <status|quorum|failover trigger|backup create|"
      "backup list|backup restore> [options]");
  desc.add_options()(
      "orchestrator-url",
      po::value<std::string>()->default_value("http://127.0.0.1:8888"),
      "the sidecar to talk to")("operator", po::value<std::string>(),
                                "who asks (mutating verbs)")(
      "reason", po::value<std::string>(), "why (mutating verbs)")(
      "output", po::value<std::string>()->default_value("text"),
      "text or json")("token-file", po::value<std::string>(),
                      "file holding the admin token (else CP_HA_TOKEN)")(
      "timeout", po::value<int>()->default_value(10000),
      "milliseconds to wait for the answer")(
      "backup-id", po::value<std::string>(), "backup verbs")(
      "output-dir", po::value<std::string>(), "backup verbs")(
      "confirm", po::bool_switch(), "backup restore");
  return desc;
}

Status Usage(const std::string& message) {
  return Status::Error(ErrorKind::kInvalidArgument, message);
}

StatusOr<std::string> ReadToken(const po::variables_map& vm,
                                const EnvLookup& env) {
  if (vm.count("token-file")) {
    std::ifstream file(vm["token-file"].as<std::string>());
    if (!file) {
      return Usage("--token-file: cannot read " +
                   vm["token-file"].as<std::string>());
    }
    std::string token;
    std::getline(file, token);
    return token;
  }
  return env("CP_HA_TOKEN").value_or("");
}

StatusOr<CliOptions> ParseCli(const std::vector<std::string>& args,
                              const EnvLookup& env) {
  CliOptions options;
  size_t first_flag = 0;
  while (first_flag < args.size() && args[first_flag].rfind("--", 0) != 0) {
    options.verb += (options.verb.empty() ? "" : " ") + args[first_flag];
    ++first_flag;
  }

  po::variables_map vm;
  try {
    std::vector<std::string> flags(args.begin() + first_flag, args.end());
    po::store(po::command_line_parser(flags).options(Describe()).run(), vm);
    po::notify(vm);
  } catch (const po::error& error) {
    return Usage(error.what());
  }
  options.url = vm["orchestrator-url"].as<std::string>();
  options.output = vm["output"].as<std::string>();
  options.timeout_ms = vm["timeout"].as<int>();
  options.timeout_given = !vm["timeout"].defaulted();
  if (vm.count("backup-id")) {
    options.backup_id = vm["backup-id"].as<std::string>();
  }
  if (vm.count("output-dir")) {
    options.output_dir = vm["output-dir"].as<std::string>();
  }
  options.confirm = vm["confirm"].as<bool>();
  if (vm.count("operator"))
    options.operator_name = vm["operator"].as<std::string>();
  if (vm.count("reason")) options.reason = vm["reason"].as<std::string>();
  if (options.output != "text" && options.output != "json") {
    return Usage("--output must be text or json");
  }
  StatusOr<std::string> token = ReadToken(vm, env);
  if (!token.ok()) return token.status();
  options.token = token.value();
  return options;
}

std::string YesNo(const json& value) {
  return value.is_boolean() && value.get<bool>() ? "true" : "false";
}

void PrintStatus(const json& status, std::FILE* out) {
  std::ostringstream text;
  text << "Node:           " << status.value("holder_id", "") << " ("
       << status.value("role", "") << ")\n"
       << "Epoch:          " << status["current_epoch"].dump() << " (leader "
       << status.value("leader_holder_id", "") << ")\n"
       << "Read-Ready:     " << YesNo(status["read_ready"]);
  if (!status.value("read_ready_reason", "").empty()) {
    text << " (" << status.value("read_ready_reason", "") << ")";
  }
  text << "\nWrite-Ready:    " << YesNo(status["write_ready"]);
  if (!status.value("write_ready_reason", "").empty()) {
    text << " (" << status.value("write_ready_reason", "") << ")";
  }
  const json& quorum = status["quorum"];
  text << "\nServer:         " << status.value("connected_server", "")
       << (status.value("connected_to_primary", false) ? " (primary)"
                                                       : " (not primary)")
       << "\nSync standbys:  " << quorum.value("sync_replica_count", 0)
       << " (minimum " << quorum.value("min_sync_replicas", 0) << ")\n";
  for (const json& row : quorum["replication"]) {
    text << "  replica " << row.value("application_name", "") << " "
         << row.value("state", "") << " " << row.value("sync_state", "")
         << "\n";
  }
  text << "Step-down in:   " << status.value("stepdown_deadline_seconds", 0.0)
       << " s\nAudit:          " << status.value("audit_status", "") << "\n";
  std::fputs(text.str().c_str(), out);
}

int Fail(std::FILE* err, int code, const std::string& message) {
  std::fprintf(err, "cp-ha-sidecar ha: %s\n", message.c_str());
  return code;
}

// Calls the node and maps the outcome to an exit code; on 2xx hands the
// parsed body to `print`.
template <typename Print>
int CallAndPrint(const CliOptions& options, const std::string& method,
                 const std::string& path, const json& body, std::FILE* out,
                 std::FILE* err, Print print) {
  StatusOr<HttpAnswer> answer =
      HttpCall(options.url, method, path, body.is_null() ? "" : body.dump(),
               options.token, options.timeout_ms);
  if (!answer.ok()) {
    return Fail(err,
                answer.status().kind() == ErrorKind::kInvalidArgument
                    ? kCliUsage
                    : kCliUnreachable,
                answer.status().message());
  }
  json parsed = json::parse(answer->body, nullptr, false);
  if (answer->status / 100 != 2) {
    std::string why =
        parsed.is_object() ? parsed.value("error", answer->body) : answer->body;
    return Fail(err, kCliRefused,
                options.url + " answered " + std::to_string(answer->status) +
                    ": " + why);
  }
  if (options.output == "json" || parsed.is_discarded()) {
    std::fprintf(
        out, "%s\n",
        parsed.is_discarded() ? answer->body.c_str() : parsed.dump(2).c_str());
  } else {
    print(parsed);
  }
  return kCliOk;
}

void PrintBackup(const json& row, std::FILE* out) {
  std::fprintf(out,
               "Backup %s created: %s\n  size %lld bytes, %s, epoch %lld, "
               "by %s (%s)\n",
               row.value("id", "").c_str(), row.value("file", "").c_str(),
               static_cast<long long>(row.value("size_bytes", int64_t{0})),
               row.value("checksum", "").c_str(),
               static_cast<long long>(row.value("epoch", int64_t{0})),
               row.value("operator", "").c_str(),
               row.value("reason", "").c_str());
}

void PrintBackupList(const json& answer, std::FILE* out) {
  const json& rows =
      answer.contains("backups") ? answer["backups"] : json::array();
  if (rows.empty()) {
    std::fputs("No backups recorded.\n", out);
    return;
  }
  std::fprintf(out, "%-24s %-20s %12s %6s  %s\n", "ID", "CREATED", "BYTES",
               "EPOCH", "FILE");
  for (const json& row : rows) {
    std::fprintf(out, "%-24s %-20s %12lld %6lld  %s\n",
                 row.value("id", "").c_str(),
                 row.value("created_at", "").c_str(),
                 static_cast<long long>(row.value("size_bytes", int64_t{0})),
                 static_cast<long long>(row.value("epoch", int64_t{0})),
                 row.value("file", "").c_str());
  }
}

void PrintRestore(const json& answer, std::FILE* out) {
  std::fprintf(out,
               "Restored backup %s\n  epoch before %lld, now %lld (never "
               "backwards)\n",
               answer["backup"].value("id", "").c_str(),
               static_cast<long long>(answer.value("epoch_before", int64_t{0})),
               static_cast<long long>(answer.value("epoch_after", int64_t{0})));
}

// The mutating backup verbs need an operator, a reason and a backup id.
std::string MissingBackupFlags(const CliOptions& options) {
  if (options.operator_name.empty() || options.reason.empty() ||
      options.backup_id.empty()) {
    return options.verb + " needs --operator, --reason and --backup-id";
  }
  return "";
}

int RunBackupVerb(CliOptions options, std::FILE* out, std::FILE* err) {
  if (!options.timeout_given) options.timeout_ms = kBackupTimeoutMs;
  if (options.verb == "backup list") {
    return CallAndPrint(
        options, "GET", "/v1/ha/backups", nullptr, out, err,
        [out](const json& body) { PrintBackupList(body, out); });
  }
  if (options.verb == "backup create") {
    if (std::string missing = MissingBackupFlags(options); !missing.empty()) {
      return Fail(err, kCliUsage, missing);
    }
    json body = {{"operator", options.operator_name},
                 {"reason", options.reason},
                 {"backup_id", options.backup_id}};
    if (!options.output_dir.empty()) body["output_dir"] = options.output_dir;
    return CallAndPrint(options, "POST", "/v1/ha/backups", body, out, err,
                        [out](const json& row) { PrintBackup(row, out); });
  }
  if (options.verb == "backup restore") {
    if (std::string missing = MissingBackupFlags(options); !missing.empty()) {
      return Fail(err, kCliUsage, missing);
    }
    if (!options.confirm) {
      return Fail(err, kCliUsage,
                  "backup restore replaces the database: add --confirm");
    }
    json body = {{"operator", options.operator_name},
                 {"reason", options.reason},
                 {"backup_id", options.backup_id},
                 {"confirm", true}};
    return CallAndPrint(
        options, "POST", "/v1/ha/backups/restore", body, out, err,
        [out](const json& answer) { PrintRestore(answer, out); });
  }
  return Fail(err, kCliUsage,
              "unknown verb '" + options.verb +
                  "'; use backup create, backup list or backup restore");
}

}  // namespace

int RunCli(const std::vector<std::string>& args, const EnvLookup& env,
           std::FILE* out, std::FILE* err) {
  StatusOr<CliOptions> parsed = ParseCli(args, env);
  if (!parsed.ok()) return Fail(err, kCliUsage, parsed.status().message());
  const CliOptions& options = parsed.value();

  if (options.verb == "status") {
    return CallAndPrint(options, "GET", "/v1/ha/status", nullptr, out, err,
                        [out](const json& body) { PrintStatus(body, out); });
  }
  if (options.verb == "quorum") {
    return CallAndPrint(options, "GET", "/v1/ha/quorum", nullptr, out, err,
                        [out](const json& body) {
                          std::fprintf(out, "%s\n", body.dump(2).c_str());
                        });
  }
  if (options.verb == "failover trigger") {
    if (options.operator_name.empty() || options.reason.empty()) {
      return Fail(err, kCliUsage,
                  "failover trigger needs --operator and --reason");
    }
    json body = {{"operator", options.operator_name},
                 {"reason", options.reason}};
    return CallAndPrint(
        options, "POST", "/v1/ha/failover", body, out, err,
        [out](const json& answer) {
          std::fprintf(out, "Graceful resignation: %s resigned epoch %lld\n",
                       answer.value("holder_id", "").c_str(),
                       static_cast<long long>(
                           answer.value("resigned_epoch", int64_t{0})));
        });
  }
  if (options.verb.rfind("backup", 0) == 0) {
    return RunBackupVerb(options, out, err);
  }
  return Fail(err, kCliUsage,
              "unknown verb '" + options.verb +
                  "'; use status, quorum, failover trigger, backup create, "
                  "backup list or backup restore");
}

}  // namespace cpha

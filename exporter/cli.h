// The operator CLI: `cp-ha-sidecar ha <verb> [options]`, with the runbook's
// verbs and flags (section 5):
//   ha status            --orchestrator-url URL [--output json]
//   ha quorum            --orchestrator-url URL [--output json]
//   ha failover trigger  --orchestrator-url URL --operator NAME --reason TEXT
//   ha backup create     --orchestrator-url URL --operator NAME --reason TEXT
//                        --backup-id ID [--output-dir DIR]
//   ha backup list       --orchestrator-url URL [--output json]
//   ha backup restore    --orchestrator-url URL --operator NAME --reason TEXT
//                        --backup-id ID --confirm
// Backup create and restore wait up to 11 minutes unless --timeout says
// otherwise.
// The token for mutating verbs comes from --token-file (its first line, as
// the sidecar reads --admin-token-file) or CP_HA_TOKEN. What a node
// answers is printed by RenderCliAnswer (exporter/cli_answer.h).
//
// Exit codes: 0 success; 1 the node answered with a refusal or error;
// 2 bad usage; 3 the node could not be reached.
//
// Thread-safety: runs on the caller's thread.

#ifndef CPHA_EXPORTER_CLI_H_
#define CPHA_EXPORTER_CLI_H_

#include <cstdio>
#include <string>
#include <vector>

#include "exporter/options.h"

namespace cpha {

inline constexpr int kCliOk = 0;
inline constexpr int kCliRefused = 1;
inline constexpr int kCliUsage = 2;
inline constexpr int kCliUnreachable = 3;

// `args` are the words after "ha". Prints results on `out`, one-line
// errors on `err`.
int RunCli(const std::vector<std::string>& args, const EnvLookup& env,
           std::FILE* out, std::FILE* err);

}  // namespace cpha

#endif  // CPHA_EXPORTER_CLI_H_

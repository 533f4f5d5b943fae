// Test support for cp-ha-workload: run it to completion (setup, check), or
// start it in the background (run, watch) as an integration::ChildProcess
// and stop it with SIGTERM the way an orchestrator would. For the workload
// tests here and the failover scenarios of issue #7.
//
// Thread-safety: free functions; a ChildProcess belongs to the thread that
// owns it.

#ifndef CPHA_TESTS_FAILOVER_WORKLOAD_WORKLOAD_PROCESS_H_
#define CPHA_TESTS_FAILOVER_WORKLOAD_WORKLOAD_PROCESS_H_

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ha/status.h"
#include "tests/integration/child_process.h"
#include "tests/integration/command.h"

namespace cpha::workload {

// The built cp-ha-workload.
const char* WorkloadBinary();

// Runs `cp-ha-workload args...` to completion; killed after `timeout`.
integration::CommandResult RunWorkloadTool(
    const std::vector<std::string>& args,
    std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Starts `cp-ha-workload args...` in the background, stdout and stderr in
// `log_path`. Fails with the errno text when it cannot start.
StatusOr<std::unique_ptr<integration::ChildProcess>> StartWorkloadTool(
    const std::vector<std::string>& args, const std::string& log_path);

// Sends SIGTERM, waits up to `timeout` and returns the JSON summary the
// subcommand printed last. Fails naming the exit status and the log when
// the process did not exit with 0 or printed no JSON.
StatusOr<nlohmann::json> StopWorkloadTool(
    integration::ChildProcess& process,
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The last non-empty line of `output` parsed as JSON (the summary every
// subcommand prints last); a discarded value when it is not JSON.
nlohmann::json LastJsonLine(const std::string& output);

}  // namespace cpha::workload

#endif  // CPHA_TESTS_FAILOVER_WORKLOAD_WORKLOAD_PROCESS_H_

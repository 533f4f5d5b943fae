#include "tests/failover/workload/workload_process.h"

#include <signal.h>

#ifndef CPHA_WORKLOAD_BINARY
#error "CPHA_WORKLOAD_BINARY must name the built cp-ha-workload (set by CMake)"
#endif

namespace cpha::workload {
namespace {

std::vector<std::string> Argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {WorkloadBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

const char* WorkloadBinary() { return CPHA_WORKLOAD_BINARY; }

integration::CommandResult RunWorkloadTool(const std::vector<std::string>& args,
                                           std::chrono::milliseconds timeout) {
  return integration::RunCommand(Argv(args), {.timeout = timeout});
}

StatusOr<std::unique_ptr<integration::ChildProcess>> StartWorkloadTool(
    const std::vector<std::string>& args, const std::string& log_path) {
  return integration::ChildProcess::Start(Argv(args), log_path);
}

StatusOr<nlohmann::json> StopWorkloadTool(integration::ChildProcess& process,
                                          std::chrono::milliseconds timeout) {
  const std::string name =
      "cp-ha-workload (pid " + std::to_string(process.pid()) + ")";
  process.Kill(SIGTERM);
  std::optional<integration::ExitStatus> exited = process.WaitExit(timeout);
  if (!exited) {
    return Status::Error(
        ErrorKind::kTimeout,
        name + " still runs " + std::to_string(timeout.count()) +
            " ms after SIGTERM; its log:\n" + process.ReadLog());
  }

  nlohmann::json summary = LastJsonLine(process.ReadLog());
  if (!exited->Clean() || summary.is_discarded()) {
    return Status::Error(ErrorKind::kFailedPrecondition,
                         name + " ended with " + exited->ToString() +
                             "; its log:\n" + process.ReadLog());
  }
  return summary;
}

nlohmann::json LastJsonLine(const std::string& output) {
  const size_t end = output.find_last_not_of("\n ");
  if (end == std::string::npos) return nlohmann::json::value_t::discarded;
  size_t start = output.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return nlohmann::json::parse(output.substr(start, end + 1 - start), nullptr,
                               /*allow_exceptions=*/false);
}

}  // namespace cpha::workload

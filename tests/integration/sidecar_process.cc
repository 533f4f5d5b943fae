#include "tests/integration/sidecar_process.h"

#include <algorithm>
#include <regex>
#include <thread>

namespace cpha::integration {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollInterval(5);

std::vector<std::string> Argv(const SidecarConfig& config) {
  std::vector<std::string> argv = {
      config.binary,    "--postgres-url", config.postgres_url, "--holder-id",
      config.holder_id, "--listen",       "127.0.0.1:0"};
  argv.insert(argv.end(), config.flags.begin(), config.flags.end());
  return argv;
}

}  // namespace

StatusOr<std::unique_ptr<SidecarProcess>> SidecarProcess::Start(
    const SidecarConfig& config, std::chrono::milliseconds ready_timeout) {
  StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start(Argv(config), config.log_path);
  if (!child.ok()) return child.status();

  auto process = std::make_unique<SidecarProcess>(PassKey{}, config,
                                                  std::move(child.value()));
  Status serving = process->WaitServing(ready_timeout);
  if (!serving.ok()) return serving;  // the destructor kills and reaps it
  return process;
}

SidecarProcess::SidecarProcess(PassKey, SidecarConfig config,
                               std::unique_ptr<ChildProcess> process)
    : config_(std::move(config)), process_(std::move(process)) {}

std::string SidecarProcess::SanitizerReport() const {
  static constexpr const char* kMarkers[] = {
      "ERROR: AddressSanitizer",  "ERROR: LeakSanitizer",
      "WARNING: ThreadSanitizer", "ThreadSanitizer: ",
      "runtime error: ",  // UndefinedBehaviorSanitizer
  };
  const std::string log = ReadLog();
  size_t first = std::string::npos;
  for (const char* marker : kMarkers) {
    first = std::min(first, log.find(marker));
  }
  if (first == std::string::npos) return "";
  size_t line_start = log.rfind('\n', first);
  return log.substr(line_start == std::string::npos ? 0 : line_start + 1);
}

Status SidecarProcess::WaitServing(std::chrono::milliseconds timeout) {
  static const std::regex kServing(
      R"(msg=serving listen=[^ ]*:([0-9]+)(\s|$))");
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    std::smatch match;
    std::string log = ReadLog();
    if (std::regex_search(log, match, kServing)) {
      port_ = std::stoi(match[1].str());
      return Status();
    }
    std::optional<ExitStatus> exited = WaitExit(std::chrono::milliseconds(0));
    if (exited) {
      return Status::Error(ErrorKind::kFailedPrecondition,
                           "sidecar " + config_.holder_id + " exited (" +
                               exited->ToString() +
                               ") before serving; its log:\n" + log);
    }
    if (Clock::now() >= deadline) {
      return Status::Error(
          ErrorKind::kTimeout,
          "sidecar " + config_.holder_id + " logged no serving line within " +
              std::to_string(timeout.count()) + " ms; its log:\n" + log);
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

}  // namespace cpha::integration

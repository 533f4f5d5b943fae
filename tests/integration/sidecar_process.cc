#include "tests/integration/sidecar_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/integration/spawn_handles.h"

extern char** environ;

namespace cpha::integration {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollInterval(5);

ExitStatus Decode(int status) {
  ExitStatus exit;
  if (WIFSIGNALED(status)) {
    exit.signaled = true;
    exit.signal = WTERMSIG(status);
  } else {
    exit.code = WEXITSTATUS(status);
  }
  return exit;
}

std::vector<std::string> Argv(const SidecarConfig& config) {
  std::vector<std::string> argv = {
      config.binary,    "--postgres-url", config.postgres_url, "--holder-id",
      config.holder_id, "--listen",       "127.0.0.1:0"};
  argv.insert(argv.end(), config.flags.begin(), config.flags.end());
  return argv;
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (signaled) {
    return "killed by signal " + std::to_string(signal) + " (" +
           strsignal(signal) + ")";
  }
  return "exit code " + std::to_string(code);
}

StatusOr<std::unique_ptr<SidecarProcess>> SidecarProcess::Start(
    const SidecarConfig& config, std::chrono::milliseconds ready_timeout) {
  SpawnFileActions actions;
  posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(actions.get(), 2, config.log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(actions.get(), 2, 1);

  std::vector<std::string> argv = Argv(config);
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);

  SpawnAttributes attributes;
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, config.binary.c_str(), actions.get(),
                            attributes.get(), args.data(), environ);
  if (spawned != 0) {
    return Status::Error(
        ErrorKind::kFailedPrecondition,
        "cannot start " + config.binary + ": " + std::strerror(spawned));
  }

  auto process = std::make_unique<SidecarProcess>(PassKey{}, config, pid);
  Status serving = process->WaitServing(ready_timeout);
  if (!serving.ok()) return serving;  // the destructor kills and reaps it
  return process;
}

SidecarProcess::SidecarProcess(PassKey, SidecarConfig config, pid_t pid)
    : config_(std::move(config)), pid_(pid) {}

SidecarProcess::~SidecarProcess() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

bool SidecarProcess::Kill(int signal) {
  if (!running()) return false;
  return kill(pid_, signal) == 0;
}

std::optional<ExitStatus> SidecarProcess::WaitExit(
    std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (running()) {
    int status = 0;
    pid_t reaped = waitpid(pid_, &status, WNOHANG);
    if (reaped == pid_) {
      exit_ = Decode(status);
      break;
    }
    if (reaped < 0 && errno != EINTR) break;  // not our child any more
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPollInterval);
  }
  return exit_;
}

std::string SidecarProcess::ReadLog() const {
  std::ifstream file(config_.log_path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

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

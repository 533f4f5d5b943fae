#include "tests/integration/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <fstream>
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

}  // namespace

std::string ExitStatus::ToString() const {
  if (signaled) {
    return "killed by signal " + std::to_string(signal) + " (" +
           strsignal(signal) + ")";
  }
  return "exit code " + std::to_string(code);
}

StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::vector<std::string>& argv, const std::string& log_path) {
  SpawnFileActions actions;
  posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(actions.get(), 2, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(actions.get(), 2, 1);

  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (std::string& arg : copy) args.push_back(arg.data());
  args.push_back(nullptr);

  SpawnAttributes attributes;
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, args[0], actions.get(), attributes.get(),
                            args.data(), environ);
  if (spawned != 0) {
    return Status::Error(
        ErrorKind::kFailedPrecondition,
        "cannot start " + argv[0] + ": " + std::strerror(spawned));
  }
  return std::make_unique<ChildProcess>(PassKey{}, pid, log_path);
}

ChildProcess::ChildProcess(PassKey, pid_t pid, std::string log_path)
    : pid_(pid), log_path_(std::move(log_path)) {}

ChildProcess::~ChildProcess() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

bool ChildProcess::Kill(int signal) {
  if (!running()) return false;
  return kill(pid_, signal) == 0;
}

std::optional<ExitStatus> ChildProcess::WaitExit(
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

std::string ChildProcess::ReadLog() const {
  std::ifstream file(log_path_);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace cpha::integration

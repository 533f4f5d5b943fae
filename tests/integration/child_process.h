// ChildProcess: a program started in the background with its stdout and
// stderr in a log file, for the sidecars and the workload clients that the
// tests run. The destructor kills (SIGKILL) and reaps the process if it
// still runs, so a failing test leaves nothing behind.
//
// Thread-safety: pid() and log_path() are constant and safe from any
// thread; the other methods belong to the thread that owns the object.

#ifndef CPHA_TESTS_INTEGRATION_CHILD_PROCESS_H_
#define CPHA_TESTS_INTEGRATION_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ha/status.h"

namespace cpha::integration {

// How a process ended: exactly one of code and signal is meaningful.
struct ExitStatus {
  bool signaled = false;
  int code = 0;    // the exit code when !signaled
  int signal = 0;  // the signal number when signaled

  bool Clean() const { return !signaled && code == 0; }
  std::string ToString() const;
};

class ChildProcess {
 public:
  // Starts argv[0] (a path) with argv, standard input from /dev/null and
  // both outputs appended to `log_path`, which is created or truncated.
  static StatusOr<std::unique_ptr<ChildProcess>> Start(
      const std::vector<std::string>& argv, const std::string& log_path);

  ~ChildProcess();

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  // Sends `signal`; false when the process was already reaped.
  bool Kill(int signal);
  // Waits up to `timeout` for the process to end and reaps it; nullopt when
  // it still runs. Once reaped, returns the same status again at once.
  std::optional<ExitStatus> WaitExit(std::chrono::milliseconds timeout);
  // True until WaitExit has reaped the process.
  bool running() const { return !exit_.has_value(); }

  // Everything the process wrote so far.
  std::string ReadLog() const;

 private:
  struct PassKey {};

 public:
  // Use Start(); public only for std::make_unique.
  ChildProcess(PassKey, pid_t pid, std::string log_path);

 private:
  const pid_t pid_;
  const std::string log_path_;
  std::optional<ExitStatus> exit_;
};

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_CHILD_PROCESS_H_

// SidecarProcess: one running cp-ha-sidecar, started from the built binary
// with --listen 127.0.0.1:0 and its stdout and stderr in a log file. Start
// returns once the sidecar logged the address it serves on. The destructor
// kills (SIGKILL) and reaps the process if it still runs.
//
// Thread-safety: port(), pid() and holder_id() are constant and safe from
// any thread; the other methods belong to the test thread.

#ifndef CPHA_TESTS_INTEGRATION_SIDECAR_PROCESS_H_
#define CPHA_TESTS_INTEGRATION_SIDECAR_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ha/status.h"
#include "tests/integration/child_process.h"

namespace cpha::integration {

struct SidecarConfig {
  std::string binary;
  std::string postgres_url;
  std::string holder_id;
  // Created or truncated; receives stdout and stderr.
  std::string log_path;
  // Further flags, e.g. {"--min-sync-replicas", "1"}.
  std::vector<std::string> flags;
};

class SidecarProcess {
 public:
  // Starts the sidecar and waits up to `ready_timeout` for its "serving"
  // log line. Fails with the log when the process exits first or never
  // says where it listens (the process is then killed).
  static StatusOr<std::unique_ptr<SidecarProcess>> Start(
      const SidecarConfig& config,
      std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));

  ~SidecarProcess() = default;

  SidecarProcess(const SidecarProcess&) = delete;
  SidecarProcess& operator=(const SidecarProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  const std::string& holder_id() const { return config_.holder_id; }
  const std::string& log_path() const { return config_.log_path; }

  // Sends `signal`; false when the process was already reaped.
  bool Kill(int signal) { return process_->Kill(signal); }
  // Waits up to `timeout` for the process to end and reaps it; nullopt when
  // it still runs. Once reaped, returns the same status again at once.
  std::optional<ExitStatus> WaitExit(std::chrono::milliseconds timeout) {
    return process_->WaitExit(timeout);
  }
  // True until WaitExit has reaped the process.
  bool running() const { return process_->running(); }

  // Everything the sidecar logged so far.
  std::string ReadLog() const { return process_->ReadLog(); }

  // The first sanitizer report in the log (AddressSanitizer, LeakSanitizer,
  // ThreadSanitizer or UndefinedBehaviorSanitizer), from its first line to
  // the end of the log; empty when there is none. Only sanitizer builds
  // (-DCPHA_SANITIZE) write such reports.
  std::string SanitizerReport() const;

 private:
  struct PassKey {};

 public:
  // Use Start(); public only for std::make_unique.
  SidecarProcess(PassKey, SidecarConfig config,
                 std::unique_ptr<ChildProcess> process);

 private:
  // Reads the port from the "msg=serving listen=HOST:PORT" line.
  Status WaitServing(std::chrono::milliseconds timeout);

  // Constant after Start.
  const SidecarConfig config_;
  const std::unique_ptr<ChildProcess> process_;
  int port_ = 0;
};

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_SIDECAR_PROCESS_H_

// RunCommand: runs a program to completion and captures what it printed.
// Used by the integration harness for lab/pgpair.sh, psql and promtool.
//
// Thread-safety: RunCommand may be called from several threads at once; the
// child is started with posix_spawn and every pipe is close-on-exec, so one
// child never inherits another's pipes.

#ifndef CPHA_TESTS_INTEGRATION_COMMAND_H_
#define CPHA_TESTS_INTEGRATION_COMMAND_H_

#include <chrono>
#include <string>
#include <vector>

namespace cpha::integration {

struct CommandResult {
  // Set when the command could not be started or had to be killed; then
  // exit_code is -1.
  std::string error;
  // The exit code when the command exited, -1 when it died of a signal.
  int exit_code = -1;
  std::string out;
  std::string err;

  bool ok() const { return error.empty() && exit_code == 0; }
  // One line for a failure message: the error or the exit code, then stderr.
  std::string Describe() const;
};

struct CommandOptions {
  // Written to the child's standard input, which is then closed.
  std::string stdin_text = {};
  // The child is killed with SIGKILL when it runs longer than this.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

// Runs argv[0] (looked up in PATH when it has no slash) with argv. Never
// throws; failures to start, a timeout or a signal are reported in the
// result.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const CommandOptions& options = {});

// The text with leading and trailing whitespace removed.
std::string Trim(const std::string& text);

// True when an executable named `name` is on PATH.
bool OnPath(const std::string& name);

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_COMMAND_H_

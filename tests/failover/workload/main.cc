// cp-ha-workload: the fenced-write workload, its checker and a write-ready
// watcher for the failover suite (issue #7). See commands.h for the exit
// codes and workload_options.h for the command line.

#include <iostream>
#include <string>
#include <variant>
#include <vector>

#include "tests/failover/workload/commands.h"

namespace {

using cpha::workload::Command;

struct Dispatch {
  int operator()(const cpha::workload::SetupOptions& options) const {
    return cpha::workload::RunSetup(options);
  }
  int operator()(const cpha::workload::RunOptions& options) const {
    return cpha::workload::RunWorkload(options);
  }
  int operator()(const cpha::workload::CheckOptions& options) const {
    return cpha::workload::RunCheck(options);
  }
  int operator()(const cpha::workload::WatchOptions& options) const {
    return cpha::workload::RunWatch(options);
  }
  int operator()(const cpha::workload::HelpRequest& help) const {
    std::cout << help.text;
    return cpha::workload::kExitOk;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  cpha::StatusOr<Command> command = cpha::workload::ParseCommandLine(args);
  if (!command.ok()) {
    std::cerr << "cp-ha-workload: " << command.status().message() << "\n";
    return cpha::workload::kExitCannotCheck;
  }
  return std::visit(Dispatch{}, command.value());
}

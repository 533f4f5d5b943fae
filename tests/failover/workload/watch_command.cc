// cp-ha-workload watch.

#include <iostream>
#include <nlohmann/json.hpp>

#include "tests/failover/workload/commands.h"
#include "tests/failover/workload/stop_signals.h"
#include "tests/integration/write_ready_watcher.h"

namespace cpha::workload {

int RunWatch(const WatchOptions& options) {
  BlockStopSignals();

  integration::WriteReadyWatcher watcher(options.interval);
  for (int port : options.sidecar_ports) watcher.Watch(port);
  const std::string stopped_by = WaitForStop(options.duration);
  watcher.Stop();

  const std::vector<std::string> overlaps = watcher.overlaps();
  for (const std::string& overlap : overlaps) {
    std::cerr << "TWO WRITE-READY " << overlap << "\n";
  }
  std::cout << nlohmann::json{{"sidecar_ports", options.sidecar_ports},
                              {"rounds", watcher.rounds()},
                              {"rounds_with_a_leader",
                               watcher.rounds_with_a_leader()},
                              {"rounds_with_two_or_more", overlaps.size()},
                              {"stopped_by", stopped_by}}
                   .dump()
            << std::endl;
  return overlaps.empty() ? kExitOk : kExitViolation;
}

}  // namespace cpha::workload

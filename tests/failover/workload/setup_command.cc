// cp-ha-workload setup.

#include <iostream>
#include <nlohmann/json.hpp>

#include "tests/failover/workload/commands.h"

namespace cpha::workload {

int RunSetup(const SetupOptions& options) {
  StatusOr<std::unique_ptr<WorkloadSession>> created = WorkloadSession::Create(
      options.postgres_url, "ha-workload-setup", options.db);
  if (!created.ok()) {
    std::cerr << "setup: " << created.status().ToString() << "\n";
    return kExitCannotCheck;
  }
  WorkloadSession& session = *created.value();

  Status done = session.EnsureConnected();
  if (done.ok()) done = session.Exec(kCreateTableSql);
  if (!done.ok()) {
    std::cerr << "setup: " << done.ToString() << " (" << session.redacted_url()
              << ")\n";
    return kExitCannotCheck;
  }

  std::cout << nlohmann::json{{"table", "ha_workload_writes"},
                              {"server", session.server()}}
                   .dump()
            << "\n";
  return kExitOk;
}

}  // namespace cpha::workload

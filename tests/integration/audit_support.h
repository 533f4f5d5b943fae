// Helpers for the issue #3 integration tests (fence, recovery, audit,
// runbook): a test-side database session, the control plane's tables, a
// latch for writers held inside their transaction, and a reader of every
// sample of a /metrics answer.
//
// Thread-safety: Latch may be used from any thread; the rest are functions
// over values or over the caller's session.

#ifndef CPHA_TESTS_INTEGRATION_AUDIT_SUPPORT_H_
#define CPHA_TESTS_INTEGRATION_AUDIT_SUPPORT_H_

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ha/pg_session.h"
#include "ha/status.h"

namespace cpha::integration {

// The sidecar flags the issue #3 tests share: control-plane tables, a fast
// audit collector and purge, a 3 s replay horizon.
std::vector<std::string> AuditFlags();

// A connected session to `url` named `application_name`, with
// search_path public. Fails with the connect error.
StatusOr<std::unique_ptr<PgSession>> OpenSession(
    const std::string& url, const std::string& application_name);

// Applies every migration, the control plane's tables included.
Status ApplyAllMigrations(PgSession& session);

// A gate that writers wait at until the test opens it.
class Latch {
 public:
  // Counts one arrival, then waits until Open() or `timeout`; false on
  // timeout.
  bool ArriveAndWait(std::chrono::milliseconds timeout);
  int arrived();
  void Open();

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  int arrived_ = 0;    // guarded by mutex_
  bool open_ = false;  // guarded by mutex_
};

// Every sample of a Prometheus text exposition, keyed by the text before
// the value (name and labels as served).
std::map<std::string, double> AllSamples(const std::string& exposition);

// True for samples that must never decrease while the process lives:
// counters (_total), and histogram _count, _sum and _bucket.
bool IsMonotonicSample(const std::string& key);

// An RFC 3339 UTC time like 2026-03-09T11:00:00Z.
bool IsRfc3339Utc(const std::string& text);

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_AUDIT_SUPPORT_H_

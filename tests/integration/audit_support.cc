#include "tests/integration/audit_support.h"

#include <regex>
#include <sstream>

#include "ha/conn_params.h"
#include "ha/migrations.h"

namespace cpha::integration {
namespace {

constexpr Millis kSessionTimeout(5000);

}  // namespace

std::vector<std::string> AuditFlags() {
  return {"--create-app-schema",
          "--audit-interval",
          "200ms",
          "--outbox-purge-interval",
          "200ms",
          "--promotion-replay-horizon",
          "3s"};
}

StatusOr<std::unique_ptr<PgSession>> OpenSession(
    const std::string& url, const std::string& application_name) {
  StatusOr<ConnParams> params = ConnParams::Parse(url);
  if (!params.ok()) return params.status();
  auto session = std::make_unique<PgSession>(params.value(), application_name);
  Status connected = session->Connect(kSessionTimeout);
  if (!connected.ok()) return connected;
  Status scoped = session->Exec("SET search_path = public", kSessionTimeout);
  if (!scoped.ok()) return scoped;
  return session;
}

Status ApplyAllMigrations(PgSession& session) {
  return RunMigrations(session, "public", /*create_app_schema=*/true,
                       kSessionTimeout);
}

bool Latch::ArriveAndWait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  ++arrived_;
  return opened_.wait_for(lock, timeout, [this] { return open_; });
}

int Latch::arrived() {
  std::lock_guard<std::mutex> lock(mutex_);
  return arrived_;
}

void Latch::Open() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ = true;
  }
  opened_.notify_all();
}

std::map<std::string, double> AllSamples(const std::string& exposition) {
  std::map<std::string, double> samples;
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return samples;
}

bool IsMonotonicSample(const std::string& key) {
  const std::string name = key.substr(0, key.find('{'));
  for (const char* suffix : {"_total", "_count", "_sum", "_bucket"}) {
    const std::string end = suffix;
    if (name.size() > end.size() &&
        name.compare(name.size() - end.size(), end.size(), end) == 0) {
      return true;
    }
  }
  return false;
}

bool IsRfc3339Utc(const std::string& text) {
  static const std::regex kRfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)");
  return std::regex_match(text, kRfc3339);
}

}  // namespace cpha::integration

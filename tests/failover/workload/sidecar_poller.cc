#include "tests/failover/workload/sidecar_poller.h"

#include "tests/integration/http_get.h"

namespace cpha::workload {
namespace {

using Clock = std::chrono::steady_clock;

// current_epoch of a /v1/health/leader answer; nullopt when absent.
std::optional<int64_t> EpochOf(const integration::HttpResult& leader) {
  if (!leader.ok() || leader.status != 200) return std::nullopt;
  nlohmann::json body = leader.Json();
  if (!body.is_object() || !body.contains("current_epoch") ||
      !body["current_epoch"].is_number_integer()) {
    return std::nullopt;
  }
  return body["current_epoch"].get<int64_t>();
}

}  // namespace

nlohmann::json PollerStatsToJson(const PollerStats& stats) {
  return {{"polls", stats.polls},
          {"ready", stats.ready},
          {"not_ready", stats.not_ready},
          {"unreachable", stats.unreachable},
          {"ready_epochs", stats.epochs}};
}

SidecarPoller::SidecarPoller(int port, std::chrono::milliseconds interval,
                             std::chrono::milliseconds http_timeout)
    : port_(port), interval_(interval), http_timeout_(http_timeout) {
  thread_ = std::thread([this] { Run(); });
}

SidecarPoller::~SidecarPoller() { Stop(); }

void SidecarPoller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<ReadyEpoch> SidecarPoller::last_ready() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_ready_;
}

PollerStats SidecarPoller::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void SidecarPoller::Run() {
  for (;;) {
    const Clock::time_point next = Clock::now() + interval_;
    Count(PollOnce());

    std::unique_lock<std::mutex> lock(mutex_);
    if (stop_cv_.wait_until(lock, next, [this] { return stop_; })) return;
  }
}

SidecarPoller::PollResult SidecarPoller::PollOnce() {
  // The epoch first: a 200 that follows vouches for it.
  integration::HttpResult leader =
      integration::HttpGet(port_, "/v1/health/leader", http_timeout_);
  if (!leader.ok()) return PollResult::kUnreachable;
  integration::HttpResult ready =
      integration::HttpGet(port_, "/v1/health/write-ready", http_timeout_);
  if (!ready.ok()) return PollResult::kUnreachable;

  std::optional<int64_t> epoch = EpochOf(leader);
  if (ready.status != 200 || !epoch) return PollResult::kNotReady;

  std::lock_guard<std::mutex> lock(mutex_);
  last_ready_ = ReadyEpoch{*epoch, ready.received_at};
  stats_.epochs.insert(*epoch);
  return PollResult::kReady;
}

void SidecarPoller::Count(PollResult result) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.polls;
  switch (result) {
    case PollResult::kReady:
      ++stats_.ready;
      break;
    case PollResult::kNotReady:
      ++stats_.not_ready;
      break;
    case PollResult::kUnreachable:
      ++stats_.unreachable;
      break;
  }
}

}  // namespace cpha::workload

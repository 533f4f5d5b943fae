#include "tests/failover/workload/writer.h"

#include <algorithm>
#include <thread>

#include "ha/log.h"

namespace cpha::workload {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long to wait before looking at the poller again when not writing.
constexpr milliseconds kIdlePause(2);
// The least pause after a lost session, so that a server that refuses
// connections is not hammered.
constexpr milliseconds kReconnectPause(50);

CommitTime Now() {
  const auto mono = std::chrono::steady_clock::now().time_since_epoch();
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  return {std::chrono::duration_cast<std::chrono::nanoseconds>(mono).count(),
          std::chrono::duration_cast<std::chrono::microseconds>(wall).count()};
}

std::string CauseOf(const Status& error) {
  if (error.kind() != ErrorKind::kQuery) return ErrorKindName(error.kind());
  return "query:" + error.sqlstate();
}

nlohmann::json CommitTimeJson(const std::optional<CommitTime>& time) {
  if (!time) return nullptr;
  return {{"wall", FormatWallMicros(time->wall_us)},
          {"mono_ns", time->mono_ns}};
}

nlohmann::json EpochsJson(const std::map<int64_t, EpochCounts>& epochs) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [epoch, counts] : epochs) {
    list.push_back({{"epoch", epoch},
                    {"committed", counts.committed},
                    {"rejected", counts.rejected},
                    {"errors", counts.errors}});
  }
  return list;
}

}  // namespace

nlohmann::json WriterStatsToJson(const WriterStats& stats) {
  nlohmann::json committed_epochs = nlohmann::json::array();
  for (const auto& [epoch, counts] : stats.epochs) {
    if (counts.committed > 0) committed_epochs.push_back(epoch);
  }
  return {{"attempts", stats.attempts},
          {"committed", stats.committed},
          {"rejected", stats.rejected},
          {"errors", stats.failed + stats.in_doubt},
          {"failed", stats.failed},
          {"in_doubt", stats.in_doubt},
          {"errors_by_cause", stats.errors_by_cause},
          {"ack_log_errors", stats.ack_log_errors},
          {"epochs", EpochsJson(stats.epochs)},
          {"epochs_committed", committed_epochs},
          {"first_commit", CommitTimeJson(stats.first_commit)},
          {"last_commit", CommitTimeJson(stats.last_commit)},
          {"last_error", stats.last_error}};
}

Writer::Writer(WriterConfig config, WorkloadSession& session,
               AckLogWriter& ack_log, const SidecarPoller& poller)
    : config_(std::move(config)),
      session_(session),
      ack_log_(ack_log),
      poller_(poller) {}

void Writer::Run(const std::atomic<bool>& stop) {
  while (!stop.load()) {
    std::optional<int64_t> epoch = FreshEpoch();
    if (!epoch) {
      std::this_thread::sleep_for(kIdlePause);
      continue;
    }

    const WriteRequest request{.epoch = *epoch,
                               .holder = config_.holder,
                               .client_seq = ++client_seq_,
                               .mode = config_.fence_mode};
    const WriteResult result = FencedWrite(session_, request);
    Record(request, result);

    milliseconds pause = config_.write_interval;
    if (!session_.connected()) pause = std::max(pause, kReconnectPause);
    std::this_thread::sleep_for(pause);
  }
}

std::optional<int64_t> Writer::FreshEpoch() const {
  std::optional<ReadyEpoch> ready = poller_.last_ready();
  if (!ready || Clock::now() - ready->ready_at >= config_.stale_grace) {
    return std::nullopt;
  }
  return ready->epoch;
}

void Writer::Record(const WriteRequest& request, const WriteResult& result) {
  ++stats_.attempts;
  LogChange(request, result);
  switch (result.outcome) {
    case WriteOutcome::kCommitted:
      RecordCommit(request, result);
      return;
    case WriteOutcome::kRejected:
      ++stats_.rejected;
      ++stats_.epochs[request.epoch].rejected;
      return;
    case WriteOutcome::kFailed:
    case WriteOutcome::kInDoubt:
      RecordError(request, result);
      return;
  }
}

void Writer::RecordCommit(const WriteRequest& request,
                          const WriteResult& result) {
  const CommitTime now = Now();
  ++stats_.committed;
  ++stats_.epochs[request.epoch].committed;
  if (!stats_.first_commit) stats_.first_commit = now;
  stats_.last_commit = now;

  Status appended = ack_log_.Append({.epoch = request.epoch,
                                     .fenced_epoch = result.fenced_epoch,
                                     .holder = request.holder,
                                     .client_seq = request.client_seq,
                                     .id = result.id,
                                     .mono_ns = now.mono_ns,
                                     .wall_us = now.wall_us});
  if (!appended.ok()) {
    ++stats_.ack_log_errors;
    Log(LogLevel::kError, "workload", "ack not logged",
        {{"client_seq", request.client_seq}, {"error", appended.message()}});
  }
}

void Writer::RecordError(const WriteRequest& request,
                         const WriteResult& result) {
  if (result.outcome == WriteOutcome::kInDoubt) {
    ++stats_.in_doubt;
  } else {
    ++stats_.failed;
  }
  ++stats_.epochs[request.epoch].errors;
  ++stats_.errors_by_cause[CauseOf(result.error)];
  stats_.last_error = result.error.ToString();
}

void Writer::LogChange(const WriteRequest& request, const WriteResult& result) {
  if (previous_outcome_ == result.outcome) return;
  previous_outcome_ = result.outcome;
  Log(result.outcome == WriteOutcome::kCommitted ? LogLevel::kInfo
                                                 : LogLevel::kWarn,
      "workload", "write outcome changed",
      {{"outcome", WriteOutcomeName(result.outcome)},
       {"epoch", request.epoch},
       {"client_seq", request.client_seq},
       {"error", result.error.ok() ? "" : result.error.ToString()}});
}

}  // namespace cpha::workload

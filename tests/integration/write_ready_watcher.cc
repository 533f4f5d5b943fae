#include "tests/integration/write_ready_watcher.h"

#include <sstream>

namespace cpha::integration {
namespace {

constexpr std::chrono::milliseconds kProbeTimeout(500);

}  // namespace

WriteReadyWatcher::WriteReadyWatcher(std::chrono::milliseconds interval)
    : interval_(interval),
      started_(std::chrono::steady_clock::now()),
      thread_([this] { Run(); }) {}

WriteReadyWatcher::~WriteReadyWatcher() { Stop(); }

void WriteReadyWatcher::Watch(int port) {
  std::lock_guard<std::mutex> lock(mutex_);
  ports_.insert(port);
}

void WriteReadyWatcher::Unwatch(int port) {
  std::lock_guard<std::mutex> lock(mutex_);
  ports_.erase(port);
}

void WriteReadyWatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> WriteReadyWatcher::overlaps() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return overlaps_;
}

void WriteReadyWatcher::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    std::vector<int> ports(ports_.begin(), ports_.end());
    const auto round_started = std::chrono::steady_clock::now();
    lock.unlock();

    std::vector<HttpResult> answers;
    if (!ports.empty()) {
      answers = HttpGetAll(ports, "/v1/health/write-ready", kProbeTimeout);
    }
    std::vector<size_t> ready;
    for (size_t i = 0; i < answers.size(); ++i) {
      if (answers[i].ok() && answers[i].status == 200) ready.push_back(i);
    }

    lock.lock();
    if (!ports.empty()) ++rounds_;
    if (!ready.empty()) ++rounds_with_a_leader_;
    if (ready.size() >= 2) {
      overlaps_.push_back(DescribeRound(round_started, ports, answers, ready));
    }
    stop_cv_.wait_until(lock, round_started + interval_,
                        [this] { return stop_; });
  }
}

std::string WriteReadyWatcher::DescribeRound(
    std::chrono::steady_clock::time_point round_started,
    const std::vector<int>& ports, const std::vector<HttpResult>& answers,
    const std::vector<size_t>& ready) const {
  auto offset = [&](std::chrono::steady_clock::time_point point) {
    return std::chrono::duration<double, std::milli>(point - started_).count();
  };
  std::ostringstream line;
  line << "round at +" << offset(round_started) << " ms:";
  for (size_t i : ready) {
    line << " port " << ports[i] << " answered 200 (sent +"
         << offset(answers[i].sent_at) << " ms, received +"
         << offset(answers[i].received_at) << " ms);";
  }
  return line.str();
}

}  // namespace cpha::integration

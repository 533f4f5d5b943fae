// The ack log: one JSON object per line for every write that the workload
// saw commit, i.e. that the control plane would have acknowledged to its
// caller. The checker reads the logs back and requires every acknowledged
// write to be in the table.
//
//   {"epoch":3,"fenced_epoch":3,"holder":"wl-a","client_seq":17,"id":42,
//    "mono_ns":123456789,"wall":"2026-01-02T03:04:05.678901Z",
//    "wall_us":1767323045678901}
//
// mono_ns is the writer's CLOCK_MONOTONIC when COMMIT returned; wall and
// wall_us its system clock at the same moment.
//
// Thread-safety: an AckLogWriter belongs to one thread; ReadAckLog is a
// function.

#ifndef CPHA_TESTS_FAILOVER_WORKLOAD_ACK_LOG_H_
#define CPHA_TESTS_FAILOVER_WORKLOAD_ACK_LOG_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ha/status.h"
#include "tests/integration/unique_fd.h"

namespace cpha::workload {

struct Ack {
  int64_t epoch = 0;
  int64_t fenced_epoch = 0;
  std::string holder;
  int64_t client_seq = 0;
  // The row's id as INSERT ... RETURNING gave it.
  int64_t id = 0;
  int64_t mono_ns = 0;
  int64_t wall_us = 0;
  // Where the line was read from ("file:line"); empty when written.
  std::string source = {};
};

// The JSON object of one line (without `source`).
nlohmann::json AckToJson(const Ack& ack);

// "2026-01-02T03:04:05.678901Z" for microseconds since the Unix epoch.
std::string FormatWallMicros(int64_t wall_us);

class AckLogWriter {
 public:
  // Opens `path` for appending, creating it if needed. Fails with
  // kInvalidArgument naming the path and the errno text.
  static StatusOr<std::unique_ptr<AckLogWriter>> Open(const std::string& path);

  // Appends one line with one write(2), so the line reaches the kernel
  // before the call returns. Fails naming the path and the errno text.
  Status Append(const Ack& ack);

 private:
  struct PassKey {};

 public:
  // Use Open(); public only for std::make_unique.
  AckLogWriter(PassKey, std::string path, integration::UniqueFd fd)
      : path_(std::move(path)), fd_(std::move(fd)) {}

 private:
  const std::string path_;
  integration::UniqueFd fd_;
};

// Reads every line of `path`. A last line without its newline (the writer
// died in the middle of it) is skipped: no caller saw that write
// acknowledged. Fails naming file:line on a malformed line, or the path
// when the file cannot be read.
StatusOr<std::vector<Ack>> ReadAckLog(const std::string& path);

}  // namespace cpha::workload

#endif  // CPHA_TESTS_FAILOVER_WORKLOAD_ACK_LOG_H_

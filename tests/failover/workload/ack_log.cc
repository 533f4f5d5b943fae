#include "tests/failover/workload/ack_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace cpha::workload {
namespace {

Status FileError(const std::string& what, const std::string& path) {
  return Status::Error(ErrorKind::kInvalidArgument,
                       what + " " + path + ": " + std::strerror(errno));
}

// The integer under `key`, or `fallback` when it is absent or not one.
int64_t IntOr(const nlohmann::json& object, const char* key, int64_t fallback) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_number_integer()) return fallback;
  return found->get<int64_t>();
}

// Parses one line; an error text naming what is wrong, or "".
std::string ParseLine(const std::string& line, Ack& ack) {
  nlohmann::json object =
      nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) return "not a JSON object";
  for (const char* key : {"epoch", "client_seq"}) {
    if (!object.contains(key) || !object[key].is_number_integer()) {
      return std::string("no integer \"") + key + "\"";
    }
  }
  if (!object.contains("holder") || !object["holder"].is_string()) {
    return "no string \"holder\"";
  }
  ack.epoch = object["epoch"].get<int64_t>();
  ack.client_seq = object["client_seq"].get<int64_t>();
  ack.holder = object["holder"].get<std::string>();
  ack.fenced_epoch = IntOr(object, "fenced_epoch", ack.epoch);
  ack.id = IntOr(object, "id", 0);
  ack.mono_ns = IntOr(object, "mono_ns", 0);
  ack.wall_us = IntOr(object, "wall_us", 0);
  return "";
}

}  // namespace

nlohmann::json AckToJson(const Ack& ack) {
  return {{"epoch", ack.epoch},
          {"fenced_epoch", ack.fenced_epoch},
          {"holder", ack.holder},
          {"client_seq", ack.client_seq},
          {"id", ack.id},
          {"mono_ns", ack.mono_ns},
          {"wall", FormatWallMicros(ack.wall_us)},
          {"wall_us", ack.wall_us}};
}

std::string FormatWallMicros(int64_t wall_us) {
  // Floor division, so that times before 1970 still format.
  int64_t seconds = wall_us / 1000000;
  int64_t micros = wall_us % 1000000;
  if (micros < 0) {
    micros += 1000000;
    --seconds;
  }
  const std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &utc);
  char fraction[16];
  std::snprintf(fraction, sizeof(fraction), ".%06dZ", static_cast<int>(micros));
  return std::string(date) + fraction;
}

StatusOr<std::unique_ptr<AckLogWriter>> AckLogWriter::Open(
    const std::string& path) {
  integration::UniqueFd fd(
      open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd.valid()) return FileError("cannot open the ack log", path);
  return std::make_unique<AckLogWriter>(PassKey{}, path, std::move(fd));
}

Status AckLogWriter::Append(const Ack& ack) {
  const std::string line = AckToJson(ack).dump() + "\n";
  ssize_t written = write(fd_.get(), line.data(), line.size());
  if (written < 0) return FileError("cannot append to the ack log", path_);
  if (static_cast<size_t>(written) != line.size()) {
    return Status::Error(ErrorKind::kInvalidArgument,
                         "short write to the ack log " + path_);
  }
  return Status();
}

StatusOr<std::vector<Ack>> ReadAckLog(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return FileError("cannot read the ack log", path);
  std::stringstream content;
  content << file.rdbuf();
  const std::string text = content.str();

  std::vector<Ack> acks;
  size_t start = 0;
  for (int number = 1;; ++number) {
    const size_t end = text.find('\n', start);
    if (end == std::string::npos) break;  // none left, or a torn last line
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;

    Ack ack;
    ack.source = path + ":" + std::to_string(number);
    const std::string wrong = ParseLine(line, ack);
    if (!wrong.empty()) {
      return Status::Error(ErrorKind::kInvalidArgument,
                           ack.source + ": " + wrong + ": " + line);
    }
    acks.push_back(std::move(ack));
  }
  return acks;
}

}  // namespace cpha::workload

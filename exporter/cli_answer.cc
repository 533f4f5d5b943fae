#include "exporter/cli_answer.h"

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace cpha {
namespace {

using nlohmann::json;

// Control characters as '?': C0 and DEL, and C1 in its UTF-8 form (some
// terminals act on U+009B as on ESC '['). `keep_newlines` keeps '\n' and
// '\t' for bodies shown as they came.
std::string Printable(std::string_view text, bool keep_newlines = false) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (keep_newlines && (text[i] == '\n' || text[i] == '\t')) {
      out += text[i];
    } else if (byte < 0x20 || byte == 0x7f) {
      out += '?';
    } else if (byte == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      out += '?';
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

// JSON as the CLI prints it: indented, every byte outside printable ASCII
// escaped (\uXXXX), so that no string can reach the terminal raw.
std::string Indented(const json& value) {
  return value.dump(2, ' ', /*ensure_ascii=*/true);
}

// The member `key` of `object`; null when `object` is not an object or has
// no such member.
const json& Member(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto found = object.find(key);
  return found == object.end() ? kNull : *found;
}

// A string member as it is (printable), a number or boolean as JSON text,
// anything else as "".
std::string Text(const json& object, const char* key) {
  const json& value = Member(object, key);
  if (value.is_string()) return Printable(value.get_ref<const std::string&>());
  if (value.is_number() || value.is_boolean()) return value.dump();
  return "";
}

int64_t Integer(const json& object, const char* key) {
  const json& value = Member(object, key);
  if (value.is_number_integer()) return value.get<int64_t>();
  if (value.is_number_unsigned()) {
    return static_cast<int64_t>(
        std::min<uint64_t>(value.get<uint64_t>(), INT64_MAX));
  }
  return 0;
}

double Number(const json& object, const char* key) {
  const json& value = Member(object, key);
  return value.is_number() ? value.get<double>() : 0.0;
}

bool Flag(const json& object, const char* key) {
  const json& value = Member(object, key);
  return value.is_boolean() && value.get<bool>();
}

std::string Format(const char* format, ...)
    __attribute__((format(printf, 1, 2)));

std::string Format(const char* format, ...) {
  va_list args;
  va_start(args, format);
  va_list again;
  va_copy(again, args);
  const int size = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::string text(size > 0 ? static_cast<size_t>(size) : 0, '\0');
  if (size > 0) std::vsnprintf(text.data(), text.size() + 1, format, again);
  va_end(again);
  return text;
}

std::string StatusView(const json& status) {
  std::ostringstream text;
  text << "Node:           " << Text(status, "holder_id") << " ("
       << Text(status, "role") << ")\n"
       << "Epoch:          "
       << Printable(Member(status, "current_epoch").dump()) << " (leader "
       << Text(status, "leader_holder_id") << ")\n"
       << "Read-Ready:     " << (Flag(status, "read_ready") ? "true" : "false");
  if (const std::string why = Text(status, "read_ready_reason"); !why.empty()) {
    text << " (" << why << ")";
  }
  text << "\nWrite-Ready:    "
       << (Flag(status, "write_ready") ? "true" : "false");
  if (const std::string why = Text(status, "write_ready_reason");
      !why.empty()) {
    text << " (" << why << ")";
  }
  const json& quorum = Member(status, "quorum");
  text << "\nServer:         " << Text(status, "connected_server")
       << (Flag(status, "connected_to_primary") ? " (primary)"
                                                : " (not primary)")
       << "\nSync standbys:  " << Integer(quorum, "sync_replica_count")
       << " (minimum " << Integer(quorum, "min_sync_replicas") << ")\n";
  const json& replication = Member(quorum, "replication");
  if (replication.is_array()) {
    for (const json& row : replication) {
      text << "  replica " << Text(row, "application_name") << " "
           << Text(row, "state") << " " << Text(row, "sync_state") << "\n";
    }
  }
  text << "Step-down in:   " << Number(status, "stepdown_deadline_seconds")
       << " s\nAudit:          " << Text(status, "audit_status") << "\n";
  return text.str();
}

std::string FailoverView(const json& answer) {
  return Format("Graceful resignation: %s resigned epoch %lld\n",
                Text(answer, "holder_id").c_str(),
                static_cast<long long>(Integer(answer, "resigned_epoch")));
}

std::string BackupView(const json& row) {
  return Format(
      "Backup %s created: %s\n  size %lld bytes, %s, epoch %lld, by %s (%s)\n",
      Text(row, "id").c_str(), Text(row, "file").c_str(),
      static_cast<long long>(Integer(row, "size_bytes")),
      Text(row, "checksum").c_str(),
      static_cast<long long>(Integer(row, "epoch")),
      Text(row, "operator").c_str(), Text(row, "reason").c_str());
}

std::string BackupListView(const json& answer) {
  const json& rows = Member(answer, "backups");
  if (!rows.is_array() || rows.empty()) return "No backups recorded.\n";
  std::string text = Format("%-24s %-20s %12s %6s  %s\n", "ID", "CREATED",
                            "BYTES", "EPOCH", "FILE");
  for (const json& row : rows) {
    text += Format("%-24s %-20s %12lld %6lld  %s\n", Text(row, "id").c_str(),
                   Text(row, "created_at").c_str(),
                   static_cast<long long>(Integer(row, "size_bytes")),
                   static_cast<long long>(Integer(row, "epoch")),
                   Text(row, "file").c_str());
  }
  return text;
}

std::string RestoreView(const json& answer) {
  return Format(
      "Restored backup %s\n  epoch before %lld, now %lld (never "
      "backwards)\n",
      Text(Member(answer, "backup"), "id").c_str(),
      static_cast<long long>(Integer(answer, "epoch_before")),
      static_cast<long long>(Integer(answer, "epoch_after")));
}

std::string View(CliView view, const json& body) {
  switch (view) {
    case CliView::kStatus:
      return StatusView(body);
    case CliView::kQuorum:
      return Indented(body) + "\n";
    case CliView::kFailover:
      return FailoverView(body);
    case CliView::kBackupCreate:
      return BackupView(body);
    case CliView::kBackupList:
      return BackupListView(body);
    case CliView::kBackupRestore:
      return RestoreView(body);
  }
  return "";
}

}  // namespace

CliOutput RenderCliAnswer(CliView view, bool json_output,
                          const std::string& url, int http_status,
                          std::string_view body) {
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  CliOutput output;
  if (http_status / 100 != 2) {
    const json& error = Member(parsed, "error");
    const std::string why = error.is_string()
                                ? Printable(error.get_ref<const std::string&>())
                                : Printable(body);
    output.refused = true;
    output.error = url + " answered " + std::to_string(http_status) + ": " +
                   Printable(why);
    return output;
  }
  if (parsed.is_discarded()) {
    output.out = Printable(body, /*keep_newlines=*/true) + "\n";
  } else if (json_output) {
    output.out = Indented(parsed) + "\n";
  } else {
    output.out = View(view, parsed);
  }
  return output;
}

}  // namespace cpha

#include "ha/backup.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "ha/log.h"
#include "ha/pg_session.h"

extern char** environ;

namespace cpha {
namespace {

namespace fs = std::filesystem;

constexpr const char* kComponent = "backup";
constexpr size_t kMaxBackupIdLength = 100;

Millis ToMillis(Duration duration) {
  return std::chrono::duration_cast<Millis>(duration);
}

// A private directory (mode 0700) for the passfile and the child's stderr;
// removed with its content on destruction.
class TempDir {
 public:
  static StatusOr<std::unique_ptr<TempDir>> Make() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base && *base ? base : "/tmp") + "/cp-ha-backup-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      return Status::Error(ErrorKind::kQuery,
                           "cannot make a temporary directory: " +
                               std::string(std::strerror(errno)));
    }
    return std::make_unique<TempDir>(pattern);
  }
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  const std::string path_;
};

// A child process that is killed and reaped unless it was waited for.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int ignored = 0;
    waitpid(pid_, &ignored, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Waits until the child exits or `until`; returns its wait status, or
  // nullopt on timeout (the child then still runs).
  std::optional<int> WaitUntil(TimePoint until) {
    for (;;) {
      int status = 0;
      pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_ || (done < 0 && errno != EINTR)) {
        pid_ = -1;
        return status;
      }
      if (SteadyClock::now() >= until) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

 private:
  pid_t pid_;
};

// libpq's quoting of one conninfo value.
std::string Quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// A passfile line's escaping of ':' and '\'.
std::string PassfileEscaped(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The connection string for pg_dump and pg_restore: every parameter but
// the password. With a password, also without the operator's passfile
// (ours, named by PGPASSFILE, takes its place); without one, the tool
// reads the passfile the sidecar's own sessions read.
std::string ToolConninfo(const ConnParams& conn) {
  const bool own_passfile = !conn.Get("password").empty();
  ConnParams::CArrays arrays = conn.ToCArrays();
  std::string conninfo;
  for (size_t i = 0; arrays.keywords[i] != nullptr; ++i) {
    std::string keyword = arrays.keywords[i];
    if (keyword == "password") continue;
    if (keyword == "passfile" && own_passfile) continue;
    conninfo += (conninfo.empty() ? "" : " ") + keyword + "=" +
                Quoted(arrays.values[i]);
  }
  return conninfo;
}

Status WritePassfile(const std::string& path, const std::string& password) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Error(
        ErrorKind::kQuery,
        "cannot write the passfile: " + std::string(std::strerror(errno)));
  }
  std::string line = "*:*:*:*:" + PassfileEscaped(password) + "\n";
  ssize_t written = write(fd, line.data(), line.size());
  close(fd);
  if (written != static_cast<ssize_t>(line.size())) {
    return Status::Error(ErrorKind::kQuery, "cannot write the passfile");
  }
  return Status();
}

// The last non-empty line of a file, at most 300 bytes.
std::string LastLine(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::string last;
  while (std::getline(file, line)) {
    if (!line.empty()) last = line;
  }
  return last.substr(0, 300);
}

// The environment of the child. With our own passfile: ours without
// PGPASSWORD and PGPASSFILE, plus PGPASSFILE naming it. Without one (the
// URL holds no password): ours as it is, so that the tool finds the
// password where the sidecar's sessions find it (PGPASSWORD, PGPASSFILE or
// ~/.pgpass).
std::vector<std::string> ChildEnvironment(const std::string& passfile) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (!passfile.empty() && (text.rfind("PGPASSWORD=", 0) == 0 ||
                              text.rfind("PGPASSFILE=", 0) == 0)) {
      continue;
    }
    env.emplace_back(text);
  }
  if (!passfile.empty()) env.push_back("PGPASSFILE=" + passfile);
  return env;
}

std::vector<char*> CPointers(std::vector<std::string>& words) {
  std::vector<char*> pointers;
  for (std::string& word : words) pointers.push_back(word.data());
  pointers.push_back(nullptr);
  return pointers;
}

// posix_spawn's file actions and attributes, owned: stdin and stdout on
// /dev/null, stderr into `errors`; the child starts with no signal blocked
// (the sidecar blocks SIGTERM and SIGINT in every thread) and SIGPIPE at its
// default (CivetWeb ignores it).
struct SpawnSetup {
  explicit SpawnSetup(const std::string& errors) {
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, errors.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
};

// Runs a PostgreSQL client tool to completion within `timeout`. Its stderr's
// last line becomes the error message.
Status RunTool(const BackupConfig& config, const std::string& tool,
               std::vector<std::string> args) {
  StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Make();
  if (!dir.ok()) return dir.status();
  const std::string password = config.conn.Get("password");
  std::string passfile;
  if (!password.empty()) {
    passfile = dir.value()->path() + "/pgpass";
    Status written = WritePassfile(passfile, password);
    if (!written.ok()) return written;
  }
  const std::string errors = dir.value()->path() + "/stderr";

  SpawnSetup setup(errors);
  const std::string program =
      config.pg_bin_dir.empty() ? tool : config.pg_bin_dir + "/" + tool;
  args.insert(args.begin(), program);
  std::vector<char*> argv = CPointers(args);
  std::vector<std::string> env_words = ChildEnvironment(passfile);
  std::vector<char*> envp = CPointers(env_words);
  pid_t pid = 0;
  int spawned = config.pg_bin_dir.empty()
                    ? posix_spawnp(&pid, program.c_str(), &setup.actions,
                                   &setup.attributes, argv.data(), envp.data())
                    : posix_spawn(&pid, program.c_str(), &setup.actions,
                                  &setup.attributes, argv.data(), envp.data());
  if (spawned != 0) {
    return Status::Error(ErrorKind::kQuery, "cannot start " + program + ": " +
                                                std::strerror(spawned));
  }

  Child child(pid);
  std::optional<int> status =
      child.WaitUntil(SteadyClock::now() + config.tool_timeout);
  if (!status) {
    return Status::Error(
        ErrorKind::kTimeout,
        tool + " did not finish within " +
            std::to_string(ToMillis(config.tool_timeout).count()) + " ms");
  }
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return Status();
  return Status::Error(ErrorKind::kQuery,
                       tool + " failed: " + LastLine(errors));
}

StatusOr<std::unique_ptr<PgSession>> OpenSession(const BackupConfig& config,
                                                 const HaState& state) {
  auto session = std::make_unique<PgSession>(
      config.conn, "cp-ha:" + state.identity().holder_id + ":backup");
  Status connected = session->Connect(ToMillis(config.connect_timeout));
  if (!connected.ok()) return connected;
  Status path = session->Exec("SET search_path = " + config.schema,
                              ToMillis(config.db_timeout));
  if (!path.ok()) return path;
  return session;
}

constexpr const char* kRecordColumns =
    "id, to_char(created_at AT TIME ZONE 'UTC',"
    " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), operator, reason, file,"
    " size_bytes, coalesce(epoch, 0), checksum";

BackupRecord RecordAt(const PgResult& result, int row) {
  BackupRecord record;
  record.id = result.Text(row, 0);
  record.created_at = result.Text(row, 1);
  record.operator_name = result.Text(row, 2);
  record.reason = result.Text(row, 3);
  record.file = result.Text(row, 4);
  record.size_bytes = result.Int(row, 5);
  record.epoch = result.Int(row, 6);
  record.checksum = result.Text(row, 7);
  return record;
}

StatusOr<std::optional<BackupRecord>> FindRecord(PgSession& session,
                                                 const std::string& id,
                                                 Millis timeout) {
  StatusOr<PgResult> found =
      session.Query(std::string("SELECT ") + kRecordColumns +
                        " FROM backup_inventory WHERE id = $1",
                    {id}, timeout);
  if (!found.ok()) return found.status();
  if (found->rows() == 0) return std::optional<BackupRecord>();
  return std::optional<BackupRecord>(RecordAt(found.value(), 0));
}

Status Taken(const std::string& what) {
  return Status::Error(ErrorKind::kFailedPrecondition, what);
}

// Makes the directory (mode 0700) when it is missing.
Status EnsureDirectory(const std::string& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error || !fs::is_directory(dir)) {
    return Status::Error(ErrorKind::kInvalidArgument,
                         "output_dir " + dir + " is not a usable directory" +
                             (error ? ": " + error.message() : ""));
  }
  return Status();
}

// Dumps into a hidden partial file and links it to `final_path` only when
// complete, so that a failed dump leaves nothing under the backup's name.
Status DumpTo(const BackupConfig& config, const std::string& dir,
              const std::string& id, const std::string& final_path) {
  const std::string partial = dir + "/." + id + ".dump.partial";
  std::error_code ignored;
  fs::remove(partial, ignored);
  Status dumped = RunTool(config, "pg_dump",
                          {"--format=custom", "--file=" + partial,
                           "--dbname=" + ToolConninfo(config.conn)});
  if (dumped.ok()) {
    chmod(partial.c_str(), 0600);
    if (link(partial.c_str(), final_path.c_str()) != 0) {
      dumped = Taken("file " + final_path + " already exists");
    }
  }
  fs::remove(partial, ignored);
  return dumped;
}

StatusOr<BackupRecord> Record(PgSession& session, const BackupConfig& config,
                              const HaState& state,
                              const BackupRequest& request,
                              const std::string& file, int64_t size,
                              const std::string& checksum) {
  StatusOr<PgResult> inserted = session.Query(
      std::string("WITH inv AS ("
                  "  INSERT INTO backup_inventory (id, operator, reason, file,"
                  "    size_bytes, epoch, checksum)"
                  "  VALUES ($1, $2, $3, $4, $5::bigint, (SELECT current_epoch"
                  "    FROM leadership_state WHERE id = 1), $6) RETURNING *),"
                  " op AS (INSERT INTO ha_operations (operation, operator,"
                  "    reason, epoch, holder_id, result)"
                  "  SELECT 'backup', operator, reason, epoch, $7,"
                  "    'created ' || id FROM inv)"
                  " SELECT ") +
          kRecordColumns + " FROM inv",
      {request.backup_id, request.operator_name, request.reason, file,
       std::to_string(size), checksum, state.identity().holder_id},
      ToMillis(config.db_timeout));
  if (!inserted.ok()) {
    if (inserted.status().sqlstate() == "23505") {
      return Taken("backup id " + request.backup_id + " already exists");
    }
    return inserted.status();
  }
  return RecordAt(inserted.value(), 0);
}

// A SQL string literal (standard_conforming_strings is on in pg_dump's
// scripts).
std::string SqlLiteral(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// The statements that run after the restored script, in its transaction:
// the durable epoch moves above the restored one, the restored history and
// every epoch known before the restore, and that epoch is recorded as
// burned (closed at once), so that no campaign can hand out a used epoch;
// the operation goes to ha_operations. The texts were checked for control
// characters; quotes are doubled.
std::string RaiseEpochSql(const std::string& schema, int64_t epoch_before,
                          const std::string& holder_id,
                          const RestoreRequest& request) {
  const std::string state = schema + ".leadership_state";
  const std::string epochs = schema + ".leader_epochs";
  const std::string notes = "epoch burned by the restore of backup " +
                            request.backup_id + " by " + request.operator_name +
                            ": " + request.reason;
  return "UPDATE " + state +
         " SET current_epoch = GREATEST(current_epoch,"
         " (SELECT coalesce(max(epoch), 0) FROM " +
         epochs + "), " + std::to_string(epoch_before) +
         ") + 1, holder_id = NULL,"
         " holder_instance = NULL, acquired_at = now() WHERE id = 1;\n"
         "INSERT INTO " +
         epochs +
         " (epoch, holder_id, acquired_at,"
         " resigned_at, notes) SELECT current_epoch, " +
         SqlLiteral(holder_id) + ", now(), now(), " + SqlLiteral(notes) +
         " FROM " + state +
         " WHERE id = 1;\n"
         "INSERT INTO " +
         schema +
         ".ha_operations (operation, operator,"
         " reason, epoch, holder_id, result) SELECT 'restore', " +
         SqlLiteral(request.operator_name) + ", " + SqlLiteral(request.reason) +
         ", current_epoch, " + SqlLiteral(holder_id) + ", " +
         SqlLiteral("restored " + request.backup_id) + " FROM " + state +
         " WHERE id = 1;\n";
}

// pg_restore writes the restore as a script (--clean --if-exists); psql
// runs it and RaiseEpochSql in one transaction, so that no session ever
// sees the restored, older epoch.
Status RestoreAndRaiseEpoch(const BackupConfig& config, const HaState& state,
                            const RestoreRequest& request,
                            const std::string& file, int64_t epoch_before) {
  StatusOr<std::unique_ptr<TempDir>> dir = TempDir::Make();
  if (!dir.ok()) return dir.status();
  const std::string script = dir.value()->path() + "/restore.sql";
  const std::string raise = dir.value()->path() + "/raise-epoch.sql";
  Status written =
      RunTool(config, "pg_restore",
              {"--clean", "--if-exists", "--file=" + script, file});
  if (!written.ok()) return written;
  std::ofstream(raise) << RaiseEpochSql(config.schema, epoch_before,
                                        state.identity().holder_id, request);
  return RunTool(
      config, "psql",
      {"--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
       "--single-transaction", "--dbname=" + ToolConninfo(config.conn),
       "--file=" + script, "--file=" + raise});
}

}  // namespace

bool IsSafeBackupId(std::string_view id) {
  if (id.empty() || id.size() > kMaxBackupIdLength) return false;
  if (id == "." || id == "..") return false;
  if (id.find("..") != std::string_view::npos) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string OutputDirProblem(std::string_view dir) {
  if (dir.empty() || dir.front() != '/') return "must be an absolute path";
  if (dir.find('\0') != std::string_view::npos) return "holds a NUL byte";
  if (dir.size() > 1000) return "is longer than 1000 bytes";
  for (const auto& part : fs::path(std::string(dir))) {
    if (part == "..") return "may not contain \"..\"";
  }
  return "";
}

StatusOr<std::string> FileSha256(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::Error(ErrorKind::kFailedPrecondition, "cannot read " + path);
  }
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return Status::Error(ErrorKind::kQuery, "sha256 unavailable");
  }
  // On the heap: CivetWeb's worker threads have small stacks.
  std::vector<char> buffer(64 * 1024);
  while (
      file.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) ||
      file.gcount() > 0) {
    EVP_DigestUpdate(ctx.get(), buffer.data(),
                     static_cast<size_t>(file.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex = "sha256:";
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

namespace {

// The tools' sessions are named like the sidecar's own (DESIGN.md
// section 4), so that the runbook's lingering-connection query finds them.
BackupConfig WithToolName(BackupConfig config, const HaState& state) {
  config.conn.Set("application_name",
                  "cp-ha:" + state.identity().holder_id + ":backup-tool");
  return config;
}

}  // namespace

BackupService::BackupService(BackupConfig config, HaState& state)
    : config_(WithToolName(std::move(config), state)), state_(state) {}

StatusOr<BackupRecord> BackupService::Create(const BackupRequest& request) {
  if (!IsSafeBackupId(request.backup_id)) {
    return Status::Error(ErrorKind::kInvalidArgument,
                         "backup_id must be 1 to 100 of [A-Za-z0-9._-]"
                         " without \"..\"");
  }
  const std::string dir =
      request.output_dir.empty() ? config_.default_dir : request.output_dir;
  if (std::string problem = OutputDirProblem(dir); !problem.empty()) {
    return Status::Error(ErrorKind::kInvalidArgument, "output_dir " + problem);
  }
  std::unique_lock<std::mutex> busy(operation_mutex_, std::try_to_lock);
  if (!busy.owns_lock()) return Taken("another backup or restore is running");

  // The id must be new, in the inventory and on disk.
  StatusOr<std::unique_ptr<PgSession>> session = OpenSession(config_, state_);
  if (!session.ok()) return session.status();
  StatusOr<std::optional<BackupRecord>> existing = FindRecord(
      *session.value(), request.backup_id, ToMillis(config_.db_timeout));
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    return Taken("backup id " + request.backup_id + " already exists");
  }
  if (Status made = EnsureDirectory(dir); !made.ok()) return made;
  const std::string file = dir + "/" + request.backup_id + ".dump";
  if (fs::exists(file)) return Taken("file " + file + " already exists");

  Status dumped = DumpTo(config_, dir, request.backup_id, file);
  if (!dumped.ok()) return dumped;

  std::error_code error;
  const int64_t size = static_cast<int64_t>(fs::file_size(file, error));
  StatusOr<std::string> checksum = FileSha256(file);
  // A fresh session: the dump may have outlasted the first one.
  session = checksum.ok()
                ? OpenSession(config_, state_)
                : StatusOr<std::unique_ptr<PgSession>>(checksum.status());
  StatusOr<BackupRecord> recorded =
      session.ok() ? Record(*session.value(), config_, state_, request, file,
                            size, checksum.value())
                   : StatusOr<BackupRecord>(session.status());
  if (!recorded.ok()) {
    fs::remove(file, error);
    return recorded.status();
  }
  Log(LogLevel::kInfo, kComponent, "backup created",
      {{"backup_id", request.backup_id},
       {"operator", request.operator_name},
       {"size_bytes", size},
       {"epoch", recorded->epoch}});
  return recorded;
}

StatusOr<std::vector<BackupRecord>> BackupService::List() {
  StatusOr<std::unique_ptr<PgSession>> session = OpenSession(config_, state_);
  if (!session.ok()) return session.status();
  StatusOr<PgResult> rows = session.value()->Query(
      std::string("SELECT ") + kRecordColumns +
          " FROM backup_inventory ORDER BY created_at DESC, id",
      {}, ToMillis(config_.db_timeout));
  if (!rows.ok()) return rows.status();
  std::vector<BackupRecord> records;
  for (int row = 0; row < rows->rows(); ++row) {
    records.push_back(RecordAt(rows.value(), row));
  }
  return records;
}

StatusOr<RestoreResult> BackupService::Restore(const RestoreRequest& request) {
  if (!IsSafeBackupId(request.backup_id)) {
    return Status::Error(ErrorKind::kInvalidArgument,
                         "backup_id must be 1 to 100 of [A-Za-z0-9._-]"
                         " without \"..\"");
  }
  std::unique_lock<std::mutex> busy(operation_mutex_, std::try_to_lock);
  if (!busy.owns_lock()) return Taken("another backup or restore is running");

  // The backup must be recorded and its file unchanged.
  StatusOr<std::unique_ptr<PgSession>> session = OpenSession(config_, state_);
  if (!session.ok()) return session.status();
  const Millis timeout = ToMillis(config_.db_timeout);
  StatusOr<std::optional<BackupRecord>> found =
      FindRecord(*session.value(), request.backup_id, timeout);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return Taken(std::string(kUnknownBackupId));
  RestoreResult result;
  result.backup = found->value();
  StatusOr<std::string> checksum = FileSha256(result.backup.file);
  if (!checksum.ok()) return checksum.status();
  if (checksum.value() != result.backup.checksum) {
    return Taken("the file " + result.backup.file +
                 " changed since the backup was taken");
  }

  // The highest epoch known before the restore: durable, in the history,
  // and in this process's memory.
  StatusOr<PgResult> before = session.value()->Query(
      "SELECT GREATEST((SELECT current_epoch FROM leadership_state"
      " WHERE id = 1), (SELECT coalesce(max(epoch), 0) FROM leader_epochs))",
      {}, timeout);
  if (!before.ok()) return before.status();
  result.epoch_before = std::max(
      before->Int(0, 0), state_.Refresh(SteadyClock::now()).highest_epoch_seen);
  session.value()->Close();

  Log(LogLevel::kWarn, kComponent, "restore starting",
      {{"backup_id", request.backup_id},
       {"operator", request.operator_name},
       {"epoch_before", result.epoch_before}});
  Status restored = RestoreAndRaiseEpoch(
      config_, state_, request, result.backup.file, result.epoch_before);
  if (!restored.ok()) return restored;

  // The burned epoch, as the restore's transaction recorded it.
  StatusOr<std::unique_ptr<PgSession>> after = OpenSession(config_, state_);
  if (!after.ok()) return after.status();
  StatusOr<PgResult> recorded = after.value()->Query(
      "SELECT epoch FROM ha_operations WHERE operation = 'restore'"
      " AND result = $1 ORDER BY id DESC LIMIT 1",
      {"restored " + request.backup_id}, timeout);
  if (!recorded.ok()) return recorded.status();
  result.epoch_after = recorded->rows() == 1 ? recorded->Int(0, 0) : 0;
  Log(LogLevel::kWarn, kComponent, "restore finished",
      {{"backup_id", request.backup_id}, {"epoch_after", result.epoch_after}});
  return result;
}

}  // namespace cpha

#include "tests/integration/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>

#include "tests/integration/spawn_handles.h"
#include "tests/integration/unique_fd.h"

extern char** environ;

namespace cpha::integration {
namespace {

using Clock = std::chrono::steady_clock;

// A pipe whose both ends are close-on-exec; dup2 in the child clears the
// flag on the copy it makes.
bool MakePipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  return true;
}

// Writing to the stdin pipe of a child that already exited must fail with
// EPIPE, not kill the test binary.
void IgnoreSigpipeOnce() {
  static std::once_flag once;
  std::call_once(once, [] { signal(SIGPIPE, SIG_IGN); });
}

void SetNonBlocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Pumps stdin_text into `in` and drains `out` and `err` until both reach
// end of file or the deadline passes. Returns false on timeout.
bool Pump(UniqueFd& in, UniqueFd& out, UniqueFd& err,
          const std::string& stdin_text, Clock::time_point deadline,
          CommandResult& result) {
  size_t written = 0;
  if (stdin_text.empty()) in.Reset();
  char buffer[8192];
  while (out.valid() || err.valid()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() <= 0) return false;

    std::array<pollfd, 3> fds{};
    fds[0] = {in.get(), POLLOUT, 0};
    fds[1] = {out.get(), POLLIN, 0};
    fds[2] = {err.get(), POLLIN, 0};
    if (poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0) {
      if (errno == EINTR) continue;
      return false;
    }

    if (in.valid() && fds[0].revents != 0) {
      ssize_t n = write(in.get(), stdin_text.data() + written,
                        stdin_text.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN) written = stdin_text.size();
      if (written == stdin_text.size()) in.Reset();
    }
    for (auto [pfd, fd, sink] : {std::tuple{&fds[1], &out, &result.out},
                                 std::tuple{&fds[2], &err, &result.err}}) {
      if (!fd->valid() || pfd->revents == 0) continue;
      ssize_t n = read(fd->get(), buffer, sizeof(buffer));
      if (n > 0) {
        sink->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EAGAIN) {
        fd->Reset();
      }
    }
  }
  return true;
}

}  // namespace

std::string CommandResult::Describe() const {
  std::ostringstream text;
  if (!error.empty()) {
    text << error;
  } else {
    text << "exit code " << exit_code;
  }
  std::string stderr_text = Trim(err);
  if (!stderr_text.empty()) text << "; stderr: " << stderr_text;
  return text.str();
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const CommandOptions& options) {
  CommandResult result;
  if (argv.empty()) {
    result.error = "empty command";
    return result;
  }
  IgnoreSigpipeOnce();

  UniqueFd in_read, in_write, out_read, out_write, err_read, err_write;
  if (!MakePipe(in_read, in_write) || !MakePipe(out_read, out_write) ||
      !MakePipe(err_read, err_write)) {
    result.error = std::string("pipe2: ") + std::strerror(errno);
    return result;
  }
  SpawnFileActions actions;
  posix_spawn_file_actions_adddup2(actions.get(), in_read.get(), 0);
  posix_spawn_file_actions_adddup2(actions.get(), out_write.get(), 1);
  posix_spawn_file_actions_adddup2(actions.get(), err_write.get(), 2);
  SpawnAttributes attributes;

  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);

  pid_t pid = 0;
  int spawned = posix_spawnp(&pid, args[0], actions.get(), attributes.get(),
                             args.data(), environ);
  if (spawned != 0) {
    result.error = "cannot start " + argv[0] + ": " + std::strerror(spawned);
    return result;
  }
  in_read.Reset();
  out_write.Reset();
  err_write.Reset();
  SetNonBlocking(in_write.get());
  SetNonBlocking(out_read.get());
  SetNonBlocking(err_read.get());

  const bool finished = Pump(in_write, out_read, err_read, options.stdin_text,
                             Clock::now() + options.timeout, result);
  if (!finished) {
    kill(pid, SIGKILL);
    result.error = argv[0] + " did not finish within " +
                   std::to_string(options.timeout.count()) + " ms";
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result.exit_code = finished ? WEXITSTATUS(status) : -1;
  } else if (WIFSIGNALED(status) && result.error.empty()) {
    result.error =
        argv[0] + " died of signal " + std::to_string(WTERMSIG(status));
  }
  return result;
}

std::string Trim(const std::string& text) {
  const char* space = " \t\r\n";
  size_t first = text.find_first_not_of(space);
  if (first == std::string::npos) return "";
  size_t last = text.find_last_not_of(space);
  return text.substr(first, last - first + 1);
}

bool OnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat info {};
    if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace cpha::integration

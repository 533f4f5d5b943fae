// Owners of the posix_spawn attribute objects used to start child
// processes: file actions, and attributes that give the child default
// signal dispositions and an empty signal mask whatever the test binary
// set (it ignores SIGPIPE).
//
// Thread-safety: each object belongs to the thread that spawns with it.

#ifndef CPHA_TESTS_INTEGRATION_SPAWN_HANDLES_H_
#define CPHA_TESTS_INTEGRATION_SPAWN_HANDLES_H_

#include <signal.h>
#include <spawn.h>

namespace cpha::integration {

class SpawnFileActions {
 public:
  SpawnFileActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnFileActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnFileActions(const SpawnFileActions&) = delete;
  SpawnFileActions& operator=(const SpawnFileActions&) = delete;

  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

class SpawnAttributes {
 public:
  SpawnAttributes() {
    posix_spawnattr_init(&attributes_);
    sigset_t signals;
    sigemptyset(&signals);
    posix_spawnattr_setsigmask(&attributes_, &signals);
    sigaddset(&signals, SIGPIPE);
    posix_spawnattr_setsigdefault(&attributes_, &signals);
    posix_spawnattr_setflags(&attributes_,
                             POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attributes_); }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;

  posix_spawnattr_t* get() { return &attributes_; }

 private:
  posix_spawnattr_t attributes_;
};

}  // namespace cpha::integration

#endif  // CPHA_TESTS_INTEGRATION_SPAWN_HANDLES_H_

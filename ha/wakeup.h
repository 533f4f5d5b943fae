// Wakeup: an eventfd that one thread polls and others signal, so that a
// thread sleeping in poll(2) beside a database socket can be woken for a
// shutdown or an operator request.
//
// Thread-safety: Signal() is safe from any thread (and from no signal
// handler: use it from normal code). Drain() belongs to the polling thread.

#ifndef CPHA_HA_WAKEUP_H_
#define CPHA_HA_WAKEUP_H_

namespace cpha {

class Wakeup {
 public:
  // Throws std::system_error when the kernel refuses an eventfd (at start).
  Wakeup();
  ~Wakeup();

  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  void Signal();
  // Clears pending signals; call after waking.
  void Drain();
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace cpha

#endif  // CPHA_HA_WAKEUP_H_

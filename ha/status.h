// Status and StatusOr: how every fallible runtime call in cp-ha-sidecar
// reports failure. Nothing on the runtime path throws; a failed call returns
// a Status naming the kind of failure and its context.
//
// Thread-safety: values; safe to copy between threads.

#ifndef CPHA_HA_STATUS_H_
#define CPHA_HA_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace cpha {

enum class ErrorKind {
  // The session is unusable (SQLSTATE class 08, or no SQLSTATE at all): the
  // caller reconnects.
  kConnection,
  // The call did not finish within its timeout; the session was closed.
  kTimeout,
  // The server answered with an error other than a connection error.
  kQuery,
  // A fenced write carried an epoch that is no longer the durable one.
  kStaleEpoch,
  // The caller asked for something that the current state does not allow
  // (not leader, not in maintenance mode, ...).
  kFailedPrecondition,
  // The caller's input is malformed.
  kInvalidArgument,
};

const char* ErrorKindName(ErrorKind kind);

class Status {
 public:
  // An OK status.
  Status() = default;

  static Status Error(ErrorKind kind, std::string message,
                      std::string sqlstate = {}) {
    Status status;
    status.error_ = Detail{kind, std::move(message), std::move(sqlstate)};
    return status;
  }

  bool ok() const { return !error_.has_value(); }

  // Only meaningful when !ok().
  ErrorKind kind() const { return error_->kind; }
  const std::string& message() const { return error_->message; }
  // The five-character SQLSTATE when the server sent one, else empty.
  const std::string& sqlstate() const { return error_->sqlstate; }

  // "ok" or "<kind>: <message>[ (SQLSTATE xxxxx)]".
  std::string ToString() const;

 private:
  struct Detail {
    ErrorKind kind;
    std::string message;
    std::string sqlstate;
  };
  std::optional<Detail> error_;
};

// Either a value or the Status saying why there is none.
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() { return *value_; }
  const T& value() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace cpha

#endif  // CPHA_HA_STATUS_H_

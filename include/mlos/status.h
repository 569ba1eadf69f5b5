// Status and Result<T>: how every error that input can cause travels through MLOS.
//
// Contract: a Status is cheap to copy (an OK status is a null pointer; an error shares one
// immutable heap block). Status and Result are values with no shared mutable state, so they are
// safe to pass between threads. Nothing below the public C++ API throws; the API converts a
// failed Status into mlos::KernelError (see error.h) at its boundary.
#pragma once

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace mlos {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,     // the caller sent something malformed (HTTP 400)
  kNotFound = 2,            // a named thing does not exist (404)
  kAlreadyExists = 3,       // (409)
  kOutOfRange = 4,          // an index, offset or size outside its bounds (400)
  kUnimplemented = 5,       // valid but not supported by us (501)
  kFailedPrecondition = 6,  // the system is not in the state the call needs (409)
  kResourceExhausted = 7,   // memory, a limit or a quota (413/429/507)
  kUnavailable = 8,         // try again later (503)
  kDataLoss = 9,            // corrupt files (422)
  kPermissionDenied = 10,   // (403)
  kDeadlineExceeded = 11,   // (504)
  kInternal = 12,           // a bug of ours (500)
};

std::string_view StatusCodeName(StatusCode code);

// Concatenates anything streamable into one string; used to build error messages.
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);

  static Status OK() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;
  // "InvalidArgument: message", or "OK".
  std::string ToString() const;
  // A copy whose message is "context: message"; OK stays OK.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::shared_ptr<const State> state_;
};

template <typename... Args>
Status InvalidArgument(const Args&... args) {
  return Status(StatusCode::kInvalidArgument, StrCat(args...));
}
template <typename... Args>
Status NotFound(const Args&... args) {
  return Status(StatusCode::kNotFound, StrCat(args...));
}
template <typename... Args>
Status AlreadyExists(const Args&... args) {
  return Status(StatusCode::kAlreadyExists, StrCat(args...));
}
template <typename... Args>
Status OutOfRange(const Args&... args) {
  return Status(StatusCode::kOutOfRange, StrCat(args...));
}
template <typename... Args>
Status Unimplemented(const Args&... args) {
  return Status(StatusCode::kUnimplemented, StrCat(args...));
}
template <typename... Args>
Status FailedPrecondition(const Args&... args) {
  return Status(StatusCode::kFailedPrecondition, StrCat(args...));
}
template <typename... Args>
Status ResourceExhausted(const Args&... args) {
  return Status(StatusCode::kResourceExhausted, StrCat(args...));
}
template <typename... Args>
Status Unavailable(const Args&... args) {
  return Status(StatusCode::kUnavailable, StrCat(args...));
}
template <typename... Args>
Status DataLoss(const Args&... args) {
  return Status(StatusCode::kDataLoss, StrCat(args...));
}
template <typename... Args>
Status PermissionDenied(const Args&... args) {
  return Status(StatusCode::kPermissionDenied, StrCat(args...));
}
template <typename... Args>
Status Internal(const Args&... args) {
  return Status(StatusCode::kInternal, StrCat(args...));
}

// Result<T> holds either a value or a failed Status.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "Result<Status> is not meaningful");

 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) {
      v_ = Status(StatusCode::kInternal, "Result constructed from an OK status without a value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }

  // Precondition: ok(). Checked with a variant access, so misuse throws instead of reading garbage.
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? std::get<T>(v_) : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace mlos

#define MLOS_CONCAT_INNER_(a, b) a##b
#define MLOS_CONCAT_(a, b) MLOS_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define MLOS_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::mlos::Status mlos_status_ = (expr);        \
    if (!mlos_status_.ok()) return mlos_status_; \
  } while (0)

// `MLOS_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result or returns its Status.
#define MLOS_ASSIGN_OR_RETURN(lhs, expr) \
  MLOS_ASSIGN_OR_RETURN_IMPL_(MLOS_CONCAT_(mlos_result_, __LINE__), lhs, expr)
#define MLOS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

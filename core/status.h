// Status and Result<T>: how errors cross module boundaries in graft, and how they map to exit
// codes.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace graft {

// Error kinds. Each maps to one process exit code (docs/cli.md).
enum class ErrorKind {
  kInternal,      // a bug or an environment failure: exit 1
  kIo,            // the file system failed us: exit 1
  kInvalidInput,  // usage errors and hostile or malformed input: exit 2
  kNotFound,      // a named object or file does not exist: exit 2
  kConflict,      // the request contradicts the registry's state: exit 2
  kVerification,  // a signature, digest, lineage or log check failed: exit 12
};

// Exit codes of the graft command.
enum ExitCode : int {
  kExitOk = 0,
  kExitInternal = 1,
  kExitInvalidInput = 2,
  kExitGateFailed = 10,
  kExitGateInconclusive = 11,
  kExitVerificationFailed = 12,
};

int ExitCodeFor(ErrorKind kind);
std::string_view ErrorKindName(ErrorKind kind);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorKind kind, std::string message) : error_(Error{kind, std::move(message)}) {}

  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  ErrorKind kind() const { return error_ ? error_->kind : ErrorKind::kInternal; }
  const std::string& message() const;
  // "kind: message", or "ok".
  std::string ToString() const;
  // Prefixes the message with context ("reading x.json: ..."); a no-op on ok.
  Status WithContext(std::string_view context) const;

 private:
  struct Error {
    ErrorKind kind;
    std::string message;
  };
  std::optional<Error> error_;
};

inline Status InternalError(std::string m) { return Status(ErrorKind::kInternal, std::move(m)); }
inline Status IoError(std::string m) { return Status(ErrorKind::kIo, std::move(m)); }
inline Status InvalidInput(std::string m) { return Status(ErrorKind::kInvalidInput, std::move(m)); }
inline Status NotFound(std::string m) { return Status(ErrorKind::kNotFound, std::move(m)); }
inline Status Conflict(std::string m) { return Status(ErrorKind::kConflict, std::move(m)); }
inline Status VerificationFailed(std::string m) {
  return Status(ErrorKind::kVerification, std::move(m));
}

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : state_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(state_).ok()) state_ = InternalError("Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  // A reference, so `const std::string& m = result.status().message();` stays valid.
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(state_);
  }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace graft

#define GRAFT_CONCAT_INNER_(a, b) a##b
#define GRAFT_CONCAT_(a, b) GRAFT_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) is an error.
#define GRAFT_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::graft::Status graft_status_ = (expr);        \
    if (!graft_status_.ok()) return graft_status_; \
  } while (0)

// `GRAFT_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the error.
#define GRAFT_ASSIGN_OR_RETURN(lhs, expr) \
  GRAFT_ASSIGN_OR_RETURN_IMPL_(GRAFT_CONCAT_(graft_result_, __LINE__), lhs, expr)
#define GRAFT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

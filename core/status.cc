#include "core/status.h"

namespace graft {

int ExitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput:
    case ErrorKind::kNotFound:
    case ErrorKind::kConflict:
      return kExitInvalidInput;
    case ErrorKind::kVerification:
      return kExitVerificationFailed;
    case ErrorKind::kInternal:
    case ErrorKind::kIo:
      return kExitInternal;
  }
  return kExitInternal;
}

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInternal:
      return "internal error";
    case ErrorKind::kIo:
      return "i/o error";
    case ErrorKind::kInvalidInput:
      return "invalid input";
    case ErrorKind::kNotFound:
      return "not found";
    case ErrorKind::kConflict:
      return "conflict";
    case ErrorKind::kVerification:
      return "verification failed";
  }
  return "error";
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return error_ ? error_->message : kEmpty;
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorKindName(error_->kind)) + ": " + error_->message;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  return Status(error_->kind, std::string(context) + ": " + error_->message);
}

}  // namespace graft

#include "serve/reference.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace graft::serve {
namespace {

constexpr size_t kMaxReference = 256;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '+' || c == ':' || c == '/';
}

bool IsHexDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Status CheckName(std::string_view name, std::string_view ref) {
  if (name.empty()) return InvalidInput("reference \"" + std::string(ref) + "\" has an empty name");
  if (!std::isalnum(static_cast<unsigned char>(name.front())) ||
      !std::all_of(name.begin(), name.end(), IsNameChar) || name.find("..") != name.npos) {
    return InvalidInput("reference has characters a graft name cannot hold");
  }
  return Status::Ok();
}

}  // namespace

Status CheckReference(std::string_view ref) {
  if (ref.empty()) return InvalidInput("empty reference");
  if (ref.size() > kMaxReference) return InvalidInput("reference longer than 256 bytes");
  if (ref.starts_with("sha256:")) {
    const std::string_view hex = ref.substr(7);
    if (hex.size() < 4 || hex.size() > 64 || !IsHexDigits(hex)) {
      return InvalidInput("a sha256: reference needs 4 to 64 lowercase hex digits");
    }
    return Status::Ok();
  }
  const size_t at = ref.rfind('@');
  if (at == std::string_view::npos) return CheckName(ref, ref);
  GRAFT_RETURN_IF_ERROR(CheckName(ref.substr(0, at), ref));
  const std::string_view tail = ref.substr(at + 1);
  if (tail.empty()) return InvalidInput("reference ends in '@': give a version or a channel");
  if (std::all_of(tail.begin(), tail.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (tail.size() > 18) return InvalidInput("version number too large");
    return Status::Ok();
  }
  return CheckName(tail, ref);
}

Status CheckChannelName(std::string_view channel) {
  const size_t at = channel.rfind('@');
  if (at == std::string_view::npos) return InvalidInput("a channel is NAME@CHANNEL");
  return CheckReference(channel);
}

Result<registry::ObjectRecord> ResolveReference(registry::Registry& registry, std::string_view kind,
                                                const std::string& ref) {
  GRAFT_RETURN_IF_ERROR(CheckReference(ref));
  // A full digest is looked up directly: Resolve would not report an absent one as NotFound.
  const std::string hex = ref.starts_with("sha256:") ? ref.substr(7) : ref;
  if (hex.size() == 64 && IsHexDigits(hex)) {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record, registry.Get(hex));
    if (!kind.empty() && record.kind != kind) {
      return NotFound("sha256:" + hex + " is a " + record.kind + ", not a " + std::string(kind));
    }
    return record;
  }
  Result<registry::ObjectRecord> record = registry.Resolve(kind, ref);
  if (!record.ok() && record.status().kind() == ErrorKind::kInvalidInput &&
      record.status().message().find(", not a ") != std::string::npos) {
    return NotFound(record.status().message());
  }
  return record;
}

Result<uint64_t> ParseCount(std::string_view text, std::string_view what, uint64_t max) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > max) {
    return InvalidInput(std::string(what) + " must be a whole number from 0 to " +
                        std::to_string(max));
  }
  return value;
}

int HttpStatusFor(const Status& status) {
  switch (status.kind()) {
    case ErrorKind::kInvalidInput:
      return 400;
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kConflict:
      return 409;
    case ErrorKind::kVerification:
      return 422;
    default:
      return 500;
  }
}

}  // namespace graft::serve

#include "registry/names.h"

#include <algorithm>

namespace graft::registry {

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/';
}

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

}  // namespace

Status ValidateName(std::string_view name, std::string_view what) {
  const std::string shown = "\"" + EscapeControl(name) + "\"";
  const std::string label = std::string(what) + " " + shown;
  if (name.empty()) return InvalidInput("empty " + std::string(what));
  if (name.size() > kMaxNameLength) {
    return InvalidInput(label + " is longer than " + std::to_string(kMaxNameLength) + " bytes");
  }
  auto bad = std::find_if_not(name.begin(), name.end(), IsNameChar);
  if (bad != name.end()) {
    std::string which = *bad == '@'   ? "'@' (it separates a name from a version or channel)"
                        : *bad == ' ' ? "a space"
                        : (static_cast<unsigned char>(*bad) < 0x20 || *bad == 0x7f)
                            ? "a control character"
                            : "'" + EscapeControl(std::string_view(&*bad, 1)) + "'";
    return InvalidInput(label + " contains " + which +
                        "; names use letters, digits, '.', '_', '-' and '/'");
  }
  if (name.front() == '.' || name.front() == '_' || name.front() == '-' || name.front() == '/') {
    return InvalidInput(label + " must start with a letter or digit");
  }
  if (name.size() >= 4 && std::all_of(name.begin(), name.end(), IsLowerHex)) {
    return InvalidInput(label +
                        " looks like a digest prefix (only hex digits); it would shadow "
                        "objects referred to by digest");
  }
  return Status::Ok();
}

Status ValidateChannel(std::string_view channel) {
  size_t at = channel.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == channel.size()) {
    return InvalidInput(
        "a channel is named <name>@<channel> (e.g. support-bot@production), got \"" +
        EscapeControl(channel) + "\"");
  }
  std::string_view tail = channel.substr(at + 1);
  if (std::all_of(tail.begin(), tail.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidInput("\"" + EscapeControl(channel) +
                        "\" names a version, not a channel (a channel name is not all digits)");
  }
  GRAFT_RETURN_IF_ERROR(ValidateName(channel.substr(0, at), "channel's adapter name"));
  return ValidateName(tail, "channel name");
}

std::string EscapeControl(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    auto c = static_cast<unsigned char>(ch);
    // C1 controls in UTF-8 (U+0080-U+009F; U+009B is a terminal's CSI).
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      auto next = static_cast<unsigned char>(text[++i]);
      out += "\\u00";
      out += kHex[next >> 4];
      out += kHex[next & 15];
      continue;
    }
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;  // printable ASCII and UTF-8 bytes
        }
    }
  }
  return out;
}

}  // namespace graft::registry

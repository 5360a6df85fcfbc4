#include "registry/annotations.h"

#include <algorithm>

#include "registry/names.h"

namespace graft::registry {

namespace {

bool IsTagKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == '/' || c == ' ';
}

// Decodes one UTF-8 code point at text[i] (advancing i); nullopt for an invalid sequence
// (overlong forms, surrogates and values above U+10FFFF included).
std::optional<char32_t> NextCodePoint(std::string_view text, size_t& i) {
  const auto byte = [&](size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char lead = byte(i);
  size_t length = lead < 0x80           ? 1
                  : (lead >> 5) == 0x6  ? 2
                  : (lead >> 4) == 0xe  ? 3
                  : (lead >> 3) == 0x1e ? 4
                                        : 0;
  if (length == 0 || i + length > text.size()) return std::nullopt;
  char32_t cp = length == 1 ? lead : lead & (0x7f >> length);
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr char32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinimum[length] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return std::nullopt;
  }
  i += length;
  return cp;
}

// Valid UTF-8 without control or bidirectional-override characters; `multiline` allows line
// feeds and tabs. `what` names the value in the error.
Status CheckText(std::string_view text, bool multiline, const std::string& what) {
  for (size_t i = 0; i < text.size();) {
    const size_t at = i;
    std::optional<char32_t> cp = NextCodePoint(text, i);
    if (!cp) {
      return InvalidInput(what + " is not valid UTF-8 (at byte " + std::to_string(at) + ")");
    }
    if (multiline && (*cp == '\n' || *cp == '\t')) continue;
    if (*cp < 0x20 || (*cp >= 0x7f && *cp <= 0x9f)) {
      return InvalidInput(what + " contains a control character (at byte " + std::to_string(at) +
                          ")" + (multiline ? "; only line feeds and tabs are allowed" : ""));
    }
    if ((*cp >= 0x202a && *cp <= 0x202e) || (*cp >= 0x2066 && *cp <= 0x2069)) {
      return InvalidInput(what + " contains a bidirectional-override character (at byte " +
                          std::to_string(at) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace

Json Annotations::ToJson() const {
  Json out = {{"tags", Json::object()}};
  for (const auto& [key, value] : tags) out["tags"][key] = value;
  if (description) out["description"] = *description;
  return out;
}

Status ValidateTagKey(std::string_view key) {
  const std::string label = "tag key \"" + EscapeControl(key) + "\"";
  if (key.empty()) return InvalidInput("empty tag key");
  if (key.size() > kMaxTagKeyLength) {
    return InvalidInput(label + " is longer than " + std::to_string(kMaxTagKeyLength) + " bytes");
  }
  auto bad = std::find_if_not(key.begin(), key.end(), IsTagKeyChar);
  if (bad != key.end()) {
    return InvalidInput(label + " contains '" + EscapeControl(std::string_view(&*bad, 1)) +
                        "'; tag keys use letters, digits, '_', '-', '.', '/' and spaces");
  }
  if (key.front() == ' ' || key.back() == ' ') {
    return InvalidInput(label + " starts or ends with a space");
  }
  return Status::Ok();
}

Status ValidateTagValue(std::string_view key, std::string_view value) {
  const std::string what = "the value of tag \"" + EscapeControl(key) + "\"";
  if (value.size() > kMaxTagValueLength) {
    return InvalidInput(what + " is longer than " + std::to_string(kMaxTagValueLength) + " bytes");
  }
  return CheckText(value, false, what);
}

Status ValidateDescription(std::string_view text) {
  if (text.size() > kMaxDescriptionLength) {
    return InvalidInput("the description is longer than " + std::to_string(kMaxDescriptionLength) +
                        " bytes");
  }
  return CheckText(text, true, "the description");
}

Result<std::pair<std::string, std::string>> ParseTagAssignment(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    return InvalidInput("\"" + EscapeControl(text) +
                        "\" is not KEY=VALUE (use --remove KEY to remove a tag)");
  }
  std::string key(text.substr(0, eq));
  std::string value(text.substr(eq + 1));
  GRAFT_RETURN_IF_ERROR(ValidateTagKey(key));
  GRAFT_RETURN_IF_ERROR(ValidateTagValue(key, value));
  return std::make_pair(std::move(key), std::move(value));
}

Result<TagFilter> TagFilter::Parse(std::string_view text) {
  TagFilter filter;
  const size_t eq = text.find('=');
  filter.key = std::string(text.substr(0, eq));
  GRAFT_RETURN_IF_ERROR(ValidateTagKey(filter.key));
  if (eq != std::string_view::npos) {
    filter.value = std::string(text.substr(eq + 1));
    GRAFT_RETURN_IF_ERROR(ValidateTagValue(filter.key, *filter.value));
  }
  return filter;
}

}  // namespace graft::registry

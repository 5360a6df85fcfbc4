// Names: the rules for the names graft records (object labels, channels, key names).
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace graft::registry {

inline constexpr size_t kMaxNameLength = 128;

// A name is 1-128 bytes of ASCII letters, digits, '.', '_', '-' and '/', starting with a letter
// or digit; so no '@' (it separates a name from a version or channel), no spaces or control
// characters. It may not look like a digest: "sha256:..." or 4 or more characters that are all
// lowercase hex digits (it would shadow digest prefixes when resolving a reference). `what`
// names the value in the error ("adapter name", "channel").
Status ValidateName(std::string_view name, std::string_view what);

// A channel reference "<name>@<channel>": both parts valid names, the channel not all digits
// (that would be a version).
Status ValidateChannel(std::string_view channel);

// `text` with control characters, DEL and bytes that are not valid in printed text escaped
// (\n, \t, \r, \\, \xNN, C1 controls as \u0080-\u009f), so a recorded value cannot forge
// extra lines or terminal escapes.
std::string EscapeControl(std::string_view text);

}  // namespace graft::registry

// Annotations: an adapter version's tags and description, and the rules their values follow.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace graft::registry {

inline constexpr size_t kMaxTagKeyLength = 250;
inline constexpr size_t kMaxTagValueLength = 5000;
inline constexpr size_t kMaxDescriptionLength = 20000;
inline constexpr size_t kMaxTagsPerAdapter = 100;

// What `graft adapter tag` and `graft adapter describe` recorded for one adapter (its digest),
// as the latest adapter.tag and adapter.describe events left it. Metadata only: no gate,
// promotion or monitor decision reads it.
struct Annotations {
  std::map<std::string, std::string> tags;  // key -> value, sorted by key
  std::optional<std::string> description;   // absent: never described, or cleared

  // {"tags": {...}} plus "description" when there is one.
  Json ToJson() const;
};

// One `--tag` filter of a listing: KEY (the tag exists) or KEY=VALUE (it has this value).
struct TagFilter {
  std::string key;
  std::optional<std::string> value;

  // "KEY" or "KEY=VALUE" (split at the first '='), both parts checked as below.
  static Result<TagFilter> Parse(std::string_view text);
};

// A tag key: 1-250 bytes of ASCII letters, digits, '_', '-', '.', '/' and spaces (MLflow's tag
// key characters), neither starting nor ending with a space.
Status ValidateTagKey(std::string_view key);
// A tag value: at most 5000 bytes of valid UTF-8 with no control characters (C0, DEL, C1) and no
// bidirectional-override characters (U+202A-U+202E, U+2066-U+2069); may be empty.
Status ValidateTagValue(std::string_view key, std::string_view value);
// A description: at most 20000 bytes of valid UTF-8; line feeds and tabs are allowed, other
// control and bidirectional-override characters are not.
Status ValidateDescription(std::string_view text);

// "KEY=VALUE" split at the first '=' and both parts validated.
Result<std::pair<std::string, std::string>> ParseTagAssignment(std::string_view text);

}  // namespace graft::registry

// JSON for graft: canonical serialisation (for everything hashed or signed) and hostile-input
// parsing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace graft {

using Json = nlohmann::json;

// Canonical JSON: object keys sorted by their UTF-8 bytes, no insignificant whitespace, UTF-8
// strings unescaped except where JSON requires, numbers in shortest round-trip form. Invalid UTF-8
// in a string is an error rather than a silent replacement.
Result<std::string> CanonicalJson(const Json& value);

// Parses JSON text. `source` names the input in errors ("adapter_config.json").
// Rejects duplicate object keys, trailing garbage and nesting deeper than 512.
Result<Json> ParseJson(std::string_view text, std::string_view source);

// Typed field access with errors that name the source and field.
Result<std::string> JsonString(const Json& object, std::string_view field, std::string_view source);
Result<const Json*> JsonField(const Json& object, std::string_view field, std::string_view source);

}  // namespace graft

#include "core/json.h"

#include <cmath>
#include <set>
#include <vector>

namespace graft {

namespace {

// nlohmann writes NaN and infinities as null; canonical JSON refuses them instead.
bool HasNonFiniteNumber(const Json& value) {
  if (value.is_number_float()) return !std::isfinite(value.get<double>());
  if (!value.is_structured()) return false;
  for (const Json& item : value) {
    if (HasNonFiniteNumber(item)) return true;
  }
  return false;
}

}  // namespace

Result<std::string> CanonicalJson(const Json& value) {
  if (HasNonFiniteNumber(value)) {
    return InvalidInput("cannot serialise JSON canonically: NaN or infinite number");
  }
  try {
    return value.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return InvalidInput(std::string("cannot serialise JSON canonically: ") + e.what());
  }
}

Result<Json> ParseJson(std::string_view text, std::string_view source) {
  constexpr int kMaxDepth = 512;
  std::string problem;
  // Track the keys of each open object to refuse duplicates (nlohmann keeps the last silently).
  // A set per object keeps this O(n log n) on a hostile header with millions of keys.
  std::vector<std::set<std::string, std::less<>>> keys;
  auto callback = [&](int d, Json::parse_event_t event, Json& parsed) -> bool {
    // `d` counts the containers around an object_start or array_start event, so the container
    // being opened is at nesting level d + 1 (the same for arrays and objects).
    bool opens =
        event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start;
    if (opens && d + 1 > kMaxDepth && problem.empty()) problem = "nesting deeper than 512 levels";
    switch (event) {
      case Json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case Json::parse_event_t::key: {
        const std::string& key = parsed.get_ref<const std::string&>();
        if (!keys.empty() && !keys.back().insert(key).second && problem.empty()) {
          problem = "duplicate key \"" + key + "\"";
        }
        break;
      }
      default:
        break;
    }
    return problem.empty();
  };
  try {
    Json value = Json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true,
                             /*ignore_comments=*/false);
    if (!problem.empty()) return InvalidInput(std::string(source) + ": " + problem);
    return value;
  } catch (const Json::exception& e) {
    if (!problem.empty()) return InvalidInput(std::string(source) + ": " + problem);
    return InvalidInput(std::string(source) + ": not valid JSON: " + e.what());
  }
}

Result<const Json*> JsonField(const Json& object, std::string_view field, std::string_view source) {
  if (!object.is_object()) return InvalidInput(std::string(source) + ": expected a JSON object");
  auto it = object.find(field);
  if (it == object.end()) {
    return InvalidInput(std::string(source) + ": missing field \"" + std::string(field) + "\"");
  }
  return &*it;
}

Result<std::string> JsonString(const Json& object, std::string_view field,
                               std::string_view source) {
  GRAFT_ASSIGN_OR_RETURN(const Json* value, JsonField(object, field, source));
  if (!value->is_string()) {
    return InvalidInput(std::string(source) + ": field \"" + std::string(field) +
                        "\" must be a string");
  }
  return value->get<std::string>();
}

}  // namespace graft

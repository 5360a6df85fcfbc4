#include "core/intoto.h"

namespace graft {

Json InTotoStatement::ToJson() const {
  Json subject = Json::array();
  for (const InTotoSubject& s : subjects) {
    Json digest = Json::object();
    for (const auto& [algorithm, value] : s.digest) digest[algorithm] = value;
    subject.push_back({{"name", s.name}, {"digest", digest}});
  }
  return {{"_type", kInTotoStatementType},
          {"subject", subject},
          {"predicateType", predicate_type},
          {"predicate", predicate}};
}

Result<std::string> InTotoStatement::ToPayload() const {
  using Ordered = nlohmann::ordered_json;
  Ordered subject = Ordered::array();
  for (const InTotoSubject& s : subjects) {
    subject.push_back({{"name", s.name}, {"digest", Ordered(Json(s.digest))}});
  }
  Ordered statement = {{"_type", kInTotoStatementType},
                       {"subject", subject},
                       {"predicateType", predicate_type},
                       {"predicate", Ordered(predicate)}};
  try {
    return statement.dump(2, ' ', false, Ordered::error_handler_t::strict);
  } catch (const Ordered::exception& e) {
    return InvalidInput(std::string("cannot serialise the in-toto statement: ") + e.what());
  }
}

namespace {

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return !text.empty();
}

Result<InTotoSubject> ParseSubject(const Json& json, const std::string& where) {
  if (!json.is_object()) return InvalidInput(where + ": expected a JSON object");
  InTotoSubject subject;
  auto name = json.find("name");
  if (name != json.end()) {
    if (!name->is_string()) return InvalidInput(where + ": \"name\" must be a string");
    subject.name = name->get<std::string>();
  }
  GRAFT_ASSIGN_OR_RETURN(const Json* digest, JsonField(json, "digest", where));
  if (!digest->is_object()) return InvalidInput(where + ": \"digest\" must be an object");
  if (digest->empty()) return InvalidInput(where + ": \"digest\" is empty");
  for (const auto& [algorithm, value] : digest->items()) {
    if (!value.is_string()) {
      return InvalidInput(where + ": digest \"" + algorithm + "\" must be a string");
    }
    const std::string& hex = value.get_ref<const std::string&>();
    if (!IsLowerHex(hex)) {
      return InvalidInput(where + ": digest \"" + algorithm + "\" is not lowercase hex");
    }
    if (algorithm == "sha256" && hex.size() != 64) {
      return InvalidInput(where + ": digest \"sha256\" must have 64 hex digits");
    }
    subject.digest[algorithm] = hex;
  }
  return subject;
}

}  // namespace

Result<InTotoStatement> InTotoStatement::FromJson(const Json& json, std::string_view source) {
  const std::string where = std::string(source) + ": in-toto statement";
  if (!json.is_object()) return InvalidInput(where + ": expected a JSON object");
  GRAFT_ASSIGN_OR_RETURN(std::string type, JsonString(json, "_type", where));
  if (type != kInTotoStatementType) {
    return InvalidInput(where + ": \"_type\" is \"" + type + "\", expected \"" +
                        std::string(kInTotoStatementType) + "\"");
  }
  InTotoStatement statement;
  GRAFT_ASSIGN_OR_RETURN(const Json* subjects, JsonField(json, "subject", where));
  if (!subjects->is_array()) return InvalidInput(where + ": \"subject\" must be an array");
  if (subjects->empty()) return InvalidInput(where + ": \"subject\" is empty");
  for (size_t i = 0; i < subjects->size(); ++i) {
    GRAFT_ASSIGN_OR_RETURN(
        InTotoSubject subject,
        ParseSubject((*subjects)[i], where + ": subject[" + std::to_string(i) + "]"));
    statement.subjects.push_back(std::move(subject));
  }
  GRAFT_ASSIGN_OR_RETURN(statement.predicate_type, JsonString(json, "predicateType", where));
  if (statement.predicate_type.empty()) return InvalidInput(where + ": empty \"predicateType\"");
  GRAFT_ASSIGN_OR_RETURN(const Json* predicate, JsonField(json, "predicate", where));
  if (!predicate->is_object()) return InvalidInput(where + ": \"predicate\" must be an object");
  statement.predicate = *predicate;
  return statement;
}

Result<InTotoStatement> InTotoStatement::Parse(std::string_view text, std::string_view source) {
  GRAFT_ASSIGN_OR_RETURN(Json json, ParseJson(text, source));
  return FromJson(json, source);
}

}  // namespace graft

// in-toto Statement v1: subjects with digests, a predicate type and a JSON predicate.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace graft {

inline constexpr std::string_view kInTotoStatementType = "https://in-toto.io/Statement/v1";

struct InTotoSubject {
  std::string name;
  std::map<std::string, std::string> digest;  // algorithm -> lowercase hex
};

struct InTotoStatement {
  std::vector<InTotoSubject> subjects;
  std::string predicate_type;
  Json predicate = Json::object();

  Json ToJson() const;
  // The statement as in-toto tools write it (the OMS signer's layout): fields in spec order
  // (_type, subject, predicateType, predicate), two-space indent. Fails on invalid UTF-8.
  Result<std::string> ToPayload() const;
  // Validates _type, a non-empty subject list with digests, predicateType and predicate.
  static Result<InTotoStatement> FromJson(const Json& json, std::string_view source);
  static Result<InTotoStatement> Parse(std::string_view text, std::string_view source);
};

}  // namespace graft

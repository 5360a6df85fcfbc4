#include "evaluator/suite/item_score.h"

namespace graft::suite {

Json ItemScore::ToJson() const {
  Json json = Json::object();
  if (tokens > 0 || bytes > 0) {
    json["nll"] = nll;
    json["tokens"] = tokens;
    json["bytes"] = bytes;
  }
  if (!choice_loglikelihoods.empty()) {
    json["choice_loglikelihoods"] = choice_loglikelihoods;
    json["correct"] = correct;
    json["correct_norm"] = correct_norm;
  }
  if (!completion.empty() || exact) {
    json["completion"] = completion;
    json["exact"] = exact;
  }
  return json;
}

Result<ItemScore> ItemScore::FromJson(const Json& json, std::string_view source) {
  if (!json.is_object()) return InvalidInput(std::string(source) + ": expected an object");
  ItemScore score;
  try {
    if (json.contains("nll")) {
      score.nll = json.at("nll").get<double>();
      score.tokens = json.at("tokens").get<int64_t>();
      score.bytes = json.at("bytes").get<int64_t>();
    }
    if (json.contains("choice_loglikelihoods")) {
      score.choice_loglikelihoods = json.at("choice_loglikelihoods").get<std::vector<double>>();
      score.correct = json.at("correct").get<int>();
      score.correct_norm = json.at("correct_norm").get<int>();
    }
    if (json.contains("completion")) {
      score.completion = json.at("completion").get<std::string>();
      score.exact = json.at("exact").get<int>();
    }
  } catch (const Json::exception& e) {
    return InvalidInput(std::string(source) + ": malformed item score: " + e.what());
  }
  return score;
}

bool ItemScore::IdenticalTo(const ItemScore& other) const {
  return nll == other.nll && tokens == other.tokens && bytes == other.bytes &&
         choice_loglikelihoods == other.choice_loglikelihoods && correct == other.correct &&
         correct_norm == other.correct_norm && completion == other.completion &&
         exact == other.exact;
}

}  // namespace graft::suite

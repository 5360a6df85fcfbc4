// ItemScore: what one model scored on one suite item (torch-free; stored per item, both models).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/status.h"

namespace graft::suite {

struct ItemScore {
  // loglikelihood_rolling: negative log-likelihood in nats summed over the scored tokens, the
  // number of tokens scored and the UTF-8 bytes of the text.
  double nll = 0.0;
  int64_t tokens = 0;
  int64_t bytes = 0;
  // multiple_choice: log-likelihood of each choice given the context, and whether the most
  // likely choice (acc) and the most likely per byte of choice (acc_norm) is the label.
  std::vector<double> choice_loglikelihoods;
  int correct = 0;
  int correct_norm = 0;
  // generate_until: the completion and whether it equals the target (both trimmed of
  // surrounding whitespace).
  std::string completion;
  int exact = 0;

  Json ToJson() const;
  static Result<ItemScore> FromJson(const Json& json, std::string_view source);
  // True when the two scores are the same to the last bit (used by the canary).
  bool IdenticalTo(const ItemScore& other) const;
};

}  // namespace graft::suite

// Text generation with a CausalLM: greedy or top-k/temperature sampling over a KV cache.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace graft {

class CausalLM;

struct GenerationOptions {
  int64_t max_new_tokens = 32;
  double temperature = 0.0;  // 0: greedy (argmax); > 0: sample softmax(logits / temperature)
  int64_t top_k = 0;         // > 0: sample among the k most likely tokens only
  uint64_t seed = 0;         // sampling RNG seed (own generator: global RNG untouched)
  // Stop after any of these tokens (it is kept in the output); empty: the model's eos.
  std::vector<int64_t> stop_token_ids;
  // Stop when the decoded completion contains one of these; the completion is cut before it.
  std::vector<std::string> stop_strings;
  bool use_cache = true;  // false recomputes the whole sequence each step (tests, debugging)
};

enum class StopReason { kMaxTokens, kStopToken, kStopString, kContextFull };
std::string_view StopReasonName(StopReason reason);  // "max_tokens", "stop_token", ...

struct Generation {
  std::vector<int64_t> prompt_ids;
  std::vector<int64_t> new_ids;  // generated tokens (cut at a stop string)
  std::string text;              // the decoded completion (without the prompt)
  StopReason stop_reason = StopReason::kMaxTokens;
};

// Generates from token ids; `text` is filled when the model has a tokenizer. Runs under
// torch::NoGradGuard with the model's active adapter. A prompt longer than the model's context
// is an error; generation stops (kContextFull) when the context is full.
Result<Generation> GenerateFromIds(CausalLM& model, const std::vector<int64_t>& prompt_ids,
                                   const GenerationOptions& options);
// Encodes `prompt` with the model's tokenizer, then GenerateFromIds.
Result<Generation> Generate(CausalLM& model, const std::string& prompt,
                            const GenerationOptions& options);

}  // namespace graft

// Text generation with a CausalLM: greedy or top-k/temperature sampling over a KV cache.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/safetensors.h"
#include "core/status.h"

namespace graft::models {

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
  DType base_dtype = DType::kF32;  // GenerateFromDirs: how the base is kept (CausalLM::Load)
};

enum class StopReason { kMaxTokens, kStopToken, kStopString, kContextFull };
std::string_view StopReasonName(StopReason reason);  // "max_tokens", "stop_token", ...

struct Generation {
  std::vector<int64_t> prompt_ids;
  std::vector<int64_t> new_ids;  // generated tokens, with the stop token or stop string's tokens
  std::string text;  // the decoded completion without the prompt, special tokens and stop string
  StopReason stop_reason = StopReason::kMaxTokens;
};

// Generates from token ids. Runs under torch::NoGradGuard with the model's active adapter. A
// prompt that fills the model's context is an error; generation stops (kContextFull) when the
// context is full.
Result<Generation> GenerateFromIds(CausalLM& model, const std::vector<int64_t>& prompt_ids,
                                   const GenerationOptions& options);
// Encodes `prompt` with the model's tokenizer (with its special prefix, e.g. <s>), then
// GenerateFromIds.
Result<Generation> Generate(CausalLM& model, const std::string& prompt,
                            const GenerationOptions& options);

// Loads the base in `base_dir` and, unless `adapter_dir` is empty, the PEFT adapter in it
// (made active), then Generate: what `graft generate` runs. Adapter warnings are appended to
// `warnings`.
Result<Generation> GenerateFromDirs(const std::filesystem::path& base_dir,
                                    const std::filesystem::path& adapter_dir,
                                    const std::string& prompt, const GenerationOptions& options,
                                    std::vector<std::string>* warnings);

}  // namespace graft::models

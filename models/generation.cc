#include "models/generation.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <limits>

#include "models/causal_lm.h"
#include "models/peft_io.h"
#include "models/q8_weights.h"
#include "models/tokenizer/tokenizer.h"

namespace graft::models {
namespace {

Status ValidateOptions(const GenerationOptions& options) {
  if (options.max_new_tokens < 0) return InvalidInput("max_new_tokens must be >= 0");
  if (!(options.temperature >= 0)) return InvalidInput("temperature must be >= 0");
  if (options.top_k < 0) return InvalidInput("top_k must be >= 0");
  return Status::Ok();
}

// Greedy argmax at temperature 0, else a sample from softmax(logits / T) over the top k.
int64_t PickToken(const torch::Tensor& logits, const GenerationOptions& options,
                  at::Generator& generator) {
  if (options.temperature == 0) return logits.argmax().item<int64_t>();
  torch::Tensor scaled = logits / options.temperature;
  if (options.top_k > 0 && options.top_k < scaled.size(0)) {
    const torch::Tensor kth = std::get<0>(scaled.topk(options.top_k)).min();
    scaled = scaled.masked_fill(scaled < kth, -std::numeric_limits<float>::infinity());
  }
  return at::multinomial(torch::softmax(scaled, -1), 1, false, generator).item<int64_t>();
}

Result<std::string> Decode(const CausalLM& model, const std::vector<int64_t>& ids) {
  std::vector<int32_t> narrow(ids.begin(), ids.end());
  return model.tokenizer().Decode(narrow, /*skip_special=*/true);
}

}  // namespace

std::string_view StopReasonName(StopReason reason) {
  switch (reason) {
    case StopReason::kMaxTokens:
      return "max_tokens";
    case StopReason::kStopToken:
      return "stop_token";
    case StopReason::kStopString:
      return "stop_string";
    case StopReason::kContextFull:
      return "context_full";
  }
  return "unknown";
}

Result<Generation> GenerateFromIds(CausalLM& model, const std::vector<int64_t>& prompt_ids,
                                   const GenerationOptions& options) {
  GRAFT_RETURN_IF_ERROR(ValidateOptions(options));
  const int64_t context = model.config().max_positions;
  if (prompt_ids.empty()) return InvalidInput("the prompt is empty");
  if (static_cast<int64_t>(prompt_ids.size()) >= context) {
    return InvalidInput("the prompt has " + std::to_string(prompt_ids.size()) +
                        " tokens; the model's context is " + std::to_string(context));
  }
  std::vector<int64_t> stop_ids = options.stop_token_ids;
  if (stop_ids.empty() && model.config().eos_token_id >= 0) {
    stop_ids.push_back(model.config().eos_token_id);
  }
  Generation out;
  out.prompt_ids = prompt_ids;
  try {
    torch::NoGradGuard no_grad;
    const Q8Int8ActivationsScope int8_activations;  // a q8_0 base: int8 × int8, as llama.cpp
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    KvCache cache;
    std::vector<int64_t> sequence = prompt_ids;
    torch::Tensor step_input = torch::tensor(prompt_ids, torch::kLong).unsqueeze(0);
    while (static_cast<int64_t>(out.new_ids.size()) < options.max_new_tokens) {
      if (static_cast<int64_t>(sequence.size()) >= context) {
        out.stop_reason = StopReason::kContextFull;
        break;
      }
      torch::Tensor input =
          options.use_cache ? step_input : torch::tensor(sequence, torch::kLong).unsqueeze(0);
      GRAFT_ASSIGN_OR_RETURN(torch::Tensor hidden,
                             model.Hidden(input, {}, options.use_cache ? &cache : nullptr));
      // Only the last position's logits: the prompt's others would be a [T, vocab] product.
      const int64_t token = PickToken(model.Logits(hidden.select(1, -1))[0], options, generator);
      out.new_ids.push_back(token);
      sequence.push_back(token);
      step_input = torch::tensor({token}, torch::kLong).unsqueeze(0);
      if (std::find(stop_ids.begin(), stop_ids.end(), token) != stop_ids.end()) {
        out.stop_reason = StopReason::kStopToken;
        break;
      }
      if (!options.stop_strings.empty()) {
        GRAFT_ASSIGN_OR_RETURN(std::string text, Decode(model, out.new_ids));
        size_t cut = std::string::npos;
        for (const std::string& stop : options.stop_strings) {
          if (!stop.empty()) cut = std::min(cut, text.find(stop));
        }
        if (cut != std::string::npos) {
          out.text = text.substr(0, cut);
          out.stop_reason = StopReason::kStopString;
          return out;
        }
      }
    }
  } catch (const std::exception& e) {
    std::string message = e.what();
    return InternalError("generation: libtorch: " + message.substr(0, message.find('\n')));
  }
  GRAFT_ASSIGN_OR_RETURN(out.text, Decode(model, out.new_ids));
  return out;
}

Result<Generation> Generate(CausalLM& model, const std::string& prompt,
                            const GenerationOptions& options) {
  std::vector<int32_t> ids = model.tokenizer().Encode(prompt, /*add_special=*/true);
  return GenerateFromIds(model, std::vector<int64_t>(ids.begin(), ids.end()), options);
}

Result<Generation> GenerateFromDirs(const std::filesystem::path& base_dir,
                                    const std::filesystem::path& adapter_dir,
                                    const std::string& prompt, const GenerationOptions& options,
                                    std::vector<std::string>* warnings) {
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<CausalLM> model,
                         CausalLM::Load(base_dir, options.base_dtype));
  if (!adapter_dir.empty()) {
    const std::string name = "adapter";
    GRAFT_ASSIGN_OR_RETURN(LoadedAdapter loaded, LoadPeftAdapter(*model, adapter_dir, name));
    warnings->insert(warnings->end(), loaded.warnings.begin(), loaded.warnings.end());
    GRAFT_RETURN_IF_ERROR(model->adapters().SetActive(name));
  }
  return Generate(*model, prompt, options);
}

}  // namespace graft::models

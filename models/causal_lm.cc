#include "models/causal_lm.h"

#include <algorithm>
#include <limits>

#include "core/file_names.h"
#include "core/file_util.h"
#include "models/checkpointed_block.h"
#include "models/chunked_lm_head.h"
#include "models/gpt2_lm.h"
#include "models/hf_weights.h"
#include "models/llama_lm.h"
#include "models/parallel_linear.h"
#include "models/q8_weights.h"
#include "models/tokenizer/tokenizer.h"

namespace graft::models {
namespace fs = std::filesystem;

namespace {

Status TorchError(std::string_view what, const std::exception& e) {
  // c10::Error messages carry a C++ backtrace after the first line.
  std::string message = e.what();
  message = message.substr(0, message.find('\n'));
  return InternalError(std::string(what) + ": libtorch: " + message);
}

std::string ShapeString(c10::IntArrayRef shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace

std::vector<WeightSpec> CausalLM::Specs(const ModelConfig& config) {
  return config.arch == Arch::kGpt2 ? Gpt2LM::Specs(config) : LlamaLM::Specs(config);
}

std::string CausalLM::TorchDtypeName(DType dtype) {
  switch (dtype) {
    case DType::kF16:
      return "float16";
    case DType::kBF16:
      return "bfloat16";
    default:
      return "float32";
  }
}

CausalLM::CausalLM(ModelConfig config, std::map<std::string, torch::Tensor> weights)
    : config_(std::move(config)), weights_(std::move(weights)) {
  for (auto& [name, tensor] : weights_) tensor.set_requires_grad(false);
  // The model splits its GEMMs across ATen's pool itself (torch_threads.h); a BLAS pool of its
  // own would be nested inside that one.
  SetBlasThreads(1);
}

CausalLM::~CausalLM() = default;

Status CausalLM::SetTokenizer(std::string json, std::string_view source) {
  GRAFT_ASSIGN_OR_RETURN(tokenizer::Tokenizer tokenizer,
                         tokenizer::Tokenizer::FromJson(json, source));
  if (tokenizer.vocab_size() > config_.vocab_size) {
    return InvalidInput(std::string(source) + ": the tokenizer has " +
                        std::to_string(tokenizer.vocab_size()) + " tokens, more than the model's " +
                        std::to_string(config_.vocab_size));
  }
  tokenizer_ = std::make_shared<const tokenizer::Tokenizer>(std::move(tokenizer));
  tokenizer_json_ = std::move(json);
  return Status::Ok();
}

Result<std::unique_ptr<CausalLM>> CausalLM::FromWeights(
    const ModelConfig& config, std::map<std::string, torch::Tensor> weights,
    std::string_view source) {
  try {
    auto canonical = config.arch == Arch::kGpt2
                         ? Gpt2LM::Canonicalize(std::move(weights), config, source)
                         : LlamaLM::Canonicalize(std::move(weights), config, source);
    if (!canonical.ok()) return canonical.status();
    GRAFT_RETURN_IF_ERROR(CheckWeights(Specs(config), *canonical, source));
    std::unique_ptr<CausalLM> model;
    if (config.arch == Arch::kGpt2) {
      model = std::make_unique<Gpt2LM>(config, std::move(*canonical));
    } else {
      model = std::make_unique<LlamaLM>(config, std::move(*canonical));
    }
    GRAFT_RETURN_IF_ERROR(
        model->SetTokenizer(tokenizer::MakeByteLevelTokenizerJson(), "byte-level tokenizer"));
    return model;
  } catch (const std::exception& e) {
    return TorchError(std::string(source), e);
  }
}

Result<std::unique_ptr<CausalLM>> CausalLM::Load(const fs::path& dir, DType base_dtype) {
  if (base_dtype != DType::kF32 && base_dtype != DType::kBF16 && base_dtype != DType::kF16 &&
      base_dtype != DType::kI8) {
    return InvalidInput("a base is kept in F32, BF16, F16 or Q8_0, not " +
                        std::string(DTypeName(base_dtype)));
  }
  GRAFT_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::Load(dir));
  std::map<std::string, torch::Tensor> weights;
  try {
    // Q8_0 groups a matrix's inputs: GPT-2's Conv1D layers store them first ([in, out]).
    const auto inputs_first = [&config](const std::string& name) {
      return config.arch == Arch::kGpt2 && Gpt2LM::IsConv1DWeight(name);
    };
    GRAFT_ASSIGN_OR_RETURN(weights, ReadHfWeights(dir, base_dtype, inputs_first));
  } catch (const std::exception& e) {
    return TorchError("reading the weights in " + dir.string(), e);
  }
  GRAFT_ASSIGN_OR_RETURN(auto model, FromWeights(config, std::move(weights), dir.string()));
  const fs::path tokenizer_path = dir / kTokenizerFile;
  GRAFT_ASSIGN_OR_RETURN(std::string tokenizer_json, ReadFile(tokenizer_path, 256 << 20));
  GRAFT_RETURN_IF_ERROR(model->SetTokenizer(std::move(tokenizer_json), tokenizer_path.string()));
  model->source_dir_ = dir;
  model->base_dtype_ = base_dtype;
  return model;
}

Result<std::unique_ptr<CausalLM>> CausalLM::CreateRandom(const ModelConfig& config, uint64_t seed) {
  try {
    return FromWeights(config, InitWeights(Specs(config), seed), "random init");
  } catch (const std::exception& e) {
    return TorchError("random init", e);
  }
}

std::string CausalLM::Describe() const {
  return std::string(ArchName(config_.arch)) + " base (" + std::to_string(config_.num_layers) +
         " layers, d=" + std::to_string(config_.hidden_size) + ", " +
         std::to_string(config_.NumParameters()) + " parameters)";
}

Result<torch::Tensor> CausalLM::Forward(const torch::Tensor& input_ids,
                                        const torch::Tensor& attention_mask, KvCache* cache,
                                        const torch::Tensor& position_ids) {
  GRAFT_ASSIGN_OR_RETURN(torch::Tensor hidden,
                         Hidden(input_ids, attention_mask, cache, position_ids));
  try {
    return Logits(hidden);
  } catch (const std::exception& e) {
    return TorchError("LM head", e);
  }
}

Result<torch::Tensor> CausalLM::TargetLogProbs(const torch::Tensor& input_ids,
                                               const torch::Tensor& attention_mask,
                                               const torch::Tensor& targets) {
  if (!targets.defined() || targets.sizes() != input_ids.sizes() ||
      targets.scalar_type() != torch::kLong) {
    return InvalidInput("targets must be an int64 tensor shaped like input_ids");
  }
  GRAFT_ASSIGN_OR_RETURN(torch::Tensor hidden, Hidden(input_ids, attention_mask));
  try {
    if (targets.max().item<int64_t>() >= config_.vocab_size) {
      return InvalidInput("a target is outside the vocabulary [0, " +
                          std::to_string(config_.vocab_size) + ")");
    }
    return graft::models::TargetLogProbs(hidden.reshape({-1, hidden.size(-1)}), HeadWeight(),
                                         targets.reshape({-1}))
        .view(targets.sizes());
  } catch (const std::exception& e) {
    return TorchError("LM head", e);
  }
}

torch::Tensor CausalLM::Logits(const torch::Tensor& hidden) const {
  const torch::Tensor& head = HeadWeight();
  const torch::Tensor logits =
      ParallelLinear(hidden.reshape({-1, hidden.size(-1)}), head.t(), torch::Tensor());
  auto shape = hidden.sizes().vec();
  shape.back() = head.size(0);
  return logits.view(shape);
}

torch::Tensor CausalLM::RunBlock(const torch::Tensor& h, KvCache* cache,
                                 std::function<torch::Tensor(const torch::Tensor&)> fn) const {
  if (checkpointing_ && cache == nullptr && torch::GradMode::is_enabled()) {
    return CheckpointedBlock(h, std::move(fn));
  }
  return fn(h);
}

torch::Tensor CausalLM::Embed(const torch::Tensor& weight, const torch::Tensor& ids) {
  if (IsQ8(weight)) return EmbedQ8(weight, ids);
  return torch::embedding(weight, ids).to(torch::kFloat);
}

Result<torch::Tensor> CausalLM::Hidden(const torch::Tensor& input_ids,
                                       const torch::Tensor& attention_mask, KvCache* cache,
                                       const torch::Tensor& position_ids) {
  try {
    if (!input_ids.defined() || input_ids.dim() != 2 || input_ids.scalar_type() != torch::kLong ||
        input_ids.size(0) == 0 || input_ids.size(1) == 0) {
      return InvalidInput("input_ids must be a non-empty [batch, length] int64 tensor");
    }
    const int64_t batch = input_ids.size(0);
    const int64_t length = input_ids.size(1);
    const int64_t past = cache ? cache->length() : 0;
    if (past > 0 && cache->keys.front().size(0) != batch) {
      return InvalidInput("the KV cache holds batch " +
                          std::to_string(cache->keys.front().size(0)) + ", input_ids has " +
                          std::to_string(batch));
    }
    const int64_t min_id = input_ids.min().item<int64_t>();
    const int64_t max_id = input_ids.max().item<int64_t>();
    if (min_id < 0 || max_id >= config_.vocab_size) {
      return InvalidInput("token id " + std::to_string(min_id < 0 ? min_id : max_id) +
                          " is outside the vocabulary [0, " + std::to_string(config_.vocab_size) +
                          ")");
    }
    torch::Tensor mask;
    if (attention_mask.defined()) {
      if (attention_mask.dim() != 2 || attention_mask.size(0) != batch ||
          attention_mask.size(1) != past + length) {
        return InvalidInput("attention_mask has shape " + ShapeString(attention_mask.sizes()) +
                            ", expected [" + std::to_string(batch) + ", " +
                            std::to_string(past + length) + "]");
      }
      mask = attention_mask.to(torch::kBool);
    } else {
      mask = torch::ones({batch, past + length}, torch::kBool);
    }
    torch::Tensor positions;
    if (position_ids.defined()) {
      if (position_ids.sizes() != input_ids.sizes() || position_ids.scalar_type() != torch::kLong) {
        return InvalidInput("position_ids must be an int64 tensor shaped like input_ids");
      }
      positions = position_ids;
    } else {
      // HF generate's convention: positions count the attended tokens, so left padding works.
      positions = (mask.to(torch::kLong).cumsum(1) - 1).clamp_min(0).slice(1, past, past + length);
    }
    const int64_t max_position = positions.max().item<int64_t>();
    if (positions.min().item<int64_t>() < 0 || max_position >= config_.max_positions) {
      return InvalidInput("position " + std::to_string(max_position) +
                          " is beyond the model's context of " +
                          std::to_string(config_.max_positions) + " tokens");
    }
    return ForwardImpl(input_ids, mask, positions, cache);
  } catch (const std::exception& e) {
    return TorchError("forward pass", e);
  }
}

NamedTensors CausalLM::Parameters() const { return NamedTensors(weights_.begin(), weights_.end()); }

Status CausalLM::SetBaseTrainable(bool trainable) {
  if (trainable && base_dtype_ != DType::kF32) {
    return InvalidInput("the base is kept in " + std::string(BaseDTypeName(base_dtype_)) +
                        " (--base-dtype); full fine-tuning needs it in F32");
  }
  for (auto& [name, tensor] : weights_) tensor.set_requires_grad(trainable);
  return Status::Ok();
}

Status CausalLM::SaveHf(const fs::path& dir, DType dtype, uint64_t max_shard_bytes,
                        bool allow_merged) const {
  if (adapters_->merged() && !allow_merged) {
    return Conflict("adapter '" + *adapters_->merged() +
                    "' is merged into the base; unmerge it before saving the base");
  }
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16) {
    return InvalidInput("base weights are saved as F32, F16 or BF16");
  }
  if (base_dtype_ == DType::kI8) {
    return InvalidInput("the base is kept in q8_0 (--base-dtype), which graft does not save");
  }
  try {
    GRAFT_RETURN_IF_ERROR(WriteHfWeights(dir, Parameters(), dtype, max_shard_bytes));
  } catch (const std::exception& e) {
    return TorchError("saving " + dir.string(), e);
  }
  Json config = config_.hf_json;
  config["torch_dtype"] = TorchDtypeName(dtype);
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(dir / kHfConfigFile, config.dump(2) + "\n"));
  return WriteFileAtomic(dir / kTokenizerFile, tokenizer_json_);
}

const torch::Tensor& CausalLM::Weight(const std::string& name) const { return weights_.at(name); }

LoraLinear* CausalLM::MakeLinear(const std::string& name, bool conv1d) {
  auto bias = weights_.find(name + ".bias");
  linears_.push_back(std::make_unique<LoraLinear>(
      name, weights_.at(name + ".weight"), bias == weights_.end() ? torch::Tensor() : bias->second,
      conv1d));
  return linears_.back().get();
}

void CausalLM::FinishModules() {
  std::vector<LoraLinear*> modules;
  for (const auto& linear : linears_) modules.push_back(linear.get());
  adapters_ = std::make_unique<LoraAdapterSet>(std::move(modules), Describe());
}

torch::Tensor CausalLM::AttentionBias(const torch::Tensor& mask, int64_t query_length,
                                      int64_t heads) {
  if (mask.all().item<bool>()) return torch::Tensor();
  const int64_t batch = mask.size(0);
  const int64_t keys = mask.size(1);
  const int64_t past = keys - query_length;
  torch::Tensor causal = torch::ones({query_length, keys}, torch::kBool).tril(past);  // [T, S]
  torch::Tensor allowed = causal.unsqueeze(0) & mask.unsqueeze(1);                    // [B, T, S]
  return torch::zeros(allowed.sizes(), torch::kFloat)
      .masked_fill(allowed.logical_not(), std::numeric_limits<float>::lowest())
      .unsqueeze(1)
      .expand({batch, heads, query_length, keys})
      .reshape({batch * heads, query_length, keys});
}

std::pair<torch::Tensor, torch::Tensor> CausalLM::UpdateCache(KvCache* cache, size_t layer,
                                                              torch::Tensor k, torch::Tensor v) {
  if (cache == nullptr) return {std::move(k), std::move(v)};
  if (cache->keys.size() <= layer) {
    for (auto* list : {&cache->keys, &cache->values, &cache->key_buffers, &cache->value_buffers}) {
      list->resize(layer + 1);
    }
  }
  const int64_t past = cache->keys[layer].defined() ? cache->keys[layer].size(2) : 0;
  const int64_t length = past + k.size(2);
  // Appends `step` to `buffer` (grown by doubling when full) and returns the filled part.
  auto append = [&](torch::Tensor& buffer, const torch::Tensor& step) {
    if (!buffer.defined() || buffer.size(2) < length) {
      const int64_t capacity =
          std::max<int64_t>(length, buffer.defined() ? 2 * buffer.size(2) : 64);
      torch::Tensor grown =
          torch::empty({step.size(0), step.size(1), capacity, step.size(3)}, step.options());
      if (past > 0) grown.narrow(2, 0, past).copy_(buffer.narrow(2, 0, past));
      buffer = std::move(grown);
    }
    buffer.narrow(2, past, step.size(2)).copy_(step);
    return buffer.narrow(2, 0, length);
  };
  cache->keys[layer] = append(cache->key_buffers[layer], k);
  cache->values[layer] = append(cache->value_buffers[layer], v);
  return {cache->keys[layer], cache->values[layer]};
}

}  // namespace graft::models

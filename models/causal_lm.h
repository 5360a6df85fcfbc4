// CausalLM: a base language model (gpt2 or llama) loaded from an HF directory, with LoRA adapters.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/safetensors.h"
#include "core/status.h"
#include "models/kv_cache.h"
#include "models/lora_adapter_set.h"
#include "models/lora_linear.h"
#include "models/model_config.h"
#include "models/named_tensors.h"
#include "models/torch_threads.h"
#include "models/weight_spec.h"

namespace graft::tokenizer {
class Tokenizer;  // models/tokenizer/tokenizer.h
}  // namespace graft::tokenizer

namespace graft::models {

// Computes in F32 on CPU. The base's matrices are kept in F32 (the default) or, for a frozen
// base, in BF16 or F16 (`base_dtype`: half the memory; each product converts its weights to F32
// a block at a time, parallel_linear.h), or in Q8_0 (int8 in groups of 32 inputs with a scale
// each, about a quarter of F32: q8_weights.h; for evaluation and LoRA training, not saving or
// merging); vectors (norms, biases) are always F32. Weights kept in
// the dtype they are stored in are memory-mapped from the files, not copied (hf_weights.h).
// Parameters use the HF names
// of GPT2LMHeadModel / LlamaForCausalLM ("transformer.h.0.attn.c_attn.weight",
// "model.layers.0.self_attn.q_proj.weight"); a GPT-2 checkpoint without the "transformer."
// prefix is accepted and renamed. Not thread-safe: one forward pass at a time. Creating one sets
// OpenBLAS's own thread pool to one thread (see torch_threads.h).
class CausalLM {
 public:
  // Reads config.json, model.safetensors (or model-0000N-of-0000M.safetensors shards listed in
  // model.safetensors.index.json) and tokenizer.json. A missing, unexpected or mis-shaped tensor
  // is an error naming it. Base parameters do not require grad. `base_dtype`: see above.
  static Result<std::unique_ptr<CausalLM>> Load(const std::filesystem::path& dir,
                                                DType base_dtype = DType::kF32);
  // The tensors of a checkpoint with `config` (names, shapes, initialisation).
  static std::vector<WeightSpec> Specs(const ModelConfig& config);
  // config.json's "torch_dtype" for `dtype`: "float32", "bfloat16", "float16".
  static std::string TorchDtypeName(DType dtype);
  // A model with weights drawn as HF initialises them (normal(0, 0.02), GPT-2's scaled
  // residual projections, unit norms, zero biases), deterministic for `seed`, and graft's
  // byte-level tokenizer.
  static Result<std::unique_ptr<CausalLM>> CreateRandom(const ModelConfig& config, uint64_t seed);
  // A model over `weights` (checkpoint names, F32) with `config` and the byte-level tokenizer:
  // how Load builds it, for callers that hold weights in memory. `source` names them in errors.
  static Result<std::unique_ptr<CausalLM>> FromWeights(const ModelConfig& config,
                                                       std::map<std::string, torch::Tensor> weights,
                                                       std::string_view source);

  virtual ~CausalLM();
  CausalLM(const CausalLM&) = delete;
  CausalLM& operator=(const CausalLM&) = delete;

  const ModelConfig& config() const { return config_; }
  // From tokenizer.json (Load), or graft's byte-level tokenizer (CreateRandom, FromWeights).
  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
  // The directory it was loaded from (empty for CreateRandom).
  const std::filesystem::path& source_dir() const { return source_dir_; }
  // "gpt2 base (2 layers, d=32, 35712 parameters)": used in messages.
  std::string Describe() const;

  // input_ids [B, T] int64 → logits [B, T, vocab] F32. attention_mask [B, T] (or
  // [B, cache length + T] with a cache) of 0/1, undefined for all ones: left or right padding.
  // Position ids are cumsum(mask) - 1 (HF's convention, so left padding works) unless
  // `position_ids` [B, T] is given. With a cache, keys/values of these tokens are appended to
  // it and attention covers cached positions too. Grad mode is the caller's (the trainer needs
  // it; inference should hold a torch::NoGradGuard).
  Result<torch::Tensor> Forward(const torch::Tensor& input_ids,
                                const torch::Tensor& attention_mask = {}, KvCache* cache = nullptr,
                                const torch::Tensor& position_ids = {});
  // Forward up to the final norm: hidden states [B, T, d] F32, for callers that need the logits
  // of only some positions (Logits) or only the targets' log-probabilities (TargetLogProbs).
  Result<torch::Tensor> Hidden(const torch::Tensor& input_ids,
                               const torch::Tensor& attention_mask = {}, KvCache* cache = nullptr,
                               const torch::Tensor& position_ids = {});
  // logits [..., vocab] of hidden states [..., d] through the LM head.
  torch::Tensor Logits(const torch::Tensor& hidden) const;
  // log p(targets) [B, T] of the next token at every position, through the LM head a chunk of
  // positions at a time (models/chunked_lm_head.h: the [B, T, vocab] logits are never held in
  // full, forward or backward); targets [B, T] int64, a negative target (ignored) gives 0.
  // Differentiable like Forward.
  Result<torch::Tensor> TargetLogProbs(const torch::Tensor& input_ids,
                                       const torch::Tensor& attention_mask,
                                       const torch::Tensor& targets);

  // The base parameters by HF name, sorted (a tied LM head appears once, as the embedding).
  NamedTensors Parameters() const;
  // requires_grad on every base parameter (full fine-tuning); false after Load. A base kept in
  // BF16/F16/Q8_0 cannot be trained (its updates would be rounded away): an error.
  Status SetBaseTrainable(bool trainable);
  // The dtype the base's matrices are kept in (Load's base_dtype).
  DType base_dtype() const { return base_dtype_; }
  // Activation checkpointing (training): each block's activations are recomputed in the
  // backward pass instead of kept (models/checkpointed_block.h), so a long sequence trains in the
  // memory of one block's activations plus each block's input. Off after Load.
  void SetCheckpointing(bool on) { checkpointing_ = on; }
  bool checkpointing() const { return checkpointing_; }
  // Training mode enables LoRA dropout; false after Load.
  void SetTraining(bool training) { training_ = training; }
  bool training() const { return training_; }

  LoraAdapterSet& adapters() { return *adapters_; }
  const LoraAdapterSet& adapters() const { return *adapters_; }

  // Writes config.json, the weights (model.safetensors, or shards of at most
  // `max_shard_bytes` with model.safetensors.index.json when > 0) in `dtype` (F32, F16 or
  // BF16), and tokenizer.json, in HF's layout. Deterministic. A merged adapter is saved as part
  // of the weights (that is how a merged model is exported); refuses while one is merged unless
  // `allow_merged`. A base kept in Q8_0 is not saved (an error).
  Status SaveHf(const std::filesystem::path& dir, DType dtype = DType::kF32,
                uint64_t max_shard_bytes = 0, bool allow_merged = false) const;

 protected:
  CausalLM(ModelConfig config, std::map<std::string, torch::Tensor> weights);

  // The architecture's forward pass over validated inputs, up to the final norm (hidden states
  // [B, T, d]): `mask` [B, cache length + T] bool, `positions` [B, T] int64.
  virtual torch::Tensor ForwardImpl(const torch::Tensor& input_ids, const torch::Tensor& mask,
                                    const torch::Tensor& positions, KvCache* cache) = 0;

  // The weight by canonical HF name (it exists: names were validated at construction).
  const torch::Tensor& Weight(const std::string& name) const;
  // Creates the adaptable layer over weights "<name>.weight" (and "<name>.bias" if present).
  // The subclass constructor creates all of them, then calls FinishModules once.
  LoraLinear* MakeLinear(const std::string& name, bool conv1d);
  void FinishModules();

  // The additive attention bias for `mask` [B, S] (S = cache length + T) and T queries, as
  // CausalAttention takes it: undefined when no key is masked (the causal mask alone), otherwise
  // [B * heads, T, S] of 0 where query i may see key j (j <= S - T + i and mask[j]) and the
  // lowest float elsewhere (so a fully-masked padding row stays finite).
  static torch::Tensor AttentionBias(const torch::Tensor& mask, int64_t query_length,
                                     int64_t heads);
  // h after one transformer block `fn` (which captures what it reads by value): checkpointed
  // when checkpointing is on, grad mode is on and no cache is used, else simply fn(h).
  torch::Tensor RunBlock(const torch::Tensor& h, KvCache* cache,
                         std::function<torch::Tensor(const torch::Tensor&)> fn) const;
  // The LM head [vocab, d] (the embedding when tied).
  virtual const torch::Tensor& HeadWeight() const = 0;
  // Rows of an embedding matrix (any dtype) as F32.
  static torch::Tensor Embed(const torch::Tensor& weight, const torch::Tensor& ids);
  // Appends this step's keys/values [B, H, T, D] of `layer` to the cache (if any) and returns
  // the keys/values to attend over.
  static std::pair<torch::Tensor, torch::Tensor> UpdateCache(KvCache* cache, size_t layer,
                                                             torch::Tensor k, torch::Tensor v);

  ModelConfig config_;

 private:
  // Parses tokenizer.json text; its vocabulary must fit the model's.
  Status SetTokenizer(std::string json, std::string_view source);

  std::map<std::string, torch::Tensor> weights_;
  std::vector<std::unique_ptr<LoraLinear>> linears_;
  std::unique_ptr<LoraAdapterSet> adapters_;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  std::string tokenizer_json_;  // tokenizer.json bytes, written back by SaveHf
  std::filesystem::path source_dir_;
  DType base_dtype_ = DType::kF32;
  bool training_ = false;
  bool checkpointing_ = false;
};

}  // namespace graft::models

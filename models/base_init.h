// Writing a randomly initialised base model (`graft base init`) in Hugging Face's layout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/safetensors.h"
#include "core/status.h"
#include "models/model_config.h"

namespace graft::models {

// Shards of a written base hold at most this much tensor data (HF's "2GB").
inline constexpr uint64_t kDefaultMaxShardBytes = 2'000'000'000;

// graft's byte-level tokenizer.json (256 bytes and <|endoftext|>) grown to `vocab_size` tokens by
// synthetic BPE merges of two bytes each, in byte order, so that every id a model of that
// vocabulary emits decodes (to two bytes) and text encodes through a merge table of the real
// size. At most 256 * 256 merges; a vocabulary that small gets the byte-level tokenizer as is.
std::string FullVocabularyTokenizerJson(int64_t vocab_size);

// Writes config.json, the weights in `dtype` (F32, F16 or BF16) and a byte-level
// tokenizer.json covering the whole vocabulary (synthetic two-byte merges after the 256 bytes,
// so that any generated id decodes) of a `preset` model of `arch` (ModelConfig::Preset),
// initialised from `seed`, into `out_dir` (created; it must not exist or be empty). Weights of more
// than `max_shard_bytes` go to model-0000N-of-0000M.safetensors shards with
// model.safetensors.index.json, otherwise to model.safetensors. Streamed: one tensor is drawn,
// written and dropped at a time, so a 7B model is written in the memory of its largest tensor.
// Deterministic: the same arguments give byte-identical files, and the weights equal
// CausalLM::CreateRandom(config, seed)'s.
Result<ModelConfig> WriteRandomBase(Arch arch, std::string_view preset, uint64_t seed,
                                    const std::filesystem::path& out_dir, DType dtype = DType::kF32,
                                    uint64_t max_shard_bytes = kDefaultMaxShardBytes);

}  // namespace graft::models

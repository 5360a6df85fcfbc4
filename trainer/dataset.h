// Training data: JSONL text or prompt/completion records, tokenized, shuffled and batched.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace graft::tokenizer {
class Tokenizer;
}  // namespace graft::tokenizer

namespace graft::trainer {

inline constexpr int64_t kIgnoreLabel = -100;  // as PyTorch's cross_entropy ignore_index

// The tokenizer as the dataset sees it: text → ids, the EOS id that ends each document (and pads),
// and the id that opens each row as the context of its first token (BOS, or EOS without one).
struct TextEncoder {
  std::function<Result<std::vector<int64_t>>(std::string_view text)> encode;
  int64_t eos_id = 0;
  int64_t start_id = 0;

  // A tokenizer (which must outlive the encoder; no special tokens added), its EOS (or
  // `fallback_eos`, config.json's eos_token_id, when it names none; < 0: none) and its BOS.
  static Result<TextEncoder> For(const tokenizer::Tokenizer& tokenizer, int64_t fallback_eos);
};

// One JSONL record, tokenized: the tokens end with EOS; `trained[i]` says whether token i is a loss
// target (text: every token; prompt/completion: the completion and its EOS).
struct Document {
  std::vector<int64_t> tokens;
  std::vector<uint8_t> trained;
  int64_t trained_bytes = 0;  // UTF-8 bytes of the trained text, for bits per byte
};

// A padded batch, row-major [rows, cols]. Labels follow the transformers convention (aligned with
// input_ids; the loss compares logits at position t with labels at t + 1).
struct Batch {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<int64_t> input_ids;
  std::vector<int64_t> labels;          // kIgnoreLabel: prompt, padding or a row's first position
  std::vector<int64_t> attention_mask;  // 1 real token, 0 padding
  int64_t tokens = 0;                   // real tokens
  int64_t targets = 0;                  // labels that count
};

struct BatchOptions {
  int64_t batch_size = 8;
  int64_t max_seq_len = 256;
  bool packing = true;
};

class Dataset {
 public:
  // Reads a JSONL file: each line {"text": ...} or {"prompt": ..., "completion": ...} (other
  // fields are ignored). Every bad line is reported as FILE:LINE and its problem (up to 20), none
  // skipped.
  static Result<Dataset> Load(const std::filesystem::path& path, const TextEncoder& encoder);
  static Result<Dataset> Parse(std::string_view text, std::string_view source,
                               const TextEncoder& encoder);

  const std::vector<Document>& documents() const { return documents_; }
  int64_t trained_bytes() const;

  // The batches of one pass. Documents are in file order, or shuffled by (seed, epoch) when
  // `shuffle`. Each row starts with the start id (the context of a document's first token). Without
  // packing a row holds one document; with packing documents are concatenated. Sequences longer
  // than max_seq_len are cut into windows that overlap by one token, so that every trained token
  // is a target exactly once and nothing is dropped.
  std::vector<Batch> Batches(const BatchOptions& options, bool shuffle, uint64_t seed,
                             uint64_t epoch) const;

 private:
  std::vector<Document> documents_;
  int64_t eos_id_ = 0;
  int64_t start_id_ = 0;
};

}  // namespace graft::trainer

// Torch-free BPE tokenizers loaded from Hugging Face tokenizer.json (byte-level and SentencePiece).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "models/tokenizer/bpe_merges.h"
#include "models/tokenizer/normalizer.h"
#include "models/tokenizer/pre_tokenizer.h"

namespace graft::tokenizer {

// A BPE tokenizer as described by a tokenizer.json (docs/tokenizers.md lists what is read).
// Supported:
//  - byte-level BPE (GPT-2, Llama 3, Qwen 2): pre_tokenizer ByteLevel, alone or with Split,
//    Digits, Punctuation, Whitespace or WhitespaceSplit steps, whose patterns run through PCRE2
//    with Unicode properties; decoder ByteLevel.
//  - SentencePiece-style BPE (Llama 2): normalizer Prepend("▁") + Replace(" ", "▁") or
//    pre_tokenizer Metaspace; byte_fallback with <0xNN> tokens or an unk_token; decoder
//    Replace/ByteFallback/Fuse/Strip or Metaspace.
//  - normalizers NFC, NFD, NFKC and NFKD, applied through ICU.
//  - added_tokens, matched in the raw text (longest first) before normalisation and BPE;
//    post_processor null, ByteLevel or TemplateProcessing (its `single` template).
// The lstrip, rstrip, single_word and normalized flags of added tokens are ignored. Byte-fallback
// bytes decode to the raw bytes (no U+FFFD replacement), so Decode(Encode(x)) == x for any x the
// model can encode. Tokenizers are immutable after loading; Encode and Decode are thread-safe.
class Tokenizer {
 public:
  // Reads and validates a tokenizer.json. Errors name the file and field.
  static Result<Tokenizer> Load(const std::filesystem::path& path);
  static Result<Tokenizer> FromJson(std::string_view text, std::string_view source);

  // Token ids of `text` (any bytes; never fails). `add_special` adds what the post_processor's
  // template adds around a single sequence (e.g. <s> for Llama 2, nothing for GPT-2).
  std::vector<int32_t> Encode(std::string_view text, bool add_special) const;
  // Text of `ids`; `skip_special` drops special added tokens. Unknown ids are an error.
  Result<std::string> Decode(std::span<const int32_t> ids, bool skip_special) const;

  std::optional<int32_t> TokenToId(std::string_view token) const;
  std::optional<std::string> IdToToken(int32_t id) const;
  // One past the largest id in the vocab and the added tokens.
  int32_t vocab_size() const { return static_cast<int32_t>(id_to_token_.size()); }

  // tokenizer.json does not name these; they come from the post_processor template (bos) and
  // otherwise from the usual special-token names among the added tokens: <s>, <|begin_of_text|>
  // (bos); </s>, <|endoftext|>, <|end_of_text|> (eos); `padding.pad_id`, <pad>, <|pad|> (pad).
  std::optional<int32_t> bos_id() const { return bos_id_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }
  std::optional<int32_t> pad_id() const { return pad_id_; }

 private:
  struct AddedToken {
    int32_t id;
    std::string content;
    bool special;
  };
  // The BPE model's own settings besides its vocab and merges.
  struct ModelOptions {
    bool ignore_merges = false;  // a word that is a token is not merged (Llama 3)
    bool byte_fallback = false;  // unknown characters become <0xNN> tokens
    std::optional<int32_t> unk_id;
  };
  // The decoder: byte-level characters back to bytes, or "▁" back to spaces.
  struct Decoder {
    bool byte_level = false;
    bool strip_space = false;  // drop one leading space (Strip, or Metaspace's prepend)
  };

  Tokenizer() = default;
  // Defined in tokenizer_json.cc.
  Status LoadModel(const Json& json, const std::string& source);  // vocab and merges
  Status LoadAddedTokens(const Json& json, const std::string& source);
  Status LoadPipeline(const Json& json, const std::string& source);
  Status LoadSpecials(const Json& json, const std::string& source);

  void EncodeSegment(std::string_view segment, bool first_segment, std::vector<int32_t>& out) const;
  void EncodeWord(std::string_view word, std::vector<int32_t>& out) const;

  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  BpeMerges merges_;
  ModelOptions model_;
  std::vector<AddedToken> added_;                             // longest content first
  std::array<std::vector<size_t>, 256> added_by_first_byte_;  // indices into added_
  std::vector<bool> is_special_;                              // by id
  std::vector<bool> is_added_;                                // by id

  Normalizer normalizer_;
  PreTokenizer pre_tokenizer_;
  Decoder decoder_;
  std::vector<int32_t> byte_ids_;  // byte -> id of its byte-level char or <0xNN> token
  std::unordered_map<int32_t, uint8_t> fallback_bytes_;  // <0xNN> token id -> byte

  std::vector<int32_t> prefix_ids_;
  std::vector<int32_t> suffix_ids_;
  std::optional<int32_t> bos_id_;
  std::optional<int32_t> eos_id_;
  std::optional<int32_t> pad_id_;
};

// The tokenizer.json of graft's tiny base models: byte-level BPE whose vocab is the 256 GPT-2
// byte-to-unicode characters (id = byte value), no merges, and <|endoftext|> as special id 256.
std::string MakeByteLevelTokenizerJson();

}  // namespace graft::tokenizer

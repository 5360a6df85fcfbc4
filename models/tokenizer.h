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

namespace graft {

// A BPE tokenizer as described by a tokenizer.json. Supported:
//  - byte-level BPE (GPT-2, Llama 3, Qwen 2): pre_tokenizer ByteLevel, or Split with the GPT-2,
//    Llama 3 or Qwen 2 regex followed by ByteLevel; decoder ByteLevel; normalizer null or NFC.
//  - SentencePiece-style BPE (Llama 2): normalizer Prepend("▁") + Replace(" ", "▁") or
//    pre_tokenizer Metaspace; byte_fallback with <0xNN> tokens or an unk_token; decoder
//    Replace/ByteFallback/Fuse/Strip or Metaspace.
//  - added_tokens, matched in the raw text (longest first) before normalisation and BPE;
//    post_processor null, ByteLevel or TemplateProcessing (its `single` template).
// Approximations, since graft has no ICU: the split regexes are implemented by hand over code
// points with built-in Unicode classes that are exact for ASCII and Latin-1 and cover the common
// letter and number blocks (Latin, Greek, Cyrillic, Armenian, Hebrew, Arabic, Indic, Thai,
// Georgian, Hangul, kana, CJK, fullwidth forms); other code points count as punctuation. NFC is
// not applied (text already in NFC, which is most text, is unaffected). The lstrip, rstrip,
// single_word and normalized flags of added tokens are ignored. Byte-fallback bytes decode to the
// raw bytes (no U+FFFD replacement), so Decode(Encode(x)) == x for any x the model can encode.
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
  // How text is split into words before BPE.
  enum class Split { kNone, kGpt2, kLlama3, kQwen2 };
  struct AddedToken {
    int32_t id;
    std::string content;
    bool special;
  };
  struct Merge {
    int32_t rank;
    int32_t result;
  };

  Tokenizer() = default;
  Status LoadModel(const Json& json, const std::string& source);
  Status LoadPipeline(const Json& json, const std::string& source);
  Status LoadSpecials(const Json& json, const std::string& source);
  void EncodeSegment(std::string_view segment, bool first_segment, std::vector<int32_t>& out) const;
  void EncodeWord(std::string_view word, std::vector<int32_t>& out) const;

  std::vector<std::string> id_to_token_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::unordered_map<uint64_t, Merge> merges_;                // (left id << 32 | right id) -> merge
  std::vector<AddedToken> added_;                             // longest content first
  std::array<std::vector<size_t>, 256> added_by_first_byte_;  // indices into added_
  std::vector<bool> is_special_;                              // by id
  std::vector<bool> is_added_;                                // by id

  bool byte_level_ = false;  // otherwise SentencePiece-style (metaspace)
  Split split_ = Split::kNone;
  bool byte_level_prefix_space_ = false;
  bool ignore_merges_ = false;
  // SentencePiece-style: prepend "▁" to the first segment or to every segment; split words at "▁".
  bool metaspace_prepend_first_ = false;
  bool metaspace_prepend_all_ = false;
  bool metaspace_split_ = false;
  bool metaspace_prepend_unless_present_ = false;  // the Metaspace pre-tokenizer's rule
  bool byte_fallback_ = false;
  std::optional<int32_t> unk_id_;
  std::vector<int32_t> byte_ids_;  // byte -> id of its byte-level char or <0xNN> token
  std::unordered_map<int32_t, uint8_t> fallback_bytes_;  // <0xNN> token id -> byte
  bool decode_strip_space_ = false;

  std::vector<int32_t> prefix_ids_;
  std::vector<int32_t> suffix_ids_;
  std::optional<int32_t> bos_id_;
  std::optional<int32_t> eos_id_;
  std::optional<int32_t> pad_id_;
};

// The tokenizer.json of graft's tiny base models: byte-level BPE whose vocab is the 256 GPT-2
// byte-to-unicode characters (id = byte value), no merges, and <|endoftext|> as special id 256.
std::string MakeByteLevelTokenizerJson();

}  // namespace graft

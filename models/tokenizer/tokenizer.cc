#include "models/tokenizer/tokenizer.h"

#include <algorithm>

#include "models/tokenizer/byte_alphabet.h"
#include "models/tokenizer/utf8.h"

namespace graft::tokenizer {

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  auto it = token_to_id_.find(std::string(token));
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Tokenizer::IdToToken(int32_t id) const {
  if (id < 0 || id >= vocab_size() || id_to_token_[id].empty()) return std::nullopt;
  return id_to_token_[id];
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, bool add_special) const {
  std::vector<int32_t> out;
  if (add_special) out = prefix_ids_;
  size_t segment_start = 0;
  for (size_t i = 0; i < text.size();) {
    const std::vector<size_t>& candidates = added_by_first_byte_[static_cast<uint8_t>(text[i])];
    auto match = std::find_if(candidates.begin(), candidates.end(), [&](size_t k) {
      return text.substr(i, added_[k].content.size()) == added_[k].content;
    });
    if (match == candidates.end()) {
      ++i;
      continue;
    }
    const AddedToken& token = added_[*match];
    if (i > segment_start) {
      EncodeSegment(text.substr(segment_start, i - segment_start), segment_start == 0, out);
    }
    out.push_back(token.id);
    i += token.content.size();
    segment_start = i;
  }
  if (segment_start < text.size()) {
    EncodeSegment(text.substr(segment_start), segment_start == 0, out);
  }
  if (add_special) out.insert(out.end(), suffix_ids_.begin(), suffix_ids_.end());
  return out;
}

void Tokenizer::EncodeSegment(std::string_view segment, bool first_segment,
                              std::vector<int32_t>& out) const {
  const std::string text = pre_tokenizer_.Prepare(normalizer_.Apply(segment), first_segment);
  for (std::string_view word : pre_tokenizer_.Words(text)) EncodeWord(word, out);
}

void Tokenizer::EncodeWord(std::string_view word, std::vector<int32_t>& out) const {
  std::vector<int32_t> symbols;
  if (pre_tokenizer_.byte_level) {
    const ByteAlphabet& bytes = ByteAlphabet::Get();
    if (model_.ignore_merges) {
      std::string mapped;
      for (char c : word) mapped += bytes.byte_to_char[static_cast<uint8_t>(c)];
      if (auto id = TokenToId(mapped)) {
        out.push_back(*id);
        return;
      }
    }
    for (char c : word) symbols.push_back(byte_ids_[static_cast<uint8_t>(c)]);
  } else {
    for (size_t i = 0; i < word.size();) {
      char32_t cp;
      size_t len = DecodeUtf8(word, i, cp);
      if (auto id = cp == kInvalidCodePoint ? std::nullopt : TokenToId(word.substr(i, len))) {
        symbols.push_back(*id);
      } else if (model_.byte_fallback) {
        for (size_t k = i; k < i + len; ++k)
          symbols.push_back(byte_ids_[static_cast<uint8_t>(word[k])]);
      } else {
        symbols.push_back(*model_.unk_id);
      }
      i += len;
    }
  }
  merges_.Apply(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
}

Result<std::string> Tokenizer::Decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  for (int32_t id : ids) {
    if (!IdToToken(id)) {
      return InvalidInput("cannot decode token id " + std::to_string(id) +
                          ": not in the vocabulary");
    }
    const std::string& token = id_to_token_[id];
    if (is_added_[id]) {
      if (!(skip_special && is_special_[id])) out += token;
    } else if (decoder_.byte_level) {
      const ByteAlphabet& bytes = ByteAlphabet::Get();
      for (size_t i = 0; i < token.size();) {
        char32_t cp;
        size_t len = DecodeUtf8(token, i, cp);
        auto it = bytes.char_to_byte.find(cp);
        if (it != bytes.char_to_byte.end()) {
          out.push_back(static_cast<char>(it->second));
        } else {
          out.append(token, i, len);
        }
        i += len;
      }
    } else if (auto byte = fallback_bytes_.find(id); byte != fallback_bytes_.end()) {
      out.push_back(static_cast<char>(byte->second));
    } else {
      out += ReplaceAll(token, kMetaspace, " ");
    }
  }
  if (decoder_.strip_space && out.starts_with(' ')) out.erase(0, 1);
  return out;
}

}  // namespace graft::tokenizer

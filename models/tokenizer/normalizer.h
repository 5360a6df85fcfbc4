// The normalizer of a tokenizer.json: steps applied in order to each text segment.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "models/tokenizer/unicode_normalizer.h"

namespace graft::tokenizer {

struct Normalizer {
  // Prepends `text` to a non-empty segment (Hugging Face's Prepend).
  struct Prepend {
    std::string text;
  };
  // Replaces every occurrence of `from` by `to` (Replace with a String pattern).
  struct Replace {
    std::string from;
    std::string to;
  };
  using Step = std::variant<UnicodeNormalizer, Prepend, Replace>;

  std::vector<Step> steps;

  std::string Apply(std::string_view segment) const;
};

// `text` with every `from` replaced by `to`.
std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to);

}  // namespace graft::tokenizer

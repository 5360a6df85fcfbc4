// The pre_tokenizer of a tokenizer.json: how a normalised segment is cut into words before BPE.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "models/tokenizer/split_regex.h"

namespace graft::tokenizer {

// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's stand-in for a space.
inline constexpr std::string_view kMetaspace = "\xe2\x96\x81";

struct PreTokenizer {
  // What a split does with the pattern's matches (Hugging Face's SplitDelimiterBehavior).
  enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
  struct Split {
    SplitRegex regex;
    Behavior behavior;
    bool invert;  // the non-matches play the matches' part
  };
  // When the Metaspace pre-tokenizer prepends "▁" (unless the segment starts with one).
  enum class Prepend { kNever, kFirst, kAlways };

  bool byte_level = false;               // the ByteLevel pre-tokenizer: words become byte symbols
  bool byte_level_prefix_space = false;  // its add_prefix_space, at the start of each segment
  bool metaspace = false;                // the Metaspace pre-tokenizer: spaces become "▁"
  Prepend metaspace_prepend = Prepend::kNever;
  std::vector<Split> splits;  // applied in order, each to every word of the one before

  // The segment as the splits see it: with ByteLevel's prefix space, or Metaspace's "▁"s.
  std::string Prepare(std::string_view segment, bool first_segment) const;
  // The non-empty words of a prepared segment, as views into it, in order.
  std::vector<std::string_view> Words(std::string_view text) const;
};

}  // namespace graft::tokenizer

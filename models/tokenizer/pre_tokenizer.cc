#include "models/tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <utility>

#include "models/tokenizer/normalizer.h"

namespace graft::tokenizer {
namespace {

struct Piece {
  size_t begin;
  size_t end;
  bool is_match;
};

// Hugging Face's NormalizedString::split over `text`: the pieces between and at the matches,
// arranged by the behaviour; empty pieces are dropped.
void SplitWord(const PreTokenizer::Split& split, std::string_view text,
               std::vector<std::string_view>& out) {
  std::vector<std::pair<size_t, size_t>> ranges;
  // A match that exceeds PCRE2's limits ends the search: the rest is one unmatched piece.
  (void)split.regex.FindAll(text, ranges);
  std::vector<Piece> pieces;
  size_t previous = 0;
  for (auto [begin, end] : ranges) {
    if (begin > previous) pieces.push_back({previous, begin, false});
    pieces.push_back({begin, end, true});
    previous = end;
  }
  if (previous < text.size()) pieces.push_back({previous, text.size(), false});
  if (split.invert) {
    for (Piece& p : pieces) p.is_match = !p.is_match;
  }

  using Behavior = PreTokenizer::Behavior;
  std::vector<Piece> words;
  bool previous_match = false;
  switch (split.behavior) {
    case Behavior::kIsolated:
      words = std::move(pieces);
      break;
    case Behavior::kRemoved:
      for (const Piece& p : pieces) {
        if (!p.is_match) words.push_back(p);
      }
      break;
    case Behavior::kContiguous:
      for (const Piece& p : pieces) {
        if (p.is_match && previous_match) {
          words.back().end = p.end;
        } else {
          words.push_back(p);
        }
        previous_match = p.is_match;
      }
      break;
    case Behavior::kMergedWithPrevious:
      for (const Piece& p : pieces) {
        if (p.is_match && !previous_match && !words.empty()) {
          words.back().end = p.end;
        } else {
          words.push_back(p);
        }
        previous_match = p.is_match;
      }
      break;
    case Behavior::kMergedWithNext:
      for (auto p = pieces.rbegin(); p != pieces.rend(); ++p) {
        if (p->is_match && !previous_match && !words.empty()) {
          words.back().begin = p->begin;
        } else {
          words.push_back(*p);
        }
        previous_match = p->is_match;
      }
      std::reverse(words.begin(), words.end());
      break;
  }
  for (const Piece& w : words) {
    if (w.end > w.begin) out.push_back(text.substr(w.begin, w.end - w.begin));
  }
}

}  // namespace

std::string PreTokenizer::Prepare(std::string_view segment, bool first_segment) const {
  std::string text;
  if (byte_level && byte_level_prefix_space && !segment.starts_with(' ')) text = " ";
  if (!metaspace) return text.append(segment);
  text = ReplaceAll(segment, " ", kMetaspace);
  bool prepend = metaspace_prepend == Prepend::kAlways ||
                 (metaspace_prepend == Prepend::kFirst && first_segment);
  if (prepend && !text.starts_with(kMetaspace)) text.insert(0, kMetaspace);
  return text;
}

std::vector<std::string_view> PreTokenizer::Words(std::string_view text) const {
  std::vector<std::string_view> words;
  if (!text.empty()) words.push_back(text);
  for (const Split& split : splits) {
    std::vector<std::string_view> next;
    next.reserve(words.size());
    for (std::string_view word : words) SplitWord(split, word, next);
    words = std::move(next);
  }
  return words;
}

}  // namespace graft::tokenizer

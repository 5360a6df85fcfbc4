#include "models/tokenizer/normalizer.h"

namespace graft::tokenizer {

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  if (from.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t next = text.find(from, i);
    if (next == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, next - i));
    out.append(to);
    i = next + from.size();
  }
  return out;
}

std::string Normalizer::Apply(std::string_view segment) const {
  std::string text(segment);
  for (const Step& step : steps) {
    if (const auto* unicode = std::get_if<UnicodeNormalizer>(&step)) {
      text = unicode->Apply(text);
    } else if (const auto* prepend = std::get_if<Prepend>(&step)) {
      if (!text.empty()) text.insert(0, prepend->text);
    } else {
      const auto& replace = std::get<Replace>(step);
      text = ReplaceAll(text, replace.from, replace.to);
    }
  }
  return text;
}

}  // namespace graft::tokenizer

#include "core/jsonl_lines.h"

namespace graft {

bool JsonlLine::blank() const { return text.find_first_not_of(" \t") == std::string_view::npos; }

JsonlLines::JsonlLines(std::string_view text, std::string_view source)
    : text_(text), source_(source) {}

std::optional<JsonlLine> JsonlLines::Next() {
  if (position_ >= text_.size()) return std::nullopt;
  size_t end = text_.find('\n', position_);
  if (end == std::string_view::npos) end = text_.size();
  JsonlLine line{++number_, text_.substr(position_, end - position_)};
  position_ = end + 1;
  if (!line.text.empty() && line.text.back() == '\r') line.text.remove_suffix(1);
  return line;
}

std::string JsonlLines::Where(const JsonlLine& line) const {
  return source_ + ":" + std::to_string(line.number);
}

}  // namespace graft

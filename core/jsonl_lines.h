// JsonlLines: splits JSONL text into numbered lines, the one line splitter of graft's JSONL
// readers.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace graft {

// One line of a JSONL text.
struct JsonlLine {
  size_t number = 0;      // 1-based
  std::string_view text;  // without its "\n" or "\r\n"

  // Empty or only spaces and tabs: readers skip or refuse such lines, each as it documents.
  bool blank() const;
};

// Lines end at "\n"; one "\r" before it (or at the end of the text) is dropped, so CRLF files read
// like LF files. A last line without "\n" is a line; a text that ends with "\n" has no empty line
// after it. Bytes are passed through as they are (invalid UTF-8 and NULs included: the JSON parser
// judges them) and lines have no length limit beyond the caller's limit on the file.
class JsonlLines {
 public:
  // `source` names the text in Where(). `text` must outlive this object.
  JsonlLines(std::string_view text, std::string_view source);

  // The next line, or nothing after the last one.
  std::optional<JsonlLine> Next();

  // "source:number", how errors name a line.
  std::string Where(const JsonlLine& line) const;

 private:
  std::string_view text_;
  std::string source_;
  size_t position_ = 0;
  size_t number_ = 0;
};

}  // namespace graft

// A pre-tokenizer pattern compiled with PCRE2 (UTF-8, Unicode properties, JIT), with limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace graft::tokenizer {

// Patterns come from untrusted tokenizer.json files, so compiling is bounded (pattern length)
// and so is matching (match and depth limits, a JIT stack of at most kJitStackBytes), and a
// pattern that backtracks catastrophically on a run of one character is refused at compile time.
// The compiled pattern is immutable and shared by copies; matching is thread-safe.
class SplitRegex {
 public:
  static constexpr size_t kMaxPatternBytes = 64 * 1024;
  static constexpr uint32_t kMatchLimit = 10'000'000;
  static constexpr uint32_t kDepthLimit = 100'000;
  static constexpr size_t kJitStackBytes = 8 << 20;

  // Compiles `pattern`: a regex in the syntax Hugging Face's tokenizers read (Oniguruma's, which
  // PCRE2 shares for the constructs tokenizers use), or a plain string when `literal`. Errors say
  // where and why the pattern is refused.
  static Result<SplitRegex> Compile(std::string_view pattern, bool literal);

  // Appends the [begin, end) byte ranges of the non-empty matches in `text`, left to right.
  // Bytes that are not valid UTF-8 never match. If a match attempt exceeds a limit, the ranges
  // found before it are kept and the error says which limit, at which offset.
  Status FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& ranges) const;

 private:
  struct Compiled;
  explicit SplitRegex(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}

  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace graft::tokenizer

#include "models/tokenizer/split_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string>

#include "models/tokenizer/utf8.h"

namespace graft::tokenizer {
namespace {

struct CodeDeleter {
  void operator()(pcre2_code* p) const { pcre2_code_free(p); }
};
struct CompileContextDeleter {
  void operator()(pcre2_compile_context* p) const { pcre2_compile_context_free(p); }
};
struct MatchContextDeleter {
  void operator()(pcre2_match_context* p) const { pcre2_match_context_free(p); }
};
struct MatchDataDeleter {
  void operator()(pcre2_match_data* p) const { pcre2_match_data_free(p); }
};
struct JitStackDeleter {
  void operator()(pcre2_jit_stack* p) const { pcre2_jit_stack_free(p); }
};
using CodePtr = std::unique_ptr<pcre2_code, CodeDeleter>;
using MatchContextPtr = std::unique_ptr<pcre2_match_context, MatchContextDeleter>;
using MatchDataPtr = std::unique_ptr<pcre2_match_data, MatchDataDeleter>;

std::string ErrorText(int code) {
  PCRE2_UCHAR buffer[256];
  int n = pcre2_get_error_message(code, buffer, sizeof(buffer));
  return n < 0 ? "PCRE2 error " + std::to_string(code)
               : std::string(reinterpret_cast<const char*>(buffer), static_cast<size_t>(n));
}

// A JIT stack may serve one thread at a time: each thread gets its own, made on first use.
pcre2_jit_stack* ThreadJitStack(void*) {
  thread_local std::unique_ptr<pcre2_jit_stack, JitStackDeleter> stack(
      pcre2_jit_stack_create(32 * 1024, SplitRegex::kJitStackBytes, nullptr));
  return stack.get();  // null (allocation failed) makes PCRE2 use its small default stack
}

// Runs of one character followed by one that ends most tokens: the shape on which a pattern
// with nested quantifiers backtracks exponentially. Tried once at compile time.
constexpr std::string_view kProbeCharacters[] = {
    "a", "1", " ", "\n", "'", ".", "\xc3\xa9", "\xe4\xb8\xad", "_", "\t"};
constexpr int kProbeRun = 40;

}  // namespace

struct SplitRegex::Compiled {
  CodePtr code;
  MatchContextPtr context;
};

Result<SplitRegex> SplitRegex::Compile(std::string_view pattern, bool literal) {
  if (pattern.empty()) return InvalidInput("the pattern is empty");
  if (pattern.size() > kMaxPatternBytes) {
    return InvalidInput("the pattern is longer than " + std::to_string(kMaxPatternBytes) +
                        " bytes");
  }
  std::unique_ptr<pcre2_compile_context, CompileContextDeleter> compile_context(
      pcre2_compile_context_create(nullptr));
  if (!compile_context) return InternalError("PCRE2 cannot allocate a compile context");
  pcre2_set_max_pattern_length(compile_context.get(), kMaxPatternBytes);
  // UTF-8 with Unicode properties for \s, \w, \d and [[:alpha:]]; invalid UTF-8 in the text is
  // skipped rather than an error; \C (which can split a character) is refused.
  uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
  options |= literal ? PCRE2_LITERAL : PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C;
  int error = 0;
  PCRE2_SIZE offset = 0;
  CodePtr code(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), options,
                             &error, &offset, compile_context.get()));
  if (!code) {
    return InvalidInput("does not compile at byte " + std::to_string(offset) + ": " +
                        ErrorText(error));
  }
  // Without JIT support (some architectures) PCRE2 interprets the pattern, under the same limits.
  pcre2_jit_compile(code.get(), PCRE2_JIT_COMPLETE);

  MatchContextPtr context(pcre2_match_context_create(nullptr));
  if (!context) return InternalError("PCRE2 cannot allocate a match context");
  pcre2_set_match_limit(context.get(), kMatchLimit);
  pcre2_set_depth_limit(context.get(), kDepthLimit);
  pcre2_jit_stack_assign(context.get(), ThreadJitStack, nullptr);

  SplitRegex regex(std::make_shared<const Compiled>(Compiled{std::move(code), std::move(context)}));
  std::vector<std::pair<size_t, size_t>> ranges;
  for (std::string_view c : kProbeCharacters) {
    std::string probe;
    for (int i = 0; i < kProbeRun; ++i) probe += c;
    probe += '\x01';
    ranges.clear();
    if (Status status = regex.FindAll(probe, ranges); !status.ok()) {
      return InvalidInput("backtracks catastrophically (on " + std::to_string(kProbeRun) +
                          " repeats of \"" + std::string(c) + "\" it " + status.message() + ")");
    }
  }
  return regex;
}

Status SplitRegex::FindAll(std::string_view text,
                           std::vector<std::pair<size_t, size_t>>& ranges) const {
  MatchDataPtr data(pcre2_match_data_create_from_pattern(compiled_->code.get(), nullptr));
  if (!data) return InternalError("PCRE2 cannot allocate match data");
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start < text.size()) {
    int rc = pcre2_match(compiled_->code.get(), subject, text.size(), start, 0, data.get(),
                         compiled_->context.get());
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      return InvalidInput("stops matching at byte " + std::to_string(start) + ": " + ErrorText(rc));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data.get());
    size_t begin = ovector[0], end = ovector[1];
    if (end > begin) {
      ranges.emplace_back(begin, end);
      start = end;
    } else {  // an empty match: try again one character further on
      char32_t cp;
      start = begin + (begin < text.size() ? DecodeUtf8(text, begin, cp) : 1);
    }
  }
  return Status::Ok();
}

}  // namespace graft::tokenizer

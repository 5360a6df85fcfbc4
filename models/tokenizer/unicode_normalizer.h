// Unicode normalisation (NFC, NFD, NFKC, NFKD) of UTF-8 text through ICU.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace graft::tokenizer {

// One of ICU's four standard normalizers. ICU owns the normalizer instances (process-wide
// singletons that are never freed), so this holds only a pointer to one and copies freely.
class UnicodeNormalizer {
 public:
  enum class Form { kNfc, kNfd, kNfkc, kNfkd };

  // The form for a tokenizer.json normalizer type ("NFC", "NFD", "NFKC", "NFKD"), if it is one.
  static std::optional<Form> FormOf(std::string_view type);
  // Fails only if ICU cannot load its data (a broken installation); the message says so.
  static Result<UnicodeNormalizer> Create(Form form);

  // `text` in this form. Valid UTF-8 runs are normalised; bytes that are not valid UTF-8 are
  // kept as they are (so arbitrary bytes survive), and they separate the runs around them.
  std::string Apply(std::string_view text) const;

 private:
  explicit UnicodeNormalizer(const void* normalizer) : normalizer_(normalizer) {}
  void AppendValid(std::string_view run, std::string& out) const;

  const void* normalizer_;  // const icu::Normalizer2*, kept opaque so ICU stays out of headers
};

}  // namespace graft::tokenizer

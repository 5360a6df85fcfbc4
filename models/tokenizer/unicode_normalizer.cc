#include "models/tokenizer/unicode_normalizer.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>

#include "models/tokenizer/utf8.h"

namespace graft::tokenizer {
namespace {

const icu::Normalizer2* Icu(const void* normalizer) {
  return static_cast<const icu::Normalizer2*>(normalizer);
}

}  // namespace

std::optional<UnicodeNormalizer::Form> UnicodeNormalizer::FormOf(std::string_view type) {
  if (type == "NFC") return Form::kNfc;
  if (type == "NFD") return Form::kNfd;
  if (type == "NFKC") return Form::kNfkc;
  if (type == "NFKD") return Form::kNfkd;
  return std::nullopt;
}

Result<UnicodeNormalizer> UnicodeNormalizer::Create(Form form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = nullptr;
  switch (form) {
    case Form::kNfc:
      normalizer = icu::Normalizer2::getNFCInstance(status);
      break;
    case Form::kNfd:
      normalizer = icu::Normalizer2::getNFDInstance(status);
      break;
    case Form::kNfkc:
      normalizer = icu::Normalizer2::getNFKCInstance(status);
      break;
    case Form::kNfkd:
      normalizer = icu::Normalizer2::getNFKDInstance(status);
      break;
  }
  if (U_FAILURE(status) || normalizer == nullptr) {
    return InternalError(std::string("ICU cannot load its normalization data: ") +
                         u_errorName(status));
  }
  return UnicodeNormalizer(normalizer);
}

void UnicodeNormalizer::AppendValid(std::string_view run, std::string& out) const {
  UErrorCode status = U_ZERO_ERROR;
  const icu::StringPiece piece(run.data(), static_cast<int32_t>(run.size()));
  if (Icu(normalizer_)->isNormalizedUTF8(piece, status) && U_SUCCESS(status)) {
    out.append(run);  // the common case: already in this form
    return;
  }
  status = U_ZERO_ERROR;
  const size_t before = out.size();
  icu::StringByteSink<std::string> sink(&out);
  Icu(normalizer_)->normalizeUTF8(0, piece, sink, nullptr, status);
  if (U_FAILURE(status)) {  // only on memory exhaustion: keep the text as it was
    out.resize(before);
    out.append(run);
  }
}

std::string UnicodeNormalizer::Apply(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    size_t valid = ValidUtf8Prefix(text);
    if (valid > 0) AppendValid(text.substr(0, valid), out);
    if (valid == text.size()) break;
    out.push_back(text[valid]);  // an invalid byte, kept as it is
    text.remove_prefix(valid + 1);
  }
  return out;
}

}  // namespace graft::tokenizer

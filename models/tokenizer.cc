#include "models/tokenizer.h"

#include <algorithm>
#include <array>
#include <functional>
#include <queue>
#include <tuple>

#include "core/file_util.h"

namespace graft {
namespace {

// Ids index a table, so a hostile file must not claim huge ones; real vocabularies stay below 300k.
constexpr int32_t kMaxTokenId = 1 << 21;
constexpr uint64_t kMaxTokenizerJsonBytes = 1ull << 30;
constexpr std::string_view kMetaspace = "\xe2\x96\x81";  // ▁ U+2581
constexpr char32_t kInvalidCodePoint = 0xFFFFFFFF;

constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// ---- UTF-8 and character classes ----

std::string Utf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}

// Decodes the code point at s[i]; returns its length in bytes. An invalid, overlong, surrogate or
// truncated sequence is one byte long with kInvalidCodePoint.
size_t DecodeUtf8(std::string_view s, size_t i, char32_t& cp) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b = byte(i);
  cp = kInvalidCodePoint;
  if (b < 0x80) {
    cp = b;
    return 1;
  }
  size_t len = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 0;
  if (len == 0 || b > 0xF4 || i + len > s.size()) return 1;
  char32_t value = b & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 1;
    value = (value << 6) | (byte(i + k) & 0x3F);
  }
  constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kMin[len] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 1;
  cp = value;
  return len;
}

enum class CharClass { kLetter, kNumber, kSpace, kOther };

struct Range {
  char32_t first;
  char32_t last;
};

// Approximations of \p{L} and \p{N}: exact for ASCII and Latin-1, the common blocks beyond.
constexpr Range kLetters[] = {
    {0x41, 0x5A},     {0x61, 0x7A},       {0xAA, 0xAA},     {0xB5, 0xB5},     {0xBA, 0xBA},
    {0xC0, 0xD6},     {0xD8, 0xF6},       {0xF8, 0x2C1},    {0x2C6, 0x2D1},   {0x2E0, 0x2E4},
    {0x370, 0x374},   {0x376, 0x377},     {0x37A, 0x37D},   {0x37F, 0x37F},   {0x386, 0x386},
    {0x388, 0x3F5},   {0x3F7, 0x481},     {0x48A, 0x52F},   {0x531, 0x556},   {0x560, 0x588},
    {0x5D0, 0x5EA},   {0x620, 0x64A},     {0x671, 0x6D3},   {0x904, 0x939},   {0x958, 0x961},
    {0x985, 0x9B9},   {0xE01, 0xE30},     {0xE40, 0xE46},   {0x10A0, 0x10FF}, {0x1100, 0x11FF},
    {0x1E00, 0x1FBC}, {0x3041, 0x3096},   {0x30A1, 0x30FA}, {0x30FC, 0x30FF}, {0x3400, 0x4DBF},
    {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3},   {0xF900, 0xFAFF}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A},
    {0xFF66, 0xFFBE}, {0x20000, 0x2FA1F},
};
constexpr Range kNumbers[] = {
    {0x30, 0x39},     {0xB2, 0xB3},     {0xB9, 0xB9},     {0xBC, 0xBE},     {0x660, 0x669},
    {0x6F0, 0x6F9},   {0x966, 0x96F},   {0x9E6, 0x9EF},   {0xE50, 0xE59},   {0x2070, 0x2070},
    {0x2074, 0x2079}, {0x2080, 0x2089}, {0x2150, 0x2182}, {0x2460, 0x249B}, {0x3007, 0x3007},
    {0x3021, 0x3029}, {0xFF10, 0xFF19},
};
constexpr Range kSpaces[] = {{0x09, 0x0D},     {0x20, 0x20},     {0x85, 0x85},     {0xA0, 0xA0},
                             {0x1680, 0x1680}, {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F},
                             {0x205F, 0x205F}, {0x3000, 0x3000}};

bool InRanges(std::span<const Range> ranges, char32_t cp) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), cp,
                             [](char32_t c, const Range& r) { return c < r.first; });
  return it != ranges.begin() && cp <= std::prev(it)->last;
}

CharClass Classify(char32_t cp) {
  if (InRanges(kLetters, cp)) return CharClass::kLetter;
  if (InRanges(kNumbers, cp)) return CharClass::kNumber;
  if (InRanges(kSpaces, cp)) return CharClass::kSpace;
  return CharClass::kOther;
}

// ---- The split regexes, by hand over code points ----

class WordSplitter {
 public:
  WordSplitter(std::string_view text, bool llama3, size_t max_digits)
      : text_(text), llama3_(llama3), max_digits_(max_digits) {
    for (size_t i = 0; i < text.size();) {
      char32_t cp;
      size_t len = DecodeUtf8(text, i, cp);
      cps_.push_back(cp);
      offsets_.push_back(i);
      i += len;
    }
    offsets_.push_back(text.size());
  }

  std::vector<std::string_view> Split() const {
    std::vector<std::string_view> words;
    for (size_t i = 0; i < cps_.size();) {
      size_t j = Match(i);
      words.push_back(text_.substr(offsets_[i], offsets_[j] - offsets_[i]));
      i = j;
    }
    return words;
  }

 private:
  size_t n() const { return cps_.size(); }
  CharClass Class(size_t k) const { return Classify(cps_[k]); }
  bool Is(size_t k, CharClass c) const { return k < n() && Class(k) == c; }
  size_t Run(size_t k, CharClass c) const {
    while (Is(k, c)) ++k;
    return k;
  }
  char32_t Lower(size_t k) const {
    char32_t c = cps_[k];
    return llama3_ && c >= 'A' && c <= 'Z' ? c + 32 : c;
  }

  // 's|'t|'re|'ve|'m|'ll|'d (case-insensitive for Llama 3); returns the end or 0.
  size_t Contraction(size_t i) const {
    if (cps_[i] != '\'' || i + 1 >= n()) return 0;
    char32_t a = Lower(i + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
    if (i + 2 >= n()) return 0;
    char32_t b = Lower(i + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
    return 0;
  }

  // \s+(?!\S)|\s+ at a whitespace character.
  size_t Whitespace(size_t i) const {
    size_t j = Run(i, CharClass::kSpace);
    if (j == n() || j - 1 == i) return j;
    return j - 1;
  }

  size_t Match(size_t i) const {
    if (size_t end = Contraction(i)) return end;
    const size_t after_space = cps_[i] == ' ' ? i + 1 : i;
    if (!llama3_) {
      // ` ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+`
      for (CharClass c : {CharClass::kLetter, CharClass::kNumber, CharClass::kOther}) {
        if (Is(after_space, c)) return Run(after_space, c);
      }
    } else {
      // [^\r\n\p{L}\p{N}]?\p{L}+
      if (Is(i, CharClass::kLetter)) return Run(i, CharClass::kLetter);
      bool prefix = cps_[i] != '\r' && cps_[i] != '\n' && !Is(i, CharClass::kNumber);
      if (prefix && Is(i + 1, CharClass::kLetter)) return Run(i + 1, CharClass::kLetter);
      // \p{N}{1,max}
      if (Is(i, CharClass::kNumber)) return std::min(Run(i, CharClass::kNumber), i + max_digits_);
      // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
      if (Is(after_space, CharClass::kOther)) {
        size_t j = Run(after_space, CharClass::kOther);
        while (j < n() && (cps_[j] == '\r' || cps_[j] == '\n')) ++j;
        return j;
      }
      // \s*[\r\n]+: the whitespace run up to its last line break.
      if (Is(i, CharClass::kSpace)) {
        size_t j = Run(i, CharClass::kSpace);
        for (size_t k = j; k > i; --k) {
          if (cps_[k - 1] == '\r' || cps_[k - 1] == '\n') return k;
        }
      }
    }
    if (Is(i, CharClass::kSpace)) return Whitespace(i);
    return i + 1;  // unreachable: every character is a letter, number, space or other
  }

  std::string_view text_;
  bool llama3_;
  size_t max_digits_;
  std::vector<char32_t> cps_;
  std::vector<size_t> offsets_;  // byte offset of each code point, then text.size()
};

// ---- GPT-2 byte-to-unicode ----

struct ByteAlphabet {
  std::array<std::string, 256> byte_to_char;
  std::unordered_map<char32_t, uint8_t> char_to_byte;

  ByteAlphabet() {
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      char32_t cp = printable ? static_cast<char32_t>(b) : next++;
      byte_to_char[b] = Utf8(cp);
      char_to_byte[cp] = static_cast<uint8_t>(b);
    }
  }
};

const ByteAlphabet& Bytes() {
  static const ByteAlphabet alphabet;
  return alphabet;
}

std::string ByteFallbackToken(int byte) {
  constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("<0x") + kHex[byte >> 4] + kHex[byte & 15] + ">";
}

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i, from.size()) == from) {
      out += to;
      i += from.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

// ---- Field access with errors naming file and field ----

class Fields {
 public:
  explicit Fields(const std::string& source) : source_(source) {}
  Status Error(const std::string& field, const std::string& problem) const {
    return InvalidInput(source_ + ": " + field + " " + problem);
  }
  Status Unsupported(const std::string& field, const Json& value) const {
    return Error(field,
                 (value.is_string() ? "\"" + value.get<std::string>() + "\"" : value.dump()) +
                     " is not supported by graft's tokenizer");
  }
  // The "type" string of a component object.
  Result<std::string> Type(const Json& value, const std::string& field) const {
    if (!value.is_object() || !value.contains("type") || !value["type"].is_string()) {
      return Error(field, "must be an object with a string \"type\"");
    }
    return value["type"].get<std::string>();
  }
  Result<bool> Bool(const Json& object, const std::string& key, const std::string& field,
                    bool fallback) const {
    if (!object.contains(key) || object[key].is_null()) return fallback;
    if (!object[key].is_boolean()) return Error(field + "." + key, "must be true or false");
    return object[key].get<bool>();
  }
  Result<std::string> String(const Json& object, const std::string& key,
                             const std::string& field) const {
    if (!object.contains(key) || !object[key].is_string()) {
      return Error(field + "." + key, "must be a string");
    }
    return object[key].get<std::string>();
  }
  Result<int32_t> Id(const Json& value, const std::string& field) const {
    if (!value.is_number_unsigned() || value.get<uint64_t>() >= kMaxTokenId) {
      return Error(field, "must be a token id between 0 and " + std::to_string(kMaxTokenId - 1));
    }
    return static_cast<int32_t>(value.get<uint64_t>());
  }

 private:
  const std::string& source_;
};

// The components of a Sequence (or the component itself).
std::vector<std::pair<const Json*, std::string>> Flatten(const Json& value,
                                                         const std::string& field,
                                                         const char* list_key) {
  std::vector<std::pair<const Json*, std::string>> out;
  if (value.is_object() && value.value("type", "") == "Sequence" && value.contains(list_key) &&
      value[list_key].is_array()) {
    for (size_t i = 0; i < value[list_key].size(); ++i) {
      auto inner = Flatten(value[list_key][i],
                           field + "." + list_key + "[" + std::to_string(i) + "]", list_key);
      out.insert(out.end(), inner.begin(), inner.end());
    }
  } else {
    out.emplace_back(&value, field);
  }
  return out;
}

}  // namespace

Result<Tokenizer> Tokenizer::Load(const std::filesystem::path& path) {
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, kMaxTokenizerJsonBytes));
  return FromJson(text, path.string());
}

Result<Tokenizer> Tokenizer::FromJson(std::string_view text, std::string_view source_name) {
  const std::string source(source_name);
  GRAFT_ASSIGN_OR_RETURN(Json json, ParseJson(text, source));
  if (!json.is_object()) return InvalidInput(source + ": not a JSON object");
  Tokenizer tokenizer;
  try {
    GRAFT_RETURN_IF_ERROR(tokenizer.LoadModel(json, source));
    GRAFT_RETURN_IF_ERROR(tokenizer.LoadPipeline(json, source));
    GRAFT_RETURN_IF_ERROR(tokenizer.LoadSpecials(json, source));
  } catch (const Json::exception& e) {  // a field of an unexpected type read with a default
    return InvalidInput(source + ": unexpected value in a tokenizer field: " + e.what());
  }
  return tokenizer;
}

Status Tokenizer::LoadModel(const Json& json, const std::string& source) {
  Fields f(source);
  if (!json.contains("model")) return f.Error("model", "is missing");
  const Json& model = json["model"];
  GRAFT_ASSIGN_OR_RETURN(std::string type, f.Type(model, "model"));
  if (type != "BPE") {
    return f.Error("model.type", "\"" + type + "\" is unsupported (graft's tokenizer reads BPE)");
  }
  if (model.contains("dropout") && !model["dropout"].is_null() &&
      !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0)) {
    return f.Unsupported("model.dropout", model["dropout"]);
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (model.contains(key) && !model[key].is_null() && model[key] != "") {
      return f.Unsupported(std::string("model.") + key, model[key]);
    }
  }
  GRAFT_ASSIGN_OR_RETURN(byte_fallback_, f.Bool(model, "byte_fallback", "model", false));
  GRAFT_ASSIGN_OR_RETURN(ignore_merges_, f.Bool(model, "ignore_merges", "model", false));

  if (!model.contains("vocab") || !model["vocab"].is_object()) {
    return f.Error("model.vocab", "must be an object of token -> id");
  }
  for (const auto& [token, id_json] : model["vocab"].items()) {
    std::string field = "model.vocab[\"" + token + "\"]";
    if (token.empty()) return f.Error(field, "is an empty token");
    GRAFT_ASSIGN_OR_RETURN(int32_t id, f.Id(id_json, field));
    if (static_cast<size_t>(id) >= id_to_token_.size()) id_to_token_.resize(id + 1);
    if (!id_to_token_[id].empty()) {
      return f.Error(field, "reuses id " + std::to_string(id) + " of \"" + id_to_token_[id] + "\"");
    }
    id_to_token_[id] = token;
    token_to_id_.emplace(token, id);
  }

  if (model.contains("unk_token") && !model["unk_token"].is_null()) {
    GRAFT_ASSIGN_OR_RETURN(std::string unk, f.String(model, "unk_token", "model"));
    auto it = token_to_id_.find(unk);
    if (it == token_to_id_.end())
      return f.Error("model.unk_token", "\"" + unk + "\" is not in the vocab");
    unk_id_ = it->second;
  }

  if (!model.contains("merges") || !model["merges"].is_array()) {
    return f.Error("model.merges", "must be an array");
  }
  const Json& merges = model["merges"];
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    std::string field = "model.merges[" + std::to_string(rank) + "]";
    const Json& m = merges[rank];
    std::string left, right;
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        return f.Error(field, "must be two tokens separated by one space");
      }
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      return f.Error(field, "must be \"a b\" or [\"a\", \"b\"]");
    }
    auto l = token_to_id_.find(left), r = token_to_id_.find(right),
         merged = token_to_id_.find(left + right);
    if (l == token_to_id_.end() || r == token_to_id_.end() || merged == token_to_id_.end()) {
      return f.Error(field, "names a token that is not in the vocab");
    }
    uint64_t key = (static_cast<uint64_t>(l->second) << 32) | static_cast<uint32_t>(r->second);
    merges_.emplace(key, Merge{static_cast<int32_t>(rank), merged->second});
  }

  if (json.contains("added_tokens") && !json["added_tokens"].is_null()) {
    if (!json["added_tokens"].is_array()) return f.Error("added_tokens", "must be an array");
    for (size_t i = 0; i < json["added_tokens"].size(); ++i) {
      std::string field = "added_tokens[" + std::to_string(i) + "]";
      const Json& t = json["added_tokens"][i];
      if (!t.is_object() || !t.contains("id"))
        return f.Error(field, "must be an object with an id");
      GRAFT_ASSIGN_OR_RETURN(int32_t id, f.Id(t["id"], field + ".id"));
      GRAFT_ASSIGN_OR_RETURN(std::string content, f.String(t, "content", field));
      if (content.empty()) return f.Error(field + ".content", "is empty");
      GRAFT_ASSIGN_OR_RETURN(bool special, f.Bool(t, "special", field, false));
      if (static_cast<size_t>(id) >= id_to_token_.size()) id_to_token_.resize(id + 1);
      if (!id_to_token_[id].empty() && id_to_token_[id] != content) {
        return f.Error(field,
                       "reuses id " + std::to_string(id) + " of \"" + id_to_token_[id] + "\"");
      }
      auto [it, inserted] = token_to_id_.emplace(content, id);
      if (!inserted && it->second != id) {
        return f.Error(field, "\"" + content + "\" already has id " + std::to_string(it->second));
      }
      id_to_token_[id] = content;
      added_.push_back({id, content, special});
    }
  }
  std::stable_sort(added_.begin(), added_.end(), [](const AddedToken& a, const AddedToken& b) {
    return a.content.size() > b.content.size();
  });
  is_special_.assign(id_to_token_.size(), false);
  is_added_.assign(id_to_token_.size(), false);
  for (size_t k = 0; k < added_.size(); ++k) {
    const AddedToken& t = added_[k];
    added_by_first_byte_[static_cast<uint8_t>(t.content[0])].push_back(k);
    is_added_[t.id] = true;
    is_special_[t.id] = t.special;
  }
  return Status::Ok();
}

Status Tokenizer::LoadPipeline(const Json& json, const std::string& source) {
  Fields f(source);
  bool metaspace = false;
  const Json null_json;
  auto component = [&](const char* key) -> const Json& {
    return json.contains(key) ? json[key] : null_json;
  };

  for (const auto& [n, field] : Flatten(component("normalizer"), "normalizer", "normalizers")) {
    if (n->is_null()) continue;
    GRAFT_ASSIGN_OR_RETURN(std::string type, f.Type(*n, field));
    if (type == "NFC") continue;  // not applied; see the header
    if (type == "Prepend" && n->value("prepend", "") == kMetaspace) {
      metaspace = metaspace_prepend_all_ = true;
    } else if (type == "Replace" && n->contains("pattern") && (*n)["pattern"].is_object() &&
               (*n)["pattern"].value("String", "") == " " &&
               n->value("content", "") == kMetaspace) {
      metaspace = true;
    } else {
      return f.Unsupported(field, *n);
    }
  }

  for (const auto& [p, field] :
       Flatten(component("pre_tokenizer"), "pre_tokenizer", "pretokenizers")) {
    if (p->is_null()) continue;
    GRAFT_ASSIGN_OR_RETURN(std::string type, f.Type(*p, field));
    if (type == "ByteLevel") {
      byte_level_ = true;
      GRAFT_ASSIGN_OR_RETURN(byte_level_prefix_space_,
                             f.Bool(*p, "add_prefix_space", field, false));
      GRAFT_ASSIGN_OR_RETURN(bool use_regex, f.Bool(*p, "use_regex", field, true));
      if (use_regex) split_ = Split::kGpt2;
    } else if (type == "Split") {
      const Json& pattern = p->value("pattern", Json::object());
      std::string regex = pattern.is_object() ? pattern.value("Regex", "") : "";
      if (regex == kGpt2Regex) {
        split_ = Split::kGpt2;
      } else if (regex == kLlama3Regex) {
        split_ = Split::kLlama3;
      } else if (regex == kQwen2Regex) {
        split_ = Split::kQwen2;
      } else {
        return f.Error(field + ".pattern",
                       "is not a split regex graft knows (GPT-2, Llama 3, Qwen 2)");
      }
      if (p->value("behavior", "") != "Isolated" || p->value("invert", false)) {
        return f.Error(field, "must have behavior Isolated and invert false");
      }
    } else if (type == "Metaspace") {
      metaspace = true;
      metaspace_prepend_unless_present_ = true;
      if (p->value("replacement", "") != kMetaspace) {
        return f.Unsupported(field + ".replacement", p->value("replacement", Json()));
      }
      std::string scheme = p->value("prepend_scheme", "");
      if (scheme.empty()) {
        GRAFT_ASSIGN_OR_RETURN(bool add, f.Bool(*p, "add_prefix_space", field, true));
        scheme = add ? "always" : "never";
      }
      if (scheme == "always") {
        metaspace_prepend_all_ = true;
      } else if (scheme == "first") {
        metaspace_prepend_first_ = true;
      } else if (scheme != "never") {
        return f.Unsupported(field + ".prepend_scheme", scheme);
      }
      GRAFT_ASSIGN_OR_RETURN(metaspace_split_, f.Bool(*p, "split", field, true));
    } else {
      return f.Unsupported(field, *p);
    }
  }
  if (byte_level_ == metaspace) {
    return f.Error("pre_tokenizer", byte_level_ ? "mixes ByteLevel and Metaspace"
                                                : "has neither ByteLevel nor Metaspace (\"▁\"); "
                                                  "graft reads byte-level and SentencePiece BPE");
  }

  bool byte_level_decoder = false;
  for (const auto& [d, field] : Flatten(component("decoder"), "decoder", "decoders")) {
    if (d->is_null()) continue;
    GRAFT_ASSIGN_OR_RETURN(std::string type, f.Type(*d, field));
    if (type == "ByteLevel") {
      byte_level_decoder = true;
    } else if (type == "Strip") {
      decode_strip_space_ = d->value("content", "") == " " && d->value("start", 0) >= 1;
    } else if (type == "Metaspace") {
      std::string scheme = d->value("prepend_scheme", "");
      decode_strip_space_ = scheme.empty() ? d->value("add_prefix_space", true) : scheme != "never";
    } else if (type != "Replace" && type != "ByteFallback" && type != "Fuse") {
      return f.Unsupported(field, *d);
    }
  }
  if (byte_level_ != byte_level_decoder) {
    return f.Error("decoder", byte_level_ ? "must be ByteLevel for a byte-level tokenizer"
                                          : "is ByteLevel but the pre_tokenizer is not");
  }

  byte_ids_.resize(256);
  for (int b = 0; b < 256; ++b) {
    if (!byte_level_ && !byte_fallback_) break;
    std::string token = byte_level_ ? Bytes().byte_to_char[b] : ByteFallbackToken(b);
    auto it = token_to_id_.find(token);
    if (it == token_to_id_.end()) {
      return f.Error("model.vocab",
                     "lacks the token \"" + token + "\" for byte " + std::to_string(b));
    }
    byte_ids_[b] = it->second;
    if (!byte_level_) fallback_bytes_.emplace(it->second, static_cast<uint8_t>(b));
  }
  if (!byte_level_ && !byte_fallback_ && !unk_id_) {
    return f.Error("model", "needs byte_fallback or an unk_token to encode any text");
  }
  return Status::Ok();
}

Status Tokenizer::LoadSpecials(const Json& json, const std::string& source) {
  Fields f(source);
  const Json null_json;
  const Json& processor = json.contains("post_processor") ? json["post_processor"] : null_json;
  for (const auto& [p, field] : Flatten(processor, "post_processor", "processors")) {
    if (p->is_null()) continue;
    GRAFT_ASSIGN_OR_RETURN(std::string type, f.Type(*p, field));
    if (type == "ByteLevel") continue;
    if (type != "TemplateProcessing") return f.Unsupported(field, *p);
    if (!p->contains("single") || !(*p)["single"].is_array()) {
      return f.Error(field + ".single", "must be an array");
    }
    bool after = false;
    const Json& single = (*p)["single"];
    for (size_t i = 0; i < single.size(); ++i) {
      std::string item_field = field + ".single[" + std::to_string(i) + "]";
      const Json& item = single[i];
      if (item.is_object() && item.contains("Sequence")) {
        after = true;
        continue;
      }
      if (!item.is_object() || !item.contains("SpecialToken") ||
          !item["SpecialToken"].is_object()) {
        return f.Error(item_field, "must be a Sequence or a SpecialToken");
      }
      GRAFT_ASSIGN_OR_RETURN(std::string name, f.String(item["SpecialToken"], "id", item_field));
      std::vector<int32_t> ids;
      const Json specials = p->value("special_tokens", Json::object());
      if (specials.is_object() && specials.contains(name) && specials[name].is_object() &&
          specials[name].contains("ids") && specials[name]["ids"].is_array()) {
        for (const Json& id : specials[name]["ids"]) {
          GRAFT_ASSIGN_OR_RETURN(int32_t value, f.Id(id, field + ".special_tokens"));
          if (!IdToToken(value)) return f.Error(field + ".special_tokens", "names an unknown id");
          ids.push_back(value);
        }
      } else if (auto id = TokenToId(name)) {
        ids.push_back(*id);
      } else {
        return f.Error(item_field, "names \"" + name + "\", which is not a token");
      }
      (after ? suffix_ids_ : prefix_ids_)
          .insert((after ? suffix_ids_ : prefix_ids_).end(), ids.begin(), ids.end());
    }
  }

  auto find_added = [&](std::initializer_list<std::string_view> names) -> std::optional<int32_t> {
    for (std::string_view name : names) {
      for (const AddedToken& t : added_) {
        if (t.content == name) return t.id;
      }
    }
    return std::nullopt;
  };
  bos_id_ = !prefix_ids_.empty() ? std::optional(prefix_ids_.front())
                                 : find_added({"<s>", "<|begin_of_text|>"});
  eos_id_ = !suffix_ids_.empty() ? std::optional(suffix_ids_.back())
                                 : find_added({"</s>", "<|endoftext|>", "<|end_of_text|>"});
  const Json padding = json.value("padding", Json());
  if (padding.is_object() && padding.contains("pad_id")) {
    GRAFT_ASSIGN_OR_RETURN(pad_id_, f.Id(padding["pad_id"], "padding.pad_id"));
    if (!IdToToken(*pad_id_)) return f.Error("padding.pad_id", "is not a token id");
  } else {
    pad_id_ = find_added({"<pad>", "<|pad|>", "[PAD]"});
  }
  return Status::Ok();
}

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  auto it = token_to_id_.find(std::string(token));
  if (it == token_to_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Tokenizer::IdToToken(int32_t id) const {
  if (id < 0 || id >= vocab_size() || id_to_token_[id].empty()) return std::nullopt;
  return id_to_token_[id];
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, bool add_special) const {
  std::vector<int32_t> out;
  if (add_special) out = prefix_ids_;
  size_t segment_start = 0;
  for (size_t i = 0; i < text.size();) {
    const std::vector<size_t>& candidates = added_by_first_byte_[static_cast<uint8_t>(text[i])];
    auto match = std::find_if(candidates.begin(), candidates.end(), [&](size_t k) {
      return text.substr(i, added_[k].content.size()) == added_[k].content;
    });
    if (match == candidates.end()) {
      ++i;
      continue;
    }
    const AddedToken& token = added_[*match];
    if (i > segment_start) {
      EncodeSegment(text.substr(segment_start, i - segment_start), segment_start == 0, out);
    }
    out.push_back(token.id);
    i += token.content.size();
    segment_start = i;
  }
  if (segment_start < text.size()) {
    EncodeSegment(text.substr(segment_start), segment_start == 0, out);
  }
  if (add_special) out.insert(out.end(), suffix_ids_.begin(), suffix_ids_.end());
  return out;
}

void Tokenizer::EncodeSegment(std::string_view segment, bool first_segment,
                              std::vector<int32_t>& out) const {
  std::string text;
  if (byte_level_) {
    if (byte_level_prefix_space_ && segment.front() != ' ') text = " ";
    text += segment;
  } else {
    text = ReplaceAll(segment, " ", kMetaspace);
    bool prepend = metaspace_prepend_all_ || (metaspace_prepend_first_ && first_segment);
    if (prepend && !(metaspace_prepend_unless_present_ && text.starts_with(kMetaspace))) {
      text = std::string(kMetaspace) + text;
    }
  }
  std::vector<std::string_view> words;
  if (split_ != Split::kNone) {
    words = WordSplitter(text, split_ != Split::kGpt2, split_ == Split::kQwen2 ? 1 : 3).Split();
  } else if (!byte_level_ && metaspace_split_) {
    std::string_view rest = text;
    while (!rest.empty()) {
      size_t next = rest.find(kMetaspace, 1);
      words.push_back(rest.substr(0, next));
      rest = next == std::string_view::npos ? std::string_view() : rest.substr(next);
    }
  } else {
    words.push_back(text);
  }
  for (std::string_view word : words) EncodeWord(word, out);
}

void Tokenizer::EncodeWord(std::string_view word, std::vector<int32_t>& out) const {
  std::vector<int32_t> symbols;
  if (byte_level_) {
    if (ignore_merges_) {
      std::string mapped;
      for (char c : word) mapped += Bytes().byte_to_char[static_cast<uint8_t>(c)];
      if (auto id = TokenToId(mapped)) {
        out.push_back(*id);
        return;
      }
    }
    for (char c : word) symbols.push_back(byte_ids_[static_cast<uint8_t>(c)]);
  } else {
    for (size_t i = 0; i < word.size();) {
      char32_t cp;
      size_t len = DecodeUtf8(word, i, cp);
      if (auto id = cp == kInvalidCodePoint ? std::nullopt : TokenToId(word.substr(i, len))) {
        symbols.push_back(*id);
      } else if (byte_fallback_) {
        for (size_t k = i; k < i + len; ++k)
          symbols.push_back(byte_ids_[static_cast<uint8_t>(word[k])]);
      } else {
        symbols.push_back(*unk_id_);
      }
      i += len;
    }
  }

  // BPE: repeatedly merge the adjacent pair of lowest rank (leftmost first), as HF does.
  struct Symbol {
    int32_t id;
    int prev;
    int next;
  };
  std::vector<Symbol> list;
  list.reserve(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) {
    list.push_back({symbols[i], static_cast<int>(i) - 1,
                    i + 1 < symbols.size() ? static_cast<int>(i) + 1 : -1});
  }
  using Candidate = std::tuple<int32_t, int, int32_t, int32_t>;  // rank, left, left id, right id
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int left) {
    if (left < 0 || list[left].next < 0) return;
    int32_t a = list[left].id, b = list[list[left].next].id;
    auto it = merges_.find((static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b));
    if (it != merges_.end()) queue.emplace(it->second.rank, left, a, b);
  };
  for (size_t i = 0; i + 1 < list.size(); ++i) consider(static_cast<int>(i));
  std::vector<bool> dead(list.size(), false);
  while (!queue.empty()) {
    auto [rank, left, a, b] = queue.top();
    queue.pop();
    int right = list[left].next;
    if (dead[left] || right < 0 || list[left].id != a || list[right].id != b) continue;
    list[left].id = merges_.at((static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b)).result;
    dead[right] = true;
    list[left].next = list[right].next;
    if (list[left].next >= 0) list[list[left].next].prev = left;
    consider(list[left].prev);
    consider(left);
  }
  for (int i = list.empty() ? -1 : 0; i >= 0; i = list[i].next) out.push_back(list[i].id);
}

Result<std::string> Tokenizer::Decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  for (int32_t id : ids) {
    if (!IdToToken(id)) {
      return InvalidInput("cannot decode token id " + std::to_string(id) +
                          ": not in the vocabulary");
    }
    const std::string& token = id_to_token_[id];
    if (is_added_[id]) {
      if (!(skip_special && is_special_[id])) out += token;
    } else if (byte_level_) {
      for (size_t i = 0; i < token.size();) {
        char32_t cp;
        size_t len = DecodeUtf8(token, i, cp);
        auto it = Bytes().char_to_byte.find(cp);
        if (it != Bytes().char_to_byte.end()) {
          out.push_back(static_cast<char>(it->second));
        } else {
          out.append(token, i, len);
        }
        i += len;
      }
    } else if (auto byte = fallback_bytes_.find(id); byte != fallback_bytes_.end()) {
      out.push_back(static_cast<char>(byte->second));
    } else {
      out += ReplaceAll(token, kMetaspace, " ");
    }
  }
  if (decode_strip_space_ && out.starts_with(' ')) out.erase(0, 1);
  return out;
}

std::string MakeByteLevelTokenizerJson() {
  constexpr std::string_view kEndOfText = "<|endoftext|>";
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) vocab[Bytes().byte_to_char[b]] = b;
  vocab[kEndOfText] = 256;
  Json byte_level = {{"type", "ByteLevel"},
                     {"add_prefix_space", false},
                     {"trim_offsets", true},
                     {"use_regex", true}};
  Json json = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens",
       {{{"id", 256},
         {"content", kEndOfText},
         {"single_word", false},
         {"lstrip", false},
         {"rstrip", false},
         {"normalized", false},
         {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer", byte_level},
      {"post_processor", byte_level},
      {"decoder", byte_level},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"ignore_merges", false},
        {"vocab", std::move(vocab)},
        {"merges", Json::array()}}},
  };
  return json.dump(2) + "\n";
}

}  // namespace graft

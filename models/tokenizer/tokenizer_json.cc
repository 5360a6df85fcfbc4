// tokenizer.json loading: the model (vocab, merges, added tokens), the pipeline (normalizer,
// pre_tokenizer, decoder) and the post_processor's special tokens.
#include "models/tokenizer/tokenizer.h"

#include <algorithm>

#include "core/file_util.h"
#include "models/tokenizer/byte_alphabet.h"

namespace graft::tokenizer {
namespace {

// Ids index a table, so a hostile file must not claim huge ones; real vocabularies stay below 300k.
constexpr int32_t kMaxTokenId = 1 << 21;
constexpr uint64_t kMaxTokenizerJsonBytes = 1ull << 30;

// GPT-2's split regex, which the ByteLevel pre-tokenizer applies when use_regex is true.
constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

std::string ByteFallbackToken(int byte) {
  constexpr char kHex[] = "0123456789ABCDEF";
  return std::string("<0x") + kHex[byte >> 4] + kHex[byte & 15] + ">";
}

// Field access with errors naming file and field.
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

// A Split pre-tokenizer's behavior.
std::optional<PreTokenizer::Behavior> BehaviorOf(std::string_view name) {
  using Behavior = PreTokenizer::Behavior;
  if (name == "Removed") return Behavior::kRemoved;
  if (name == "Isolated") return Behavior::kIsolated;
  if (name == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::kMergedWithNext;
  if (name == "Contiguous") return Behavior::kContiguous;
  return std::nullopt;
}

// The normalizer's steps; `metaspace` is set when they are SentencePiece's.
Status ReadNormalizer(const Json& value, const Fields& f, Normalizer& normalizer, bool& metaspace) {
  for (const auto& [n, field] : Flatten(value, "normalizer", "normalizers")) {
    if (n->is_null()) continue;
    GRAFT_ASSIGN_OR_RETURN(std::string type, f.Type(*n, field));
    if (auto form = UnicodeNormalizer::FormOf(type)) {
      GRAFT_ASSIGN_OR_RETURN(UnicodeNormalizer unicode, UnicodeNormalizer::Create(*form));
      normalizer.steps.emplace_back(unicode);
    } else if (type == "Prepend" && n->value("prepend", "") == kMetaspace) {
      metaspace = true;
      normalizer.steps.emplace_back(Normalizer::Prepend{std::string(kMetaspace)});
    } else if (type == "Replace" && n->contains("pattern") && (*n)["pattern"].is_object() &&
               (*n)["pattern"].value("String", "") == " " &&
               n->value("content", "") == kMetaspace) {
      metaspace = true;
      normalizer.steps.emplace_back(Normalizer::Replace{" ", std::string(kMetaspace)});
    } else {
      return f.Unsupported(field, *n);
    }
  }

  return Status::Ok();
}

// The pre_tokenizer's steps; `metaspace` is set by a Metaspace step.
Status ReadPreTokenizer(const Json& value, const Fields& f, PreTokenizer& pre, bool& metaspace) {
  // Adds a split by `pattern`; its errors name `field`.
  auto add_split = [&](std::string_view pattern, bool literal, PreTokenizer::Behavior behavior,
                       bool invert, const std::string& field) -> Status {
    auto regex = SplitRegex::Compile(pattern, literal);
    if (!regex.ok()) return f.Error(field, regex.status().message());
    pre.splits.push_back({*std::move(regex), behavior, invert});
    return Status::Ok();
  };
  using Behavior = PreTokenizer::Behavior;
  for (const auto& [p, field] : Flatten(value, "pre_tokenizer", "pretokenizers")) {
    if (p->is_null()) continue;
    GRAFT_ASSIGN_OR_RETURN(std::string type, f.Type(*p, field));
    if (type == "ByteLevel") {
      pre.byte_level = true;
      GRAFT_ASSIGN_OR_RETURN(pre.byte_level_prefix_space,
                             f.Bool(*p, "add_prefix_space", field, false));
      GRAFT_ASSIGN_OR_RETURN(bool use_regex, f.Bool(*p, "use_regex", field, true));
      if (use_regex) {
        GRAFT_RETURN_IF_ERROR(add_split(kGpt2Regex, false, Behavior::kIsolated, false, field));
      }
    } else if (type == "Split") {
      const Json pattern = p->value("pattern", Json());
      const bool literal = pattern.is_object() && pattern.contains("String");
      const char* key = literal ? "String" : "Regex";
      if (!pattern.is_object() || !pattern.contains(key) || !pattern[key].is_string()) {
        return f.Error(field + ".pattern", "must be {\"Regex\": ...} or {\"String\": ...}");
      }
      GRAFT_ASSIGN_OR_RETURN(std::string behavior_name, f.String(*p, "behavior", field));
      auto behavior = BehaviorOf(behavior_name);
      if (!behavior) return f.Unsupported(field + ".behavior", behavior_name);
      GRAFT_ASSIGN_OR_RETURN(bool invert, f.Bool(*p, "invert", field, false));
      GRAFT_RETURN_IF_ERROR(add_split(pattern[key].get<std::string>(), literal, *behavior, invert,
                                      field + ".pattern"));
    } else if (type == "Digits") {
      GRAFT_ASSIGN_OR_RETURN(bool individual, f.Bool(*p, "individual_digits", field, false));
      GRAFT_RETURN_IF_ERROR(add_split(R"(\p{N})", false,
                                      individual ? Behavior::kIsolated : Behavior::kContiguous,
                                      false, field));
    } else if (type == "Punctuation") {
      std::string name = p->value("behavior", "Isolated");
      auto behavior = BehaviorOf(name);
      if (!behavior) return f.Unsupported(field + ".behavior", name);
      // Hugging Face's test: ASCII punctuation (which includes symbols such as $ + < = > ^ ` | ~)
      // or a character of a Unicode punctuation category.
      GRAFT_RETURN_IF_ERROR(add_split(R"([\p{P}\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E])", false,
                                      *behavior, false, field));
    } else if (type == "Whitespace") {
      // Hugging Face's \w+|[^\w\s]+ with Oniguruma's \w (letters, marks, decimal digits,
      // connector punctuation), spelled out because PCRE2's \w has no marks.
      GRAFT_RETURN_IF_ERROR(add_split(R"([\p{L}\p{M}\p{Nd}\p{Pc}]+|[^\p{L}\p{M}\p{Nd}\p{Pc}\s]+)",
                                      false, Behavior::kRemoved, true, field));
    } else if (type == "WhitespaceSplit") {
      GRAFT_RETURN_IF_ERROR(add_split(R"(\s+)", false, Behavior::kRemoved, false, field));
    } else if (type == "Metaspace") {
      metaspace = pre.metaspace = true;
      if (p->value("replacement", "") != kMetaspace) {
        return f.Unsupported(field + ".replacement", p->value("replacement", Json()));
      }
      std::string scheme = p->value("prepend_scheme", "");
      if (scheme.empty()) {
        GRAFT_ASSIGN_OR_RETURN(bool add, f.Bool(*p, "add_prefix_space", field, true));
        scheme = add ? "always" : "never";
      }
      if (scheme == "always") {
        pre.metaspace_prepend = PreTokenizer::Prepend::kAlways;
      } else if (scheme == "first") {
        pre.metaspace_prepend = PreTokenizer::Prepend::kFirst;
      } else if (scheme != "never") {
        return f.Unsupported(field + ".prepend_scheme", scheme);
      }
      GRAFT_ASSIGN_OR_RETURN(bool split, f.Bool(*p, "split", field, true));
      if (split) {  // each word starts at a "▁"
        GRAFT_RETURN_IF_ERROR(add_split(kMetaspace, true, Behavior::kMergedWithNext, false, field));
      }
    } else {
      return f.Unsupported(field, *p);
    }
  }
  return Status::Ok();
}

// The decoder: whether it is byte-level, and whether it drops a leading space.
Status ReadDecoder(const Json& value, const Fields& f, bool& byte_level, bool& strip_space) {
  for (const auto& [d, field] : Flatten(value, "decoder", "decoders")) {
    if (d->is_null()) continue;
    GRAFT_ASSIGN_OR_RETURN(std::string type, f.Type(*d, field));
    if (type == "ByteLevel") {
      byte_level = true;
    } else if (type == "Strip") {
      strip_space = d->value("content", "") == " " && d->value("start", 0) >= 1;
    } else if (type == "Metaspace") {
      std::string scheme = d->value("prepend_scheme", "");
      strip_space = scheme.empty() ? d->value("add_prefix_space", true) : scheme != "never";
    } else if (type != "Replace" && type != "ByteFallback" && type != "Fuse") {
      return f.Unsupported(field, *d);
    }
  }
  return Status::Ok();
}

}  // namespace

Status Tokenizer::LoadPipeline(const Json& json, const std::string& source) {
  Fields f(source);
  const Json null_json;
  auto component = [&](const char* key) -> const Json& {
    return json.contains(key) ? json[key] : null_json;
  };
  bool metaspace = false;
  GRAFT_RETURN_IF_ERROR(ReadNormalizer(component("normalizer"), f, normalizer_, metaspace));
  GRAFT_RETURN_IF_ERROR(ReadPreTokenizer(component("pre_tokenizer"), f, pre_tokenizer_, metaspace));
  const PreTokenizer& pre = pre_tokenizer_;
  if (pre.byte_level == metaspace) {
    return f.Error("pre_tokenizer", pre.byte_level
                                        ? "mixes ByteLevel and Metaspace"
                                        : "has neither ByteLevel nor Metaspace (\"▁\"); "
                                          "graft reads byte-level and SentencePiece BPE");
  }

  GRAFT_RETURN_IF_ERROR(
      ReadDecoder(component("decoder"), f, decoder_.byte_level, decoder_.strip_space));
  if (pre.byte_level != decoder_.byte_level) {
    return f.Error("decoder", pre.byte_level ? "must be ByteLevel for a byte-level tokenizer"
                                             : "is ByteLevel but the pre_tokenizer is not");
  }

  byte_ids_.resize(256);
  for (int b = 0; b < 256; ++b) {
    if (!pre.byte_level && !model_.byte_fallback) break;
    std::string token = pre.byte_level ? ByteAlphabet::Get().byte_to_char[b] : ByteFallbackToken(b);
    auto it = token_to_id_.find(token);
    if (it == token_to_id_.end()) {
      return f.Error("model.vocab",
                     "lacks the token \"" + token + "\" for byte " + std::to_string(b));
    }
    byte_ids_[b] = it->second;
    if (!pre.byte_level) fallback_bytes_.emplace(it->second, static_cast<uint8_t>(b));
  }
  if (!pre.byte_level && !model_.byte_fallback && !model_.unk_id) {
    return f.Error("model", "needs byte_fallback or an unk_token to encode any text");
  }
  return Status::Ok();
}

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
    GRAFT_RETURN_IF_ERROR(tokenizer.LoadAddedTokens(json, source));
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
  GRAFT_ASSIGN_OR_RETURN(model_.byte_fallback, f.Bool(model, "byte_fallback", "model", false));
  GRAFT_ASSIGN_OR_RETURN(model_.ignore_merges, f.Bool(model, "ignore_merges", "model", false));

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
    model_.unk_id = it->second;
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
    merges_.Add(l->second, r->second, merged->second, static_cast<int32_t>(rank));
  }

  return Status::Ok();
}

Status Tokenizer::LoadAddedTokens(const Json& json, const std::string& source) {
  Fields f(source);
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

std::string MakeByteLevelTokenizerJson() {
  constexpr std::string_view kEndOfText = "<|endoftext|>";
  Json vocab = Json::object();
  for (int b = 0; b < 256; ++b) vocab[ByteAlphabet::Get().byte_to_char[b]] = b;
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

}  // namespace graft::tokenizer

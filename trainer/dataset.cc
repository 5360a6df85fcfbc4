#include "trainer/dataset.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include "core/file_util.h"
#include "core/json.h"
#include "core/jsonl_lines.h"
#include "core/xoshiro.h"
#include "models/tokenizer/tokenizer.h"

namespace graft::trainer {
namespace {

constexpr size_t kMaxReportedProblems = 20;

// A string field that must be present; `allow_empty` for prompts.
Result<std::string> TextField(const Json& record, std::string_view field, bool allow_empty) {
  auto it = record.find(field);
  if (it == record.end()) return InvalidInput("missing \"" + std::string(field) + "\"");
  if (!it->is_string()) return InvalidInput("\"" + std::string(field) + "\" must be a string");
  std::string value = it->get<std::string>();
  if (value.empty() && !allow_empty) {
    return InvalidInput("\"" + std::string(field) + "\" is empty");
  }
  return value;
}

Status Append(Document& doc, const TextEncoder& encoder, std::string_view text, bool trained) {
  if (text.empty()) return Status::Ok();
  GRAFT_ASSIGN_OR_RETURN(std::vector<int64_t> ids, encoder.encode(text));
  doc.tokens.insert(doc.tokens.end(), ids.begin(), ids.end());
  doc.trained.insert(doc.trained.end(), ids.size(), trained ? 1 : 0);
  if (trained) doc.trained_bytes += static_cast<int64_t>(text.size());
  return Status::Ok();
}

Result<Document> ParseRecord(std::string_view line, const TextEncoder& encoder) {
  GRAFT_ASSIGN_OR_RETURN(Json record, ParseJson(line, "line"));
  if (!record.is_object()) return InvalidInput("expected a JSON object");
  const bool has_text = record.contains("text");
  const bool has_prompt = record.contains("prompt") || record.contains("completion");
  if (has_text == has_prompt) {
    return InvalidInput(
        "expected {\"text\": ...} or {\"prompt\": ..., \"completion\": ...}, not both or neither");
  }
  Document doc;
  if (has_text) {
    GRAFT_ASSIGN_OR_RETURN(std::string text, TextField(record, "text", false));
    GRAFT_RETURN_IF_ERROR(Append(doc, encoder, text, true));
  } else {
    GRAFT_ASSIGN_OR_RETURN(std::string prompt, TextField(record, "prompt", true));
    GRAFT_ASSIGN_OR_RETURN(std::string completion, TextField(record, "completion", false));
    GRAFT_RETURN_IF_ERROR(Append(doc, encoder, prompt, false));
    GRAFT_RETURN_IF_ERROR(Append(doc, encoder, completion, true));
  }
  doc.tokens.push_back(encoder.eos_id);
  doc.trained.push_back(1);
  return doc;
}

struct Row {
  std::vector<int64_t> tokens;
  std::vector<int64_t> labels;
};

// Appends the windows of `tokens` (first token: context only) to `rows`.
void AppendWindows(const std::vector<int64_t>& tokens, const std::vector<uint8_t>& trained,
                   int64_t max_len, std::vector<Row>& rows) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  for (int64_t start = 0;; start += max_len - 1) {
    const int64_t end = std::min(start + max_len, n);
    Row row;
    row.tokens.assign(tokens.begin() + start, tokens.begin() + end);
    row.labels.resize(row.tokens.size(), kIgnoreLabel);
    for (int64_t i = start + 1; i < end; ++i) {
      if (trained[i]) row.labels[i - start] = tokens[i];
    }
    rows.push_back(std::move(row));
    if (end == n) break;
  }
}

Batch MakeBatch(std::vector<Row>::const_iterator begin, std::vector<Row>::const_iterator end,
                int64_t pad_id) {
  Batch batch;
  batch.rows = end - begin;
  for (auto it = begin; it != end; ++it) {
    batch.cols = std::max(batch.cols, static_cast<int64_t>(it->tokens.size()));
  }
  const size_t size = static_cast<size_t>(batch.rows * batch.cols);
  batch.input_ids.assign(size, pad_id);
  batch.labels.assign(size, kIgnoreLabel);
  batch.attention_mask.assign(size, 0);
  int64_t r = 0;
  for (auto it = begin; it != end; ++it, ++r) {
    const int64_t offset = r * batch.cols;
    std::copy(it->tokens.begin(), it->tokens.end(), batch.input_ids.begin() + offset);
    std::copy(it->labels.begin(), it->labels.end(), batch.labels.begin() + offset);
    std::fill_n(batch.attention_mask.begin() + offset, it->tokens.size(), 1);
    batch.tokens += static_cast<int64_t>(it->tokens.size());
    batch.targets += std::count_if(it->labels.begin(), it->labels.end(),
                                   [](int64_t label) { return label != kIgnoreLabel; });
  }
  return batch;
}

}  // namespace

Result<TextEncoder> TextEncoder::For(const tokenizer::Tokenizer& tokenizer, int64_t fallback_eos) {
  std::optional<int64_t> eos = tokenizer.eos_id();
  if (!eos && fallback_eos >= 0) eos = fallback_eos;
  if (!eos) return InvalidInput("the tokenizer has no EOS token and config.json no eos_token_id");
  TextEncoder encoder;
  encoder.eos_id = *eos;
  encoder.start_id = tokenizer.bos_id() ? *tokenizer.bos_id() : *eos;
  encoder.encode = [&tokenizer](std::string_view text) -> Result<std::vector<int64_t>> {
    std::vector<int32_t> ids = tokenizer.Encode(text, /*add_special=*/false);
    return std::vector<int64_t>(ids.begin(), ids.end());
  };
  return encoder;
}

Result<Dataset> Dataset::Parse(std::string_view text, std::string_view source,
                               const TextEncoder& encoder) {
  Dataset dataset;
  dataset.eos_id_ = encoder.eos_id;
  dataset.start_id_ = encoder.start_id;
  std::vector<std::string> problems;
  size_t bad_lines = 0;
  JsonlLines lines(text, source);
  while (std::optional<JsonlLine> line = lines.Next()) {
    Result<Document> doc = line->blank() ? Result<Document>(InvalidInput("empty line"))
                                         : ParseRecord(line->text, encoder);
    if (doc.ok()) {
      dataset.documents_.push_back(std::move(doc).value());
      continue;
    }
    if (++bad_lines <= kMaxReportedProblems) {
      problems.push_back(lines.Where(*line) + ": " + doc.status().message());
    }
  }
  if (bad_lines > 0) {
    std::string message = std::to_string(bad_lines) + " bad line" + (bad_lines > 1 ? "s" : "") +
                          " in " + std::string(source) + ":";
    for (const auto& p : problems) message += "\n  " + p;
    if (bad_lines > problems.size()) {
      message += "\n  ... and " + std::to_string(bad_lines - problems.size()) + " more";
    }
    return InvalidInput(message);
  }
  if (dataset.documents_.empty()) return InvalidInput(std::string(source) + ": no records");
  return dataset;
}

Result<Dataset> Dataset::Load(const std::filesystem::path& path, const TextEncoder& encoder) {
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return Parse(text, path.string(), encoder);
}

int64_t Dataset::trained_bytes() const {
  return std::accumulate(documents_.begin(), documents_.end(), int64_t{0},
                         [](int64_t sum, const Document& d) { return sum + d.trained_bytes; });
}

std::vector<Batch> Dataset::Batches(const BatchOptions& options, bool shuffle, uint64_t seed,
                                    uint64_t epoch) const {
  std::vector<size_t> order(documents_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (shuffle) Xoshiro256StarStar::ForStream(seed, epoch).Shuffle(order);

  std::vector<Row> rows;
  std::vector<int64_t> tokens{start_id_};
  std::vector<uint8_t> trained{0};
  for (size_t index : order) {
    const Document& doc = documents_[index];
    tokens.insert(tokens.end(), doc.tokens.begin(), doc.tokens.end());
    trained.insert(trained.end(), doc.trained.begin(), doc.trained.end());
    if (!options.packing) {
      AppendWindows(tokens, trained, options.max_seq_len, rows);
      tokens.resize(1);
      trained.resize(1);
    }
  }
  if (options.packing) AppendWindows(tokens, trained, options.max_seq_len, rows);

  std::vector<Batch> batches;
  for (size_t i = 0; i < rows.size(); i += static_cast<size_t>(options.batch_size)) {
    const size_t end = std::min(rows.size(), i + static_cast<size_t>(options.batch_size));
    batches.push_back(MakeBatch(rows.begin() + i, rows.begin() + end, eos_id_));
  }
  return batches;
}

}  // namespace graft::trainer

// libFuzzer target: core/jsonl_lines, and suite task data (evaluator/suite ParseTaskItems) read
// through it, from hostile bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "core/jsonl_lines.h"
#include "evaluator/suite/suite.h"

namespace {

// The lines, with their terminators put back, must be exactly the text.
void CheckLines(std::string_view text) {
  graft::JsonlLines lines(text, "fuzz.jsonl");
  size_t position = 0;
  size_t number = 0;
  while (std::optional<graft::JsonlLine> line = lines.Next()) {
    if (line->number != ++number) std::abort();
    if (line->text.data() != text.data() + position) std::abort();
    if (line->text.find('\n') != std::string_view::npos) std::abort();
    if (lines.Where(*line) != "fuzz.jsonl:" + std::to_string(number)) std::abort();
    position += line->text.size();
    if (position < text.size() && text[position] == '\r') ++position;
    if (position < text.size()) {
      if (text[position] != '\n') std::abort();
      ++position;
    }
  }
  if (position != text.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckLines(text);
  for (graft::suite::TaskType type :
       {graft::suite::TaskType::kLoglikelihoodRolling, graft::suite::TaskType::kMultipleChoice,
        graft::suite::TaskType::kGenerateUntil}) {
    graft::suite::SuiteTask task;
    task.name = "t";
    task.type = type;
    auto items = graft::suite::ParseTaskItems(task, text, "fuzz.jsonl");
    if (!items.ok()) continue;
    for (const graft::suite::SuiteItem& item : *items) {
      if (item.id.empty()) std::abort();
      if (type == graft::suite::TaskType::kMultipleChoice &&
          (item.label < 0 || static_cast<size_t>(item.label) >= item.choices.size())) {
        std::abort();
      }
    }
  }
  return 0;
}

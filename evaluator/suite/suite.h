// Evaluation suites: a YAML list of tasks over JSONL data files pinned by SHA-256 (torch-free).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace graft::suite {

enum class TaskType { kLoglikelihoodRolling, kMultipleChoice, kGenerateUntil };

std::string_view TaskTypeName(TaskType type);

// One evaluation item. Which fields are set depends on the task type:
// loglikelihood_rolling: text; multiple_choice: context, choices, label;
// generate_until: prompt, target.
struct SuiteItem {
  std::string id{};     // from the data's "id", else "<task>:<line>"
  std::string slice{};  // from the data's "slice", else empty
  std::string text{};
  std::string context{};
  std::vector<std::string> choices{};
  int label = -1;
  std::string prompt{};
  std::string target{};
};

struct SuiteTask {
  std::string name;
  TaskType type = TaskType::kLoglikelihoodRolling;
  std::string data_path;    // as written in the suite, relative to the suite file
  std::string data_sha256;  // lowercase hex, pinned in the suite
  std::vector<std::string> metrics;
  // loglikelihood_rolling: window length in tokens (0: the model's context) and stride
  // (0: the window length, i.e. disjoint windows).
  int max_length = 0;
  int stride = 0;
  // generate_until: stop strings and a token budget.
  std::vector<std::string> until;
  int max_new_tokens = 64;

  std::vector<SuiteItem> items;  // filled by LoadSuite / LoadTaskItems
};

struct Suite {
  std::string name;
  std::string digest;  // SHA-256 of the suite file's bytes
  std::vector<SuiteTask> tasks;
};

// Whether `metric` is produced by tasks of `type`.
bool MetricAppliesTo(TaskType type, std::string_view metric);

// Parses and validates a suite definition (no data loaded). `source` names it in errors.
Result<Suite> ParseSuite(std::string_view yaml_text, std::string_view source);

// Parses one task's JSONL data; errors name `source`, the line and the field.
Result<std::vector<SuiteItem>> ParseTaskItems(const SuiteTask& task, std::string_view jsonl,
                                              std::string_view source);

// Reads the suite file, then each task's data file relative to it; a data file whose SHA-256
// differs from the pinned one is refused.
Result<Suite> LoadSuite(const std::filesystem::path& suite_file);

}  // namespace graft::suite

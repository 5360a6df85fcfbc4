#include "evaluator/suite.h"

#include <yaml-cpp/yaml.h>

#include <optional>
#include <set>

#include "core/file_util.h"
#include "core/json.h"
#include "core/jsonl_lines.h"
#include "core/sha256.h"

namespace graft {
namespace {

constexpr uint64_t kMaxSuiteBytes = 1 << 20;
constexpr uint64_t kMaxDataBytes = uint64_t{2} << 30;

// Which task type produces each metric (how metrics aggregate: evaluator/stats_metric_info.h).
struct TaskMetric {
  std::string_view name;
  TaskType type;
};

constexpr TaskMetric kTaskMetrics[] = {
    {"bits_per_byte", TaskType::kLoglikelihoodRolling},
    {"perplexity", TaskType::kLoglikelihoodRolling},
    {"nll", TaskType::kLoglikelihoodRolling},
    {"acc", TaskType::kMultipleChoice},
    {"acc_norm", TaskType::kMultipleChoice},
    {"exact_match", TaskType::kGenerateUntil},
};

Result<TaskType> ParseTaskType(std::string_view name) {
  for (TaskType type :
       {TaskType::kLoglikelihoodRolling, TaskType::kMultipleChoice, TaskType::kGenerateUntil}) {
    if (TaskTypeName(type) == name) return type;
  }
  return InvalidInput("unknown task type \"" + std::string(name) +
                      "\" (expected loglikelihood_rolling, multiple_choice or generate_until)");
}

// Reads YAML nodes with errors that carry the source and key path.
class YamlReader {
 public:
  explicit YamlReader(std::string_view source) : source_(source) {}

  Status Error(const std::string& path, const std::string& problem) const {
    return InvalidInput(source_ + ": " + path + ": " + problem);
  }

  Status CheckKeys(const YAML::Node& node, const std::string& path,
                   std::initializer_list<std::string_view> allowed) const {
    if (!node.IsMap()) return Error(path, "expected a mapping");
    for (const auto& entry : node) {
      std::string key = entry.first.Scalar();
      bool known = false;
      for (auto a : allowed) known = known || key == a;
      if (!known) return Error(path, "unknown key \"" + key + "\"");
    }
    return Status::Ok();
  }

  Result<std::string> String(const YAML::Node& node, const std::string& path) const {
    if (!node || !node.IsScalar()) return Error(path, "expected a string");
    return node.Scalar();
  }

  Result<int> Int(const YAML::Node& node, const std::string& path, int min, int max) const {
    if (!node.IsScalar()) return Error(path, "expected an integer");
    int value = 0;
    if (!YAML::convert<int>::decode(node, value)) return Error(path, "expected an integer");
    if (value < min || value > max) {
      return Error(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return value;
  }

  Result<std::vector<std::string>> StringList(const YAML::Node& node,
                                              const std::string& path) const {
    if (!node.IsSequence()) return Error(path, "expected a list of strings");
    std::vector<std::string> out;
    for (size_t i = 0; i < node.size(); ++i) {
      GRAFT_ASSIGN_OR_RETURN(std::string s, String(node[i], path + "[" + std::to_string(i) + "]"));
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  std::string source_;
};

Result<SuiteTask> ParseTask(const YAML::Node& node, const std::string& path,
                            const YamlReader& yaml) {
  GRAFT_RETURN_IF_ERROR(yaml.CheckKeys(
      node, path,
      {"name", "type", "data", "metrics", "max_length", "stride", "until", "max_new_tokens"}));
  SuiteTask task;
  GRAFT_ASSIGN_OR_RETURN(task.name, yaml.String(node["name"], path + ".name"));
  GRAFT_ASSIGN_OR_RETURN(std::string type, yaml.String(node["type"], path + ".type"));
  auto parsed_type = ParseTaskType(type);
  if (!parsed_type.ok()) return yaml.Error(path + ".type", parsed_type.status().message());
  task.type = *parsed_type;

  const YAML::Node data = node["data"];
  if (!data) return yaml.Error(path, "missing \"data\"");
  GRAFT_RETURN_IF_ERROR(yaml.CheckKeys(data, path + ".data", {"path", "sha256"}));
  GRAFT_ASSIGN_OR_RETURN(task.data_path, yaml.String(data["path"], path + ".data.path"));
  if (Status s = CheckSafeRelativePath(task.data_path); !s.ok()) {
    return yaml.Error(path + ".data.path", s.message());
  }
  GRAFT_ASSIGN_OR_RETURN(std::string sha, yaml.String(data["sha256"], path + ".data.sha256"));
  auto digest = ParseDigestHex(sha);
  if (!digest.ok()) return yaml.Error(path + ".data.sha256", digest.status().message());
  task.data_sha256 = DigestHex(*digest);

  if (!node["metrics"]) return yaml.Error(path, "missing \"metrics\"");
  GRAFT_ASSIGN_OR_RETURN(task.metrics, yaml.StringList(node["metrics"], path + ".metrics"));
  if (task.metrics.empty()) return yaml.Error(path + ".metrics", "must name at least one metric");
  std::set<std::string> seen;
  for (const auto& metric : task.metrics) {
    if (!MetricAppliesTo(task.type, metric)) {
      return yaml.Error(path + ".metrics",
                        "metric \"" + metric + "\" does not apply to " + type + " tasks");
    }
    if (!seen.insert(metric).second) {
      return yaml.Error(path + ".metrics", "metric \"" + metric + "\" listed twice");
    }
  }

  bool rolling = task.type == TaskType::kLoglikelihoodRolling;
  bool generating = task.type == TaskType::kGenerateUntil;
  auto only_for = [&](const char* key, bool allowed, const char* kind) -> Status {
    if (node[key] && !allowed) return yaml.Error(path + "." + key, std::string("only for ") + kind);
    return Status::Ok();
  };
  GRAFT_RETURN_IF_ERROR(only_for("max_length", rolling, "loglikelihood_rolling tasks"));
  GRAFT_RETURN_IF_ERROR(only_for("stride", rolling, "loglikelihood_rolling tasks"));
  GRAFT_RETURN_IF_ERROR(only_for("until", generating, "generate_until tasks"));
  GRAFT_RETURN_IF_ERROR(only_for("max_new_tokens", generating, "generate_until tasks"));
  if (node["max_length"]) {
    GRAFT_ASSIGN_OR_RETURN(task.max_length,
                           yaml.Int(node["max_length"], path + ".max_length", 2, 1 << 20));
  }
  if (node["stride"]) {
    GRAFT_ASSIGN_OR_RETURN(task.stride, yaml.Int(node["stride"], path + ".stride", 1, 1 << 20));
    if (task.max_length > 0 && task.stride > task.max_length) {
      return yaml.Error(path + ".stride", "must not exceed max_length");
    }
  }
  if (node["until"]) {
    GRAFT_ASSIGN_OR_RETURN(task.until, yaml.StringList(node["until"], path + ".until"));
  }
  for (const auto& stop : task.until) {
    if (stop.empty()) return yaml.Error(path + ".until", "stop strings must not be empty");
  }
  if (node["max_new_tokens"]) {
    GRAFT_ASSIGN_OR_RETURN(task.max_new_tokens,
                           yaml.Int(node["max_new_tokens"], path + ".max_new_tokens", 1, 4096));
  }
  return task;
}

// Reads an optional string field of a JSONL record.
Status OptionalString(const Json& record, std::string_view field, const std::string& where,
                      std::string* out) {
  auto it = record.find(field);
  if (it == record.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) {
    return InvalidInput(where + ": field \"" + std::string(field) + "\" must be a string");
  }
  *out = it->get<std::string>();
  return Status::Ok();
}

Status RequiredString(const Json& record, std::string_view field, const std::string& where,
                      std::string* out) {
  if (!record.contains(field)) {
    return InvalidInput(where + ": missing field \"" + std::string(field) + "\"");
  }
  return OptionalString(record, field, where, out);
}

Status ParseItemFields(TaskType type, const Json& record, const std::string& where,
                       SuiteItem* item) {
  switch (type) {
    case TaskType::kLoglikelihoodRolling:
      GRAFT_RETURN_IF_ERROR(RequiredString(record, "text", where, &item->text));
      if (item->text.empty()) return InvalidInput(where + ": field \"text\" is empty");
      return Status::Ok();
    case TaskType::kMultipleChoice: {
      GRAFT_RETURN_IF_ERROR(RequiredString(record, "context", where, &item->context));
      auto choices = record.find("choices");
      if (choices == record.end() || !choices->is_array() || choices->size() < 2) {
        return InvalidInput(where + ": field \"choices\" must be a list of at least two strings");
      }
      for (const auto& choice : *choices) {
        if (!choice.is_string() || choice.get<std::string>().empty()) {
          return InvalidInput(where + ": field \"choices\" must hold non-empty strings");
        }
        item->choices.push_back(choice.get<std::string>());
      }
      auto label = record.find("label");
      if (label == record.end() || !label->is_number_integer()) {
        return InvalidInput(where + ": field \"label\" must be an integer index into choices");
      }
      int64_t index = label->get<int64_t>();
      if (index < 0 || index >= static_cast<int64_t>(item->choices.size())) {
        return InvalidInput(where + ": field \"label\" is out of range (" + std::to_string(index) +
                            " for " + std::to_string(item->choices.size()) + " choices)");
      }
      item->label = static_cast<int>(index);
      return Status::Ok();
    }
    case TaskType::kGenerateUntil:
      GRAFT_RETURN_IF_ERROR(RequiredString(record, "prompt", where, &item->prompt));
      return RequiredString(record, "target", where, &item->target);
  }
  return InternalError("unhandled task type");
}

}  // namespace

std::string_view TaskTypeName(TaskType type) {
  switch (type) {
    case TaskType::kLoglikelihoodRolling:
      return "loglikelihood_rolling";
    case TaskType::kMultipleChoice:
      return "multiple_choice";
    case TaskType::kGenerateUntil:
      return "generate_until";
  }
  return "unknown";
}

bool MetricAppliesTo(TaskType type, std::string_view metric) {
  for (const auto& entry : kTaskMetrics) {
    if (entry.name == metric) return entry.type == type;
  }
  return false;
}

Result<Suite> ParseSuite(std::string_view yaml_text, std::string_view source) {
  YamlReader yaml(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return InvalidInput(std::string(source) + ": not valid YAML: " + e.what());
  }
  GRAFT_RETURN_IF_ERROR(yaml.CheckKeys(root, "suite file", {"suite", "description", "tasks"}));
  Suite suite;
  suite.digest = Sha256Hex(yaml_text);
  GRAFT_ASSIGN_OR_RETURN(suite.name, yaml.String(root["suite"], "suite"));
  if (suite.name.empty()) return yaml.Error("suite", "must not be empty");
  if (root["description"]) {
    GRAFT_RETURN_IF_ERROR(yaml.String(root["description"], "description").status());
  }
  const YAML::Node tasks = root["tasks"];
  if (!tasks || !tasks.IsSequence() || tasks.size() == 0) {
    return yaml.Error("tasks", "expected a non-empty list of tasks");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < tasks.size(); ++i) {
    std::string path = "tasks[" + std::to_string(i) + "]";
    GRAFT_ASSIGN_OR_RETURN(SuiteTask task, ParseTask(tasks[i], path, yaml));
    if (!names.insert(task.name).second) {
      return yaml.Error(path + ".name", "task \"" + task.name + "\" defined twice");
    }
    suite.tasks.push_back(std::move(task));
  }
  return suite;
}

Result<std::vector<SuiteItem>> ParseTaskItems(const SuiteTask& task, std::string_view jsonl,
                                              std::string_view source) {
  std::vector<SuiteItem> items;
  std::set<std::string> ids;
  JsonlLines lines(jsonl, source);
  while (std::optional<JsonlLine> line = lines.Next()) {
    if (line->blank()) continue;
    std::string where = lines.Where(*line);
    GRAFT_ASSIGN_OR_RETURN(Json record, ParseJson(line->text, where));
    if (!record.is_object()) return InvalidInput(where + ": expected a JSON object");
    SuiteItem item;
    GRAFT_RETURN_IF_ERROR(ParseItemFields(task.type, record, where, &item));
    GRAFT_RETURN_IF_ERROR(OptionalString(record, "slice", where, &item.slice));
    GRAFT_RETURN_IF_ERROR(OptionalString(record, "id", where, &item.id));
    if (item.id.empty()) item.id = task.name + ":" + std::to_string(line->number);
    if (!ids.insert(item.id).second) {
      return InvalidInput(where + ": field \"id\": duplicate item id \"" + item.id + "\"");
    }
    items.push_back(std::move(item));
  }
  if (items.empty()) return InvalidInput(std::string(source) + ": no items");
  return items;
}

Result<Suite> LoadSuite(const std::filesystem::path& suite_file) {
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(suite_file, kMaxSuiteBytes));
  GRAFT_ASSIGN_OR_RETURN(Suite suite, ParseSuite(text, suite_file.string()));
  for (SuiteTask& task : suite.tasks) {
    std::filesystem::path data_file = suite_file.parent_path() / task.data_path;
    GRAFT_ASSIGN_OR_RETURN(std::string data, ReadFile(data_file, kMaxDataBytes));
    std::string actual = Sha256Hex(data);
    if (actual != task.data_sha256) {
      return VerificationFailed(data_file.string() + ": SHA-256 is " + actual +
                                " but the suite pins " + task.data_sha256 +
                                " (the data changed since the suite was written)");
    }
    GRAFT_ASSIGN_OR_RETURN(task.items, ParseTaskItems(task, data, data_file.string()));
  }
  return suite;
}

}  // namespace graft

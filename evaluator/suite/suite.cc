#include "evaluator/suite/suite.h"

#include <optional>
#include <set>

#include "core/file_util.h"
#include "core/json.h"
#include "core/jsonl_lines.h"
#include "core/sha256.h"
#include "core/yaml_reader.h"

namespace graft::suite {
namespace {

constexpr uint64_t kMaxSuiteBytes = 1 << 20;
constexpr uint64_t kMaxDataBytes = uint64_t{2} << 30;

// Which task type produces each metric (how metrics aggregate: evaluator/stats/metric_info.h).
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

Result<SuiteTask> ParseTask(const YAML::Node& node, const std::string& path,
                            const YamlReader& yaml) {
  GRAFT_RETURN_IF_ERROR(yaml.CheckMap(
      node, path,
      {"name", "type", "data", "metrics", "max_length", "stride", "until", "max_new_tokens"}));
  auto at = [&](std::string_view key) { return YamlReader::Child(path, key); };
  SuiteTask task;
  GRAFT_ASSIGN_OR_RETURN(YAML::Node name, yaml.Required(node, path, "name"));
  GRAFT_ASSIGN_OR_RETURN(task.name, yaml.String(name, at("name")));
  GRAFT_ASSIGN_OR_RETURN(YAML::Node type_node, yaml.Required(node, path, "type"));
  GRAFT_ASSIGN_OR_RETURN(std::string type, yaml.String(type_node, at("type")));
  auto parsed_type = ParseTaskType(type);
  if (!parsed_type.ok()) return yaml.Error(type_node, at("type"), parsed_type.status().message());
  task.type = *parsed_type;

  GRAFT_ASSIGN_OR_RETURN(YAML::Node data, yaml.Required(node, path, "data"));
  const std::string data_at = at("data");
  GRAFT_RETURN_IF_ERROR(yaml.CheckMap(data, data_at, {"path", "sha256"}));
  GRAFT_ASSIGN_OR_RETURN(YAML::Node data_path, yaml.Required(data, data_at, "path"));
  GRAFT_ASSIGN_OR_RETURN(task.data_path,
                         yaml.String(data_path, YamlReader::Child(data_at, "path")));
  if (Status s = CheckSafeRelativePath(task.data_path); !s.ok()) {
    return yaml.Error(data_path, YamlReader::Child(data_at, "path"), s.message());
  }
  GRAFT_ASSIGN_OR_RETURN(YAML::Node sha_node, yaml.Required(data, data_at, "sha256"));
  GRAFT_ASSIGN_OR_RETURN(std::string sha,
                         yaml.String(sha_node, YamlReader::Child(data_at, "sha256")));
  auto digest = ParseDigestHex(sha);
  if (!digest.ok()) {
    return yaml.Error(sha_node, YamlReader::Child(data_at, "sha256"), digest.status().message());
  }
  task.data_sha256 = DigestHex(*digest);

  GRAFT_ASSIGN_OR_RETURN(YAML::Node metrics, yaml.Required(node, path, "metrics"));
  GRAFT_ASSIGN_OR_RETURN(task.metrics, yaml.StringList(metrics, at("metrics")));
  if (task.metrics.empty())
    return yaml.Error(metrics, at("metrics"), "must name at least one metric");
  std::set<std::string> seen;
  for (const auto& metric : task.metrics) {
    if (!MetricAppliesTo(task.type, metric)) {
      return yaml.Error(metrics, at("metrics"),
                        "metric \"" + metric + "\" does not apply to " + type + " tasks");
    }
    if (!seen.insert(metric).second) {
      return yaml.Error(metrics, at("metrics"), "metric \"" + metric + "\" listed twice");
    }
  }

  bool rolling = task.type == TaskType::kLoglikelihoodRolling;
  bool generating = task.type == TaskType::kGenerateUntil;
  auto only_for = [&](const char* key, bool allowed, const char* kind) -> Status {
    if (node[key] && !allowed)
      return yaml.Error(node[key], at(key), std::string("only for ") + kind);
    return Status::Ok();
  };
  GRAFT_RETURN_IF_ERROR(only_for("max_length", rolling, "loglikelihood_rolling tasks"));
  GRAFT_RETURN_IF_ERROR(only_for("stride", rolling, "loglikelihood_rolling tasks"));
  GRAFT_RETURN_IF_ERROR(only_for("until", generating, "generate_until tasks"));
  GRAFT_RETURN_IF_ERROR(only_for("max_new_tokens", generating, "generate_until tasks"));
  if (node["max_length"]) {
    GRAFT_ASSIGN_OR_RETURN(task.max_length,
                           yaml.Integer(node["max_length"], at("max_length"), 2, 1 << 20));
  }
  if (node["stride"]) {
    GRAFT_ASSIGN_OR_RETURN(task.stride, yaml.Integer(node["stride"], at("stride"), 1, 1 << 20));
    if (task.max_length > 0 && task.stride > task.max_length) {
      return yaml.Error(node["stride"], at("stride"), "must not exceed max_length");
    }
  }
  if (node["until"]) {
    GRAFT_ASSIGN_OR_RETURN(task.until, yaml.StringList(node["until"], at("until")));
  }
  if (node["max_new_tokens"]) {
    GRAFT_ASSIGN_OR_RETURN(task.max_new_tokens,
                           yaml.Integer(node["max_new_tokens"], at("max_new_tokens"), 1, 4096));
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
  const YamlReader yaml(source);
  GRAFT_ASSIGN_OR_RETURN(YAML::Node root, yaml.Parse(yaml_text));
  GRAFT_RETURN_IF_ERROR(yaml.CheckMap(root, "", {"suite", "description", "tasks"}));
  Suite suite;
  suite.digest = Sha256Hex(yaml_text);
  GRAFT_ASSIGN_OR_RETURN(YAML::Node name, yaml.Required(root, "", "suite"));
  GRAFT_ASSIGN_OR_RETURN(suite.name, yaml.String(name, "suite"));
  if (root["description"]) {
    GRAFT_RETURN_IF_ERROR(yaml.Scalar(root["description"], "description").status());
  }
  GRAFT_ASSIGN_OR_RETURN(YAML::Node tasks, yaml.Required(root, "", "tasks"));
  if (!tasks.IsSequence() || tasks.size() == 0) {
    return yaml.Error(tasks, "tasks", "expected a non-empty list of tasks");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < tasks.size(); ++i) {
    std::string path = YamlReader::Index("tasks", i);
    GRAFT_ASSIGN_OR_RETURN(SuiteTask task, ParseTask(tasks[i], path, yaml));
    if (!names.insert(task.name).second) {
      return yaml.Error(tasks[i]["name"], path + ".name",
                        "task \"" + task.name + "\" defined twice");
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

}  // namespace graft::suite

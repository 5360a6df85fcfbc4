// Suites in the registry: see evaluator/suite/suite_registry.h.
#include "evaluator/suite/suite_registry.h"

#include "core/json.h"
#include "registry/vocabulary.h"

namespace graft::suite {
namespace fs = std::filesystem;

Result<registry::ObjectRecord> RegisterSuite(registry::Registry& registry,
                                             const fs::path& suite_file, const std::string& name) {
  GRAFT_ASSIGN_OR_RETURN(Suite suite, LoadSuite(suite_file));
  const std::string suite_name = name.empty() ? suite.name : name;
  std::vector<registry::Edge> edges;
  Json tasks = Json::array();
  for (const SuiteTask& task : suite.tasks) {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord data,
                           registry.RegisterDataset(suite_file.parent_path() / task.data_path,
                                                    suite_name + "." + task.name));
    edges.push_back({"", "data", data.digest});
    tasks.push_back({{"name", task.name},
                     {"type", TaskTypeName(task.type)},
                     {"data", data.digest},
                     {"items", task.items.size()},
                     {"metrics", task.metrics}});
  }
  return registry.RegisterFile(registry::kSuiteKind, suite_file, suite_name,
                               {{"suite", suite.name}, {"tasks", std::move(tasks)}}, edges);
}

Result<Suite> LoadRegisteredSuite(registry::Registry& registry, const std::string& suite_ref) {
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record,
                         registry.Resolve(registry::kSuiteKind, suite_ref));
  GRAFT_ASSIGN_OR_RETURN(std::string text, registry.ReadBlob(record.digest));
  GRAFT_ASSIGN_OR_RETURN(Suite suite, ParseSuite(text, "suite " + record.DisplayName()));
  for (SuiteTask& task : suite.tasks) {
    GRAFT_ASSIGN_OR_RETURN(std::string data, registry.ReadBlob(task.data_sha256));
    GRAFT_ASSIGN_OR_RETURN(
        task.items,
        ParseTaskItems(task, data, "suite " + record.DisplayName() + ": " + task.data_path));
  }
  return suite;
}

}  // namespace graft::suite

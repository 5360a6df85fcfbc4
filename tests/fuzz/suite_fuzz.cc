// libFuzzer target: suite YAML (evaluator/suite, torch-free graft_suite) from hostile bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "core/file_util.h"
#include "core/sha256.h"
#include "evaluator/suite/suite.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  graft::Result<graft::suite::Suite> suite = graft::suite::ParseSuite(text, "fuzz.yaml");
  if (!suite.ok()) return 0;
  if (suite->name.empty() || suite->tasks.empty() || suite->digest != graft::Sha256Hex(text)) {
    std::abort();
  }
  std::set<std::string> names;
  for (const graft::suite::SuiteTask& task : suite->tasks) {
    // What LoadSuite relies on: unique names, a safe relative data path, a pinned digest, and
    // metrics that apply to the task type.
    if (!names.insert(task.name).second) std::abort();
    if (!graft::CheckSafeRelativePath(task.data_path).ok()) std::abort();
    if (task.data_sha256.size() != 64 || task.metrics.empty()) std::abort();
    for (const std::string& metric : task.metrics) {
      if (!graft::suite::MetricAppliesTo(task.type, metric)) std::abort();
    }
  }
  return 0;
}

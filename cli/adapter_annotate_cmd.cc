// `graft adapter tag|describe`: tags and descriptions of adapter versions, each change logged.
#include <iostream>

#include "cli/common.h"
#include "cli/object_commands.h"
#include "core/file_util.h"

namespace graft::cli {
namespace {

constexpr char kAnnotateRoles[] = "curator, trainer or release";

// What an adapter carries now, after a change that logged `logged` events.
Result<int> PrintAnnotated(registry::Registry& reg, const registry::ObjectRecord& adapter,
                           uint64_t logged, const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Annotations annotations, reg.AdapterAnnotations(adapter.digest));
  if (WantsJson(vm)) {
    Json out = {
        {"digest", "sha256:" + adapter.digest}, {"labels", adapter.labels}, {"logged", logged > 0}};
    out.update(annotations.ToJson());
    PrintJson(out);
    return kExitOk;
  }
  std::cout << (adapter.labels.empty() ? "" : Printable(adapter.DisplayName()) + " ")
            << "sha256:" << adapter.digest << (logged > 0 ? "" : " (unchanged: nothing logged)")
            << "\n";
  PrintAnnotations(annotations);
  return kExitOk;
}

Result<int> RunTag(const po::variables_map& vm) {
  std::map<std::string, std::string> set;
  if (vm.count("assignment")) {
    for (const std::string& text : vm["assignment"].as<std::vector<std::string>>()) {
      GRAFT_ASSIGN_OR_RETURN(auto assignment, registry::ParseTagAssignment(text));
      auto [it, inserted] = set.insert(assignment);
      if (!inserted && it->second != assignment.second) {
        return InvalidInput("tag \"" + assignment.first + "\" is given two values");
      }
    }
  }
  std::vector<std::string> remove;
  if (vm.count("remove")) remove = vm["remove"].as<std::vector<std::string>>();
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(uint64_t before, reg.LogSize());
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter,
                         reg.TagAdapter(vm["ref"].as<std::string>(), set, remove));
  GRAFT_ASSIGN_OR_RETURN(uint64_t after, reg.LogSize());
  return PrintAnnotated(reg, adapter, after - before, vm);
}

Result<int> RunDescribe(const po::variables_map& vm) {
  if (vm.count("text") == vm.count("file")) {
    return InvalidInput("give the description as TEXT or with --file FILE (one of them)");
  }
  std::string text;
  if (vm.count("file")) {
    const std::string path = vm["file"].as<std::string>();
    GRAFT_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, 2 * registry::kMaxDescriptionLength));
    for (size_t i = 0; i < bytes.size(); ++i) {  // CRLF line breaks become LF
      if (!(bytes[i] == '\r' && i + 1 < bytes.size() && bytes[i + 1] == '\n')) text += bytes[i];
    }
    while (!text.empty() && text.back() == '\n') text.pop_back();
    GRAFT_RETURN_IF_ERROR(registry::ValidateDescription(text).WithContext(path));
  } else {
    text = vm["text"].as<std::string>();
  }
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(uint64_t before, reg.LogSize());
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter,
                         reg.DescribeAdapter(vm["ref"].as<std::string>(), text));
  GRAFT_ASSIGN_OR_RETURN(uint64_t after, reg.LogSize());
  return PrintAnnotated(reg, adapter, after - before, vm);
}

CommandRegistrar kTag({
    .group = "adapter",
    .verb = "tag",
    .summary = "Set or remove tags on an adapter version (logged; metadata only)",
    .usage = "REF KEY=VALUE... [--remove KEY]...",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          DefineRefOptions(options, positional);
          options.add_options()("assignment", po::value<std::vector<std::string>>(),
                                "KEY=VALUE: set tag KEY (replacing its value)")(
              "remove", po::value<std::vector<std::string>>(), "remove tag KEY (repeatable)");
          positional.add("assignment", -1);
          AddSigningKeyOption(options, kAnnotateRoles);
        },
    .run = RunTag,
});

CommandRegistrar kDescribe({
    .group = "adapter",
    .verb = "describe",
    .summary = "Set an adapter version's description (logged; \"\" clears it)",
    .usage = "REF TEXT | REF --file FILE",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          DefineRefOptions(options, positional);
          options.add_options()("text", po::value<std::string>(),
                                "the description (\"\" clears it)")(
              "file", po::value<std::string>(),
              "read the description from FILE (UTF-8; CRLF read as LF, final line breaks dropped)");
          positional.add("text", 1);
          AddSigningKeyOption(options, kAnnotateRoles);
        },
    .run = RunDescribe,
});

}  // namespace
}  // namespace graft::cli

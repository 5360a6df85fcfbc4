// `graft lineage REF` and `graft lineage --uses DATASET|BASE|KEY`: where an object came from, and
// what depends on one.
#include <iostream>

#include "cli/common.h"
#include "registry/lineage.h"

namespace graft::cli {
namespace {

Result<int> RunLineage(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  const std::string format = vm["format"].as<std::string>();
  if (format != "text" && format != "dot") {
    return InvalidInput("--format must be text or dot (JSON: --json), not \"" + format + "\"");
  }
  bool uses = vm.count("uses") > 0;
  if (uses == (vm.count("ref") > 0)) return InvalidInput("give either REF or --uses X");
  std::optional<registry::Lineage> lineage;
  if (uses) {
    std::string target = vm["uses"].as<std::string>();
    Result<registry::ObjectRecord> object = reg.Resolve("", target);
    std::string id;
    if (object.ok()) {
      id = object->digest;
    } else {
      // Not an object: a key id (or unique prefix).
      GRAFT_ASSIGN_OR_RETURN(std::vector<registry::KeyRecord> keys, reg.Keys());
      for (const auto& k : keys) {
        if (k.key_id.starts_with(target) && k.key_id != id) {
          if (!id.empty()) return InvalidInput("key prefix \"" + target + "\" is ambiguous");
          id = k.key_id;
        }
      }
      if (id.empty()) return object.status();
    }
    GRAFT_ASSIGN_OR_RETURN(lineage, registry::Lineage::Uses(reg, id));
  } else {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord object,
                           reg.Resolve("", vm["ref"].as<std::string>()));
    GRAFT_ASSIGN_OR_RETURN(lineage, registry::Lineage::Of(reg, object.digest));
  }
  if (WantsJson(vm)) {
    PrintJson(lineage->ToJson());
  } else if (format == "dot") {
    std::cout << lineage->ToDot();
  } else {
    std::cout << lineage->ToText();
  }
  return kExitOk;
}

CommandRegistrar kLineage({
    .group = "lineage",
    .verb = "",
    .summary = "Show what an object came from, or (--uses) what depends on an object or key",
    .usage = "REF | --uses DATASET|BASE|KEY",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("ref", po::value<std::string>(), "object REF")(
              "uses", po::value<std::string>(), "list everything depending on this REF or key id")(
              "format", po::value<std::string>()->default_value("text"),
              "text or dot (Graphviz) on stdout");
          positional.add("ref", 1);
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunLineage,
});

}  // namespace
}  // namespace graft::cli

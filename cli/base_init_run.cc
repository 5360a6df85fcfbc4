// The runner of `graft base init` (graft-model only; the options are in cli/base_init_cmd.cc).

#include <iostream>

#include "cli/command.h"
#include "models/base_init.h"

namespace graft::cli {
namespace {

Result<int> RunBaseInit(const po::variables_map& vm) {
  const std::string preset = vm["preset"].as<std::string>();
  std::optional<formats::Arch> arch = formats::ModelConfig::PresetArch(preset);
  if (vm.count("arch")) {
    GRAFT_ASSIGN_OR_RETURN(arch, formats::ParseArch(vm["arch"].as<std::string>()));
  } else if (!arch) {
    return InvalidInput("--arch is required with preset '" + preset + "'");
  }
  GRAFT_ASSIGN_OR_RETURN(DType dtype, ParseBaseDType(vm["dtype"].as<std::string>()));
  const uint64_t shard_mb = vm["max-shard-mb"].as<uint64_t>();
  if (shard_mb == 0) return InvalidInput("--max-shard-mb must be at least 1");
  const std::string out = vm["out"].as<std::string>();
  GRAFT_ASSIGN_OR_RETURN(formats::ModelConfig config,
                         models::WriteRandomBase(*arch, preset, vm["seed"].as<uint64_t>(), out,
                                                 dtype, shard_mb * 1000000));
  std::cout << out << ": " << formats::ArchName(config.arch) << " " << preset << ", "
            << config.num_layers << " layers, d=" << config.hidden_size << ", "
            << config.NumParameters() << " parameters, " << DTypeName(dtype) << "\n";
  return kExitOk;
}

static ModelRunnerRegistrar kBaseInitRunner("base init", RunBaseInit);

}  // namespace
}  // namespace graft::cli

// The runner of `graft base init` (graft-model only; the options are in cli/base_cmd.cc).

#include <iostream>

#include "cli/command.h"
#include "models/base_init.h"

namespace graft::cli {
namespace {

Result<int> RunBaseInit(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(Arch arch, ParseArch(vm["arch"].as<std::string>()));
  const std::string preset = vm["preset"].as<std::string>();
  const std::string out = vm["out"].as<std::string>();
  GRAFT_ASSIGN_OR_RETURN(ModelConfig config,
                         WriteRandomBase(arch, preset, vm["seed"].as<uint64_t>(), out));
  std::cout << out << ": " << ArchName(config.arch) << " " << preset << ", " << config.num_layers
            << " layers, d=" << config.hidden_size << ", " << config.NumParameters()
            << " parameters\n";
  return kExitOk;
}

static ModelRunnerRegistrar kBaseInitRunner("base init", RunBaseInit);

}  // namespace
}  // namespace graft::cli

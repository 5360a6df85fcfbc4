// `graft base init`: a randomly initialised base model in Hugging Face's layout.

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

static CommandRegistrar kBaseInit({
    .group = "base",
    .verb = "init",
    .summary = "write a random gpt2 or llama base model in Hugging Face's layout (same seed, "
               "same bytes)",
    .usage = "--arch gpt2|llama --preset tiny|small --out DIR",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()                                                //
              ("arch", po::value<std::string>()->required(), "gpt2 or llama")  //
              ("preset", po::value<std::string>()->default_value("tiny"),
               "tiny (2 layers, d=32: tests) or small (4 layers, d=256: benchmarks, demo)")  //
              ("out", po::value<std::string>()->required(),
               "output directory (must not exist or be empty)")  //
              ("seed", po::value<uint64_t>()->default_value(0), "initialisation seed");
        },
    .run = RunBaseInit,
});

}  // namespace
}  // namespace graft::cli


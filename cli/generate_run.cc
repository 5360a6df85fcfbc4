// The runner of `graft generate` (graft-model only; the options are in cli/generate_cmd.cc).

#include <iostream>

#include "cli/command.h"
#include "core/json.h"
#include "models/generation.h"
#include "models/torch_threads.h"

namespace graft::cli {
namespace {

Result<int> RunGenerate(const po::variables_map& vm) {
  models::GenerationOptions options;
  options.max_new_tokens = vm["max-new-tokens"].as<int64_t>();
  options.temperature = vm["temperature"].as<double>();
  options.top_k = vm["top-k"].as<int64_t>();
  options.seed = vm["seed"].as<uint64_t>();
  options.stop_strings = vm["stop"].as<std::vector<std::string>>();
  if (vm["threads"].as<int>() < 0) return InvalidInput("--threads must be >= 0");
  models::SetTorchThreads(vm["threads"].as<int>());
  GRAFT_ASSIGN_OR_RETURN(options.base_dtype, ParseBaseDType(vm["base-dtype"].as<std::string>()));
  const std::string adapter = vm.count("adapter") ? vm["adapter"].as<std::string>() : "";
  std::vector<std::string> warnings;
  GRAFT_ASSIGN_OR_RETURN(
      models::Generation generation,
      models::GenerateFromDirs(vm["base"].as<std::string>(), adapter,
                               vm["prompt"].as<std::string>(), options, &warnings));
  for (const std::string& warning : warnings) std::cerr << "graft: warning: " << warning << "\n";
  if (vm.count("json")) {
    Json out = {{"prompt", vm["prompt"].as<std::string>()},
                {"completion", generation.text},
                {"prompt_tokens", generation.prompt_ids.size()},
                {"new_tokens", generation.new_ids},
                {"stop_reason", std::string(models::StopReasonName(generation.stop_reason))}};
    // A model can emit bytes that are not UTF-8: they show as U+FFFD here, new_tokens has them.
    std::cout << out.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    std::cout << generation.text << "\n";
  }
  return kExitOk;
}

static ModelRunnerRegistrar kGenerateRunner("generate", RunGenerate);

}  // namespace
}  // namespace graft::cli

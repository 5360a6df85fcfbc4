// `graft generate`: text from a base model, optionally with a PEFT adapter.

#include <iostream>

#include "cli/command.h"
#include "core/json.h"
#include "models/generation.h"
#include "models/torch_threads.h"

namespace graft::cli {
namespace {

Result<int> RunGenerate(const po::variables_map& vm) {
  GenerationOptions options;
  options.max_new_tokens = vm["max-new-tokens"].as<int64_t>();
  options.temperature = vm["temperature"].as<double>();
  options.top_k = vm["top-k"].as<int64_t>();
  options.seed = vm["seed"].as<uint64_t>();
  options.stop_strings = vm["stop"].as<std::vector<std::string>>();
  if (vm["threads"].as<int>() < 0) return InvalidInput("--threads must be >= 0");
  SetTorchThreads(vm["threads"].as<int>());
  const std::string adapter = vm.count("adapter") ? vm["adapter"].as<std::string>() : "";
  std::vector<std::string> warnings;
  GRAFT_ASSIGN_OR_RETURN(Generation generation,
                         GenerateFromDirs(vm["base"].as<std::string>(), adapter,
                                          vm["prompt"].as<std::string>(), options, &warnings));
  for (const std::string& warning : warnings) std::cerr << "graft: warning: " << warning << "\n";
  if (vm.count("json")) {
    Json out = {{"prompt", vm["prompt"].as<std::string>()},
                {"completion", generation.text},
                {"prompt_tokens", generation.prompt_ids.size()},
                {"new_tokens", generation.new_ids},
                {"stop_reason", std::string(StopReasonName(generation.stop_reason))}};
    // A model can emit bytes that are not UTF-8: they show as U+FFFD here, new_tokens has them.
    std::cout << out.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    std::cout << generation.text << "\n";
  }
  return kExitOk;
}

static CommandRegistrar kGenerate({
    .group = "generate",
    .verb = "",
    .summary = "generate text from a base model (and a PEFT adapter): greedy, or sampled",
    .usage = "--base DIR [--adapter DIR] --prompt TEXT",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()                                                                   //
              ("base", po::value<std::string>()->required(), "base model directory (HF layout)")  //
              ("adapter", po::value<std::string>(), "PEFT adapter directory")                     //
              ("prompt", po::value<std::string>()->required(), "prompt text")                     //
              ("max-new-tokens", po::value<int64_t>()->default_value(32), "tokens to generate")   //
              ("temperature", po::value<double>()->default_value(0.0),
               "0: greedy; > 0: sample from softmax(logits / T)")  //
              ("top-k", po::value<int64_t>()->default_value(0),
               "sample among the k most likely tokens (0: all)")                  //
              ("seed", po::value<uint64_t>()->default_value(0), "sampling seed")  //
              ("stop", po::value<std::vector<std::string>>()->default_value({}, "")->composing(),
               "stop at this string (repeatable)")                                              //
              ("threads", po::value<int>()->default_value(0), "libtorch threads (0: default)")  //
              ("json", "print a JSON object (completion, token ids, stop reason)");
        },
    .run = RunGenerate,
});

}  // namespace
}  // namespace graft::cli


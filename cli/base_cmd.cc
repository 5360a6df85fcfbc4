// `graft base init`: a randomly initialised base model in Hugging Face's layout. The definition;
// graft-model runs it (cli/base_run.cc).
#include "cli/command.h"

namespace graft::cli {
namespace {

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
    .model_runner = "base init",
});

}  // namespace
}  // namespace graft::cli

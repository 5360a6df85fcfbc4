// `graft base init`: a randomly initialised base model in Hugging Face's layout. The definition;
// graft-model runs it (cli/base_init_run.cc).
#include "cli/command.h"

namespace graft::cli {
namespace {

static CommandRegistrar kBaseInit({
    .group = "base",
    .verb = "init",
    .summary = "write a random gpt2 or llama base model in Hugging Face's layout (same seed, "
               "same bytes)",
    .usage = "[--arch gpt2|llama] --preset tiny|small|gpt2-124m|llama-1b|llama-7b --out DIR",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()  //
              ("arch", po::value<std::string>(),
               "gpt2 or llama (implied by gpt2-124m, llama-1b and llama-7b)")  //
              ("preset", po::value<std::string>()->default_value("tiny"),
               "tiny (2 layers, d=32: tests), small (4 layers, d=256: benchmarks, demo), or a "
               "real shape: gpt2-124m (GPT-2 small), llama-1b (TinyLlama-1.1B), llama-7b "
               "(Llama-2-7B)")  //
              ("out", po::value<std::string>()->required(),
               "output directory (must not exist or be empty)")                         //
              ("seed", po::value<uint64_t>()->default_value(0), "initialisation seed")  //
              ("dtype", po::value<std::string>()->default_value("f32"),
               "weight dtype: f32, bf16 or f16")  //
              ("max-shard-mb", po::value<uint64_t>()->default_value(2000),
               "weights larger than this many MB (10^6 bytes) are written as shards with "
               "model.safetensors.index.json");
        },
    .model_runner = "base init",
});

}  // namespace
}  // namespace graft::cli

// `graft generate`: text from a base model, optionally with a PEFT adapter. The definition;
// graft-model runs it (cli/generate_run.cc).
#include "cli/command.h"

namespace graft::cli {
namespace {

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
              ("base-dtype", po::value<std::string>()->default_value("f32"),
               "keep the base's weights in f32, bf16, f16 or q8_0 (computing in f32; q8_0 "
               "generation multiplies int8 activations by the int8 weights)")  //
              ("json", "print a JSON object (completion, token ids, stop reason)");
        },
    .model_runner = "generate",
});

}  // namespace
}  // namespace graft::cli

// `graft eval ADAPTER... --suite NAME...`: paired evaluation of the frozen base and base+adapter,
// for one or several adapters on one base. The definition; graft-model runs it (cli/eval_run.cc).
#include "cli/common.h"
#include "cli/data_parallel.h"
#include "cli/evaluation_options.h"
#include "cli/output_options.h"

namespace graft::cli {
namespace {

CommandRegistrar kEval({
    .group = "eval",
    .verb = "",
    .summary = "Evaluate adapters and their frozen base on registered suites (paired statistics)",
    .usage = "ADAPTER [ADAPTER]... --suite NAME [--suite NAME]... --key KEY",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()(
              "adapter", po::value<std::vector<std::string>>()->required(),
              "adapter REF (name@N, name@channel, digest or prefix); several on one base load "
              "and score the base once")("suite", po::value<std::vector<std::string>>()->required(),
                                         "suite REF (repeat)")(
              "key", po::value<std::string>()->required(),
              "evaluator private key (trusted with role evaluator)");
          AddJsonOption(options);
          AddOutputFileOptions(options, {OutputFile::kJson, OutputFile::kLmEval},
                               "the signed results");
          AddEvaluationOptions(options);
          AddNprocOption(options);
          positional.add("adapter", -1);
          AddRegistryOption(options);
        },
    .model_runner = "eval",
});

}  // namespace
}  // namespace graft::cli

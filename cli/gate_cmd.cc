// `graft gate ADAPTER --policy NAME`: the CI gate. Verify, evaluate (base scores reused when
// cached), decide each criterion of the pre-declared policy, sign and store the decision, write
// JUnit/Markdown/JSON, and exit 0 pass, 10 fail, 11 inconclusive, 12 verification failed. The
// definition; graft-model runs it (cli/gate_run.cc).
#include "cli/common.h"
#include "cli/data_parallel.h"
#include "cli/evaluation_options.h"
#include "cli/output_options.h"

namespace graft::cli {
namespace {

CommandRegistrar kGate({
    .group = "gate",
    .verb = "",
    .summary = "CI gate: evaluate an adapter against a pre-declared policy; exit 0/10/11/12",
    .usage = "ADAPTER --policy NAME --key KEY",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("adapter", po::value<std::string>()->required(), "adapter REF")(
              "policy", po::value<std::string>()->required(), "policy REF (name, name@N)")(
              "key", po::value<std::string>()->required(),
              "evaluator private key (signs the evaluation and the decision)");
          AddJsonOption(options);
          AddOutputFileOptions(options,
                               {OutputFile::kJunit, OutputFile::kMarkdown, OutputFile::kJson},
                               "the decision");
          AddEvaluationOptions(options);
          AddNprocOption(options);
          positional.add("adapter", 1);
          AddRegistryOption(options);
        },
    .model_runner = "gate",
});

}  // namespace
}  // namespace graft::cli

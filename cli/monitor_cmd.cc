// `graft monitor --channel NAME@CHANNEL`: re-evaluate what a channel serves against the exit
// criteria of the policy it was gated under, and retire (rolling the channel back) what fails. The
// definition; graft-model runs it (cli/monitor_run.cc).
#include "cli/common.h"
#include "cli/evaluation_options.h"

namespace graft::cli {
namespace {

CommandRegistrar kMonitor({
    .group = "monitor",
    .verb = "",
    .summary =
        "Apply a channel's exit criteria (monitor suites, age, revocations); retire failures",
    .usage = "--channel NAME@CHANNEL [--suite NAME]... --key KEY",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("channel", po::value<std::string>()->required(),
                                "the channel to check, as NAME@CHANNEL")(
              "suite", po::value<std::vector<std::string>>(),
              "only these monitoring suites (default: every one the policy names)")(
              "key", po::value<std::string>(), "evaluator private key (for monitoring suites)");
          AddEvaluationOptions(options);
          AddRegistryOption(options);
        },
    .model_runner = "monitor",
});

}  // namespace
}  // namespace graft::cli

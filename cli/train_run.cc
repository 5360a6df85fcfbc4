// The runner of `graft train` (graft-model only; the options are in cli/train_cmd.cc).

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>

#include "cli/command.h"
#include "core/sha256.h"
#include "trainer/train_job.h"

namespace graft::cli {
namespace {

std::atomic<bool> g_stop{false};

void OnStopSignal(int) { g_stop.store(true); }

// SIGINT/SIGTERM ask the run to checkpoint and stop after the current step; a second signal
// kills as usual (SA_RESETHAND).
void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

constexpr int kExitInterrupted = 130;  // as a shell reports a process stopped by SIGINT

Result<int> RunTrain(const po::variables_map& vm) {
  trainer::TrainJob job;
  job.base_dir = vm["base"].as<std::string>();
  job.train_data = vm["data"].as<std::string>();
  if (vm.count("valid")) job.valid_data = vm["valid"].as<std::string>();
  job.config_path = vm["config"].as<std::string>();
  job.out_dir = vm["out"].as<std::string>();
  job.key_path = vm["key"].as<std::string>();
  job.full = vm.count("full") > 0;
  GRAFT_ASSIGN_OR_RETURN(job.base_dtype, ParseBaseDType(vm["base-dtype"].as<std::string>()));
  job.resume = vm.count("resume") > 0;
  if (vm.count("parent")) job.parent_dir = vm["parent"].as<std::string>();
  if (vm.count("policy")) {
    GRAFT_ASSIGN_OR_RETURN(Digest policy, ParseDigestHex(vm["policy"].as<std::string>()));
    job.policy_digest = DigestHex(policy);
  }
  job.stop = &g_stop;
  job.progress = &std::cerr;
  job.live = isatty(STDERR_FILENO) == 1;
  InstallStopHandlers();
  GRAFT_ASSIGN_OR_RETURN(trainer::TrainJobResult result, job.Run());
  const trainer::TrainSummary& s = result.summary;
  if (s.interrupted) {
    std::cerr << "graft: stopped at step " << s.steps << "/" << s.total_steps << "; checkpoint in "
              << result.partial_dir.string()
              << " (run the same command with --resume to continue)\n";
    return kExitInterrupted;
  }
  std::cout << result.dir.string() << " sha256:" << result.root_digest << "\n";
  return kExitOk;
}

static ModelRunnerRegistrar kTrainRunner("train", RunTrain);

}  // namespace
}  // namespace graft::cli

// `graft train`: LoRA or full fine-tuning of a base model into a signed adapter directory.

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

static GroupRegistrar kTrainGroup("train", "fine-tune a base model (LoRA, or --full)");

static CommandRegistrar kTrain({
    .group = "train",
    .verb = "",
    .summary = "Train a LoRA adapter (or with --full every parameter) on JSONL data; writes a PEFT "
               "directory (an HF model with --full) signed with model.sig and an SLSA provenance "
               "attestation (provenance.intoto.jsonl). Ctrl-C checkpoints and stops with exit code "
               "130 (128 + SIGINT, as a shell reports it); --resume continues to the same "
               "result.",
    .usage = "--base DIR --data FILE.jsonl --config FILE.yaml --out DIR --key KEYFILE",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()                                                                   //
              ("base", po::value<std::string>()->required(), "base model directory (HF layout)")  //
              ("data", po::value<std::string>()->required(),
               "training data: JSONL lines {\"text\"} or {\"prompt\", \"completion\"}")         //
              ("valid", po::value<std::string>(), "validation data (JSONL), for loss and bpb")  //
              ("config", po::value<std::string>()->required(), "training config (YAML)")        //
              ("out", po::value<std::string>()->required(),
               "output directory (must not exist; OUT.partial holds the run until it ends)")   //
              ("key", po::value<std::string>()->required(), "private key (PEM) to sign with")  //
              ("full", "train every parameter and write a full HF model directory")            //
              ("resume", "continue the interrupted run in OUT.partial")                        //
              ("parent", po::value<std::string>(),
               "continue training this PEFT adapter directory (same base, r, lora_alpha and "
               "target modules); it becomes the adapter's parent in provenance and lineage "
               "(graft adapter export REF --out DIR gives the directory of a registered one)")  //
              ("policy", po::value<std::string>(),
               "digest of the policy this run is trained under (recorded in provenance)");
        },
    .run = RunTrain,
});

}  // namespace
}  // namespace graft::cli


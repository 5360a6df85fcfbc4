// The runner of `graft train` (graft-model only; the options are in cli/train_cmd.cc).

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>

#include "cli/common.h"
#include "cli/data_parallel.h"
#include "core/sha256.h"
#include "distributed/group.h"
#include "policies/run_announcements.h"
#include "registry/vocabulary.h"
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

// --policy: a digest as given, else a REF resolved in the registry, which must exist then.
Result<std::string> PolicyDigest(const po::variables_map& vm) {
  const std::string ref = vm["policy"].as<std::string>();
  if (Result<Digest> digest = ParseDigestHex(ref); digest.ok()) return DigestHex(*digest);
  const std::filesystem::path dir = RegistryDir(vm);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return InvalidInput("--policy " + ref + " is not a digest, and there is no registry at " +
                        dir.string() + " to resolve it in (--registry DIR or GRAFT_REGISTRY)");
  }
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord policy, reg.Resolve(registry::kPolicyKind, ref));
  return policy.digest;
}

// Announces the run in the registry (a run.announce event signed by the trainer key) and returns
// what its provenance records: the event and its inclusion proof under the checkpoint after it.
// A key the registry does not trust as a trainer key, or a policy it does not hold, cannot
// announce: the run goes on unannounced (null), and says so.
Result<Json> Announce(const po::variables_map& vm, const trainer::TrainingProvenance& provenance) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(vm["key"].as<std::string>()));
  policies::RunPlan plan;
  plan.run_id = provenance.invocation_id;
  plan.config = provenance.config_sha256;
  plan.policy = provenance.policy.value_or("");
  for (const trainer::ResolvedDependency& d : provenance.dependencies) {
    if (d.name == "base") plan.base = d.sha256;
    if (d.name.starts_with("dataset:")) plan.datasets.push_back(d.sha256);
  }
  policies::RunAnnouncements announcements(reg);
  Result<policies::Announcement> announced = announcements.Announce(std::move(plan), key);
  const ErrorKind kind = announced.ok() ? ErrorKind::kInternal : announced.status().kind();
  if (kind == ErrorKind::kVerification || kind == ErrorKind::kNotFound) {
    std::cerr << "graft: not announcing the run in " << RegistryDir(vm).string() << ": "
              << announced.status().message() << " (the gate will report it as not announced)\n";
    return Json();
  }
  if (!announced.ok()) {
    return announced.status().WithContext(
        "announcing the run in " + RegistryDir(vm).string() +
        " (graft train --no-announce trains without announcing it)");
  }
  GRAFT_ASSIGN_OR_RETURN(policies::AnnouncementReference reference,
                         announcements.Reference(*announced));
  if (!Quiet()) {
    std::cerr << "graft: announced run " << announced->plan.run_id << " at event " << announced->seq
              << " in " << RegistryDir(vm).string() << "\n";
  }
  return reference.ToJson();
}

constexpr int kExitInterrupted = 130;  // as a shell reports a process stopped by SIGINT

Result<int> RunTrain(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(std::optional<int> launched, LaunchLocalWorkers(vm));
  if (launched) return *launched;
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<distributed::Group> group, JoinGroup());
  const bool leader = group == nullptr || group->leader();
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
    GRAFT_ASSIGN_OR_RETURN(job.policy_digest, PolicyDigest(vm));
  }
  if (vm.count("base-name-or-path")) {
    job.base_name_or_path = vm["base-name-or-path"].as<std::string>();
  }
  job.license = vm["license"].as<std::string>();
  job.stop = &g_stop;
  job.progress = leader && !Quiet() ? &std::cerr : nullptr;  // rank 0 speaks for the ranks
  job.live = isatty(STDERR_FILENO) == 1;
  job.group = group.get();
  // With a policy and a registry, the run is announced there before it starts (rank 0 only).
  std::error_code ec;
  if (vm.count("policy") && !vm.count("no-announce") &&
      std::filesystem::is_directory(RegistryDir(vm), ec)) {
    job.announce = [&vm](const trainer::TrainingProvenance& provenance) {
      return Announce(vm, provenance);
    };
  }
  InstallStopHandlers();
  GRAFT_ASSIGN_OR_RETURN(trainer::TrainJobResult result, job.Run());
  const trainer::TrainSummary& s = result.summary;
  if (s.interrupted) {
    if (!leader) return kExitInterrupted;
    std::cerr << "graft: stopped at step " << s.steps << "/" << s.total_steps << "; checkpoint in "
              << result.partial_dir.string()
              << " (run the same command with --resume to continue)\n";
    return kExitInterrupted;
  }
  if (!leader) return kExitOk;
  std::cout << result.dir.string() << " sha256:" << result.root_digest << "\n";
  return kExitOk;
}

static ModelRunnerRegistrar kTrainRunner("train", RunTrain);

}  // namespace
}  // namespace graft::cli

// `graft run announce|list`: training runs announced in the registry log before they start, and
// the announced runs under a policy (the candidates it has seen).
#include <iostream>

#include "cli/common.h"
#include "core/file_util.h"
#include "core/manifest.h"
#include "core/sha256.h"
#include "policies/run_announcements.h"
#include "registry/vocabulary.h"

namespace graft::cli {
namespace {

namespace fs = std::filesystem;

// A registered object's digest, or the digest of a local file (a dataset) or directory (a base).
Result<std::string> DigestOf(registry::Registry& reg, std::string_view kind,
                             const std::string& ref) {
  std::error_code error;
  if (kind == registry::kBaseKind && fs::is_directory(ref, error)) {
    GRAFT_ASSIGN_OR_RETURN(Manifest manifest, BuildManifest(ref));
    return manifest.RootDigestHex();
  }
  if (kind == registry::kDatasetKind && fs::is_regular_file(ref, error)) {
    GRAFT_ASSIGN_OR_RETURN(std::string bytes, ReadFile(ref));
    return Sha256Hex(bytes);
  }
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record, reg.Resolve(kind, ref));
  return record.digest;
}

Result<int> RunAnnounce(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  if (!vm.count("key")) return InvalidInput("announcing a run needs --key (a trainer key)");
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(vm["key"].as<std::string>()));
  policies::RunPlan plan;
  if (vm.count("run-id")) plan.run_id = vm["run-id"].as<std::string>();
  GRAFT_ASSIGN_OR_RETURN(plan.base, DigestOf(reg, "base", vm["base"].as<std::string>()));
  GRAFT_ASSIGN_OR_RETURN(plan.policy, DigestOf(reg, "policy", vm["policy"].as<std::string>()));
  for (const std::string& data : vm["data"].as<std::vector<std::string>>()) {
    GRAFT_ASSIGN_OR_RETURN(std::string digest, DigestOf(reg, "dataset", data));
    plan.datasets.push_back(std::move(digest));
  }
  if (vm.count("config")) {
    GRAFT_ASSIGN_OR_RETURN(std::string bytes, ReadFile(vm["config"].as<std::string>()));
    plan.config = Sha256Hex(bytes);
  }
  policies::RunAnnouncements announcements(reg);
  GRAFT_ASSIGN_OR_RETURN(policies::Announcement announced,
                         announcements.Announce(std::move(plan), key));
  if (WantsJson(vm)) {
    // "reference": what the run's provenance records to name this announcement.
    GRAFT_ASSIGN_OR_RETURN(policies::AnnouncementReference reference,
                           announcements.Reference(announced));
    Json out = announced.ToJson();
    out["reference"] = reference.ToJson();
    PrintJson(out);
  } else {
    std::cout << "announced run " << announced.plan.run_id << " at event " << announced.seq
              << " (policy " << ShortDigest(announced.plan.policy) << ", base "
              << ShortDigest(announced.plan.base) << ", " << announced.plan.datasets.size()
              << " dataset(s)); graft log prove " << announced.seq << " proves it\n";
  }
  return kExitOk;
}

Result<int> RunList(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  std::string policy;
  if (vm.count("policy")) {
    GRAFT_ASSIGN_OR_RETURN(policy, DigestOf(reg, "policy", vm["policy"].as<std::string>()));
  }
  GRAFT_ASSIGN_OR_RETURN(std::vector<policies::Announcement> runs,
                         policies::RunAnnouncements(reg).List(policy));
  if (WantsJson(vm)) {
    Json out = Json::array();
    for (const policies::Announcement& a : runs) out.push_back(a.ToJson());
    PrintJson({{"count", runs.size()}, {"runs", out}});
    return kExitOk;
  }
  for (const policies::Announcement& a : runs) {
    std::cout << a.seq << "  " << a.time << "  " << a.plan.run_id << "  policy "
              << ShortDigest(a.plan.policy) << "  by " << a.key_id.substr(0, 16) << "\n";
  }
  std::cout << runs.size() << " announced run(s)\n";
  return kExitOk;
}

GroupRegistrar kRunGroup("run", "Training runs announced in the log before they start");

CommandRegistrar kAnnounce({
    .group = "run",
    .verb = "announce",
    .summary = "Announce a training run (base, data, config, policy) before it starts",
    .usage = "--base REF|DIR --data REF|FILE... --policy REF [--config FILE] --key TRAINER.pem",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("base", po::value<std::string>()->required(),
                                "the base: a registered REF or its directory")(
              "data", po::value<std::vector<std::string>>()->required(),
              "training (and validation) data: registered REF or file (repeatable)")(
              "policy", po::value<std::string>()->required(), "the registered policy REF")(
              "config", po::value<std::string>(), "the training config file")(
              "run-id", po::value<std::string>(), "the run's id (default: 128 random bits)");
          AddSigningKeyOption(options, registry::kTrainerRole);
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunAnnounce,
});

CommandRegistrar kList({
    .group = "run",
    .verb = "list",
    .summary = "List announced runs (under a policy: the candidates it has seen)",
    .usage = "[--policy REF]",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("policy", po::value<std::string>(), "only runs under this policy");
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunList,
});

}  // namespace
}  // namespace graft::cli

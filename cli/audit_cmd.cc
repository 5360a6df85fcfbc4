// `graft audit verify`: recompute and cross-check everything in the registry; exit 12 on any
// discrepancy. Findings (channels serving revoked or retired adapters) are reported, not failed.
#include <iostream>

#include "cli/common.h"
#include "core/file_util.h"
#include "core/keys.h"
#include "policies/promotion_audit.h"
#include "registry/auditor.h"
#include "registry/cosignatures.h"
#include "registry/witness.h"

namespace graft::cli {
namespace {

Result<int> RunVerify(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  std::vector<registry::KeptCheckpoint> kept;
  if (vm.count("checkpoint")) {
    for (const std::string& path : vm["checkpoint"].as<std::vector<std::string>>()) {
      GRAFT_ASSIGN_OR_RETURN(std::string note, ReadFile(path, 1 << 20));
      kept.push_back({path, note});
    }
  }
  // Each witness's own kept checkpoint for this log (written by `graft log witness`).
  if (vm.count("witness-state")) {
    for (const std::string& dir : vm["witness-state"].as<std::vector<std::string>>()) {
      const std::filesystem::path file = registry::WitnessStateFile(dir, reg.origin());
      GRAFT_ASSIGN_OR_RETURN(std::string note, ReadFile(file, 1 << 20));
      kept.push_back({file.string(), note});
    }
  }
  // Cosigned checkpoints kept in the registry (graft log witness): checked like any kept one.
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::StoredCosignature> cosigned,
                         registry::Cosignatures(reg).List());
  for (registry::StoredCosignature& c : cosigned) {
    kept.push_back(
        {"the registry's cosignature by " + c.witness + " of size " + std::to_string(c.size),
         std::move(c.note)});
  }
  std::vector<PublicKey> witnesses;
  if (vm.count("witness")) {
    for (const std::string& path : vm["witness"].as<std::vector<std::string>>()) {
      GRAFT_ASSIGN_OR_RETURN(PublicKey key, PublicKey::LoadPem(path));
      witnesses.push_back(std::move(key));
    }
  }
  registry::Auditor auditor(reg);
  GRAFT_ASSIGN_OR_RETURN(registry::AuditReport report, auditor.Run(kept));
  GRAFT_RETURN_IF_ERROR(policies::PromotionAudit(reg).Run(report));
  registry::CheckWitnesses(witnesses, kept, report);
  if (WantsJson(vm)) {
    PrintJson(report.ToJson());
  } else {
    for (const auto& line : report.checked) std::cout << "checked: " << Printable(line) << "\n";
    for (const auto& line : report.notes) std::cout << "note:    " << Printable(line) << "\n";
    for (const auto& line : report.findings) std::cout << "FINDING: " << Printable(line) << "\n";
    for (const auto& line : report.problems) std::cout << "FAILED:  " << Printable(line) << "\n";
    const std::string findings =
        report.findings.empty()
            ? ""
            : " (" + std::to_string(report.findings.size()) +
                  " finding(s) to act on: roll the channel back, or run graft monitor)";
    std::cout << (report.ok() ? "audit passed" + findings + "\n"
                              : "audit FAILED: " + std::to_string(report.problems.size()) +
                                    " problem(s)" + findings + "\n");
  }
  return report.ok() ? kExitOk : kExitVerificationFailed;
}

GroupRegistrar kAuditGroup("audit", "Verify the registry: blobs, signatures, log, checkpoints");

CommandRegistrar kVerify({
    .group = "audit",
    .verb = "verify",
    .summary = "Recompute every digest, signature and tree hash; check kept checkpoints",
    .usage = "[--checkpoint FILE]... [--witness PUB --witness-state DIR]...",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("checkpoint,c", po::value<std::vector<std::string>>(),
                                "a checkpoint note kept earlier (repeatable)")(
              "witness", po::value<std::vector<std::string>>(),
              "a witness's public key: require a checkpoint it cosigned, consistent with the "
              "log (repeatable)")(
              "witness-state", po::value<std::vector<std::string>>(),
              "a witness's state directory: check the checkpoint it last cosigned (repeatable)");
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunVerify,
});

}  // namespace
}  // namespace graft::cli

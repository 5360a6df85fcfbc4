// `graft registry copy --from SRC --to DST`: a registry re-verified and replayed event by event
// into a fresh destination, with the same log root (registry/registry_copy.h).
#include <iostream>

#include "cli/common.h"
#include "policies/promotion_audit.h"
#include "registry/postgres_database.h"
#include "registry/registry_copy.h"

namespace graft::cli {
namespace {

// `graft audit verify`'s checks (without kept checkpoints or witnesses).
Result<registry::AuditReport> Audit(registry::Registry& reg) {
  GRAFT_ASSIGN_OR_RETURN(registry::AuditReport report, registry::Auditor(reg).Run());
  GRAFT_RETURN_IF_ERROR(policies::PromotionAudit(reg).Run(report));
  return report;
}

Result<int> RunCopy(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(
      registry::Registry source,
      registry::Registry::Open(vm["from"].as<std::string>(), {.snapshot = true}));
  const std::string dest = vm["to"].as<std::string>();
  GRAFT_ASSIGN_OR_RETURN(registry::CopyOutcome outcome,
                         registry::CopyRegistry(source, dest, Audit));
  const std::string shown =
      registry::Database::IsPostgresUri(dest) ? registry::RedactUri(dest) : dest;
  if (WantsJson(vm)) {
    PrintJson(outcome.ToJson());
  } else {
    std::cout << "copied " << outcome.events << " events, " << outcome.blobs << " blobs ("
              << outcome.bytes << " bytes) and " << outcome.checkpoints << " checkpoints to "
              << Printable(shown) << "\nlog root " << DigestHex(outcome.root) << " (log "
              << Printable(outcome.origin) << "), the same as the source's; the copy passes "
              << "its audit\n";
  }
  return kExitOk;
}

CommandRegistrar kCopy({
    .group = "registry",
    .verb = "copy",
    .summary = "Copy a registry by re-verifying and replaying every event into a new one (same "
               "log root; checkpoints of the source verify against the copy)",
    .usage = "--from SRC --to DST",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("from", po::value<std::string>()->required(),
                                "the registry to copy (a directory or a PostgreSQL URI)")(
              "to", po::value<std::string>()->required(),
              "the new registry: a directory (absent or empty), or a PostgreSQL URI of an empty "
              "database");
          AddJsonOption(options);
        },
    .run = RunCopy,
});

}  // namespace
}  // namespace graft::cli

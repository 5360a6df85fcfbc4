// `graft log witness --key WITNESS.pem --state DIR`: an auditor's cosignature on the registry's
// latest checkpoint, given only when it consistently extends the last one this witness cosigned.
#include <iostream>

#include "cli/common.h"
#include "core/keys.h"
#include "registry/cosignatures.h"
#include "registry/witness.h"

namespace graft::cli {
namespace {

Result<int> RunWitness(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(vm["key"].as<std::string>()));
  GRAFT_ASSIGN_OR_RETURN(registry::WitnessOutcome outcome,
                         registry::WitnessCheckpoint(reg, key, vm["state"].as<std::string>()));
  // Kept in the registry too, where `log checkpoint` and `audit verify --witness` find it; a
  // registry this witness may only read keeps it in the state directory alone.
  const bool stored = !reg.read_only();
  if (stored) {
    GRAFT_RETURN_IF_ERROR(registry::Cosignatures(reg)
                              .Add(key.public_key(), outcome.note)
                              .WithContext("keeping the cosignature in the registry (it is in " +
                                           outcome.written.string() + ")"));
  }
  if (WantsJson(vm)) {
    PrintJson({{"witness", registry::WitnessName(key.public_key())},
               {"origin", reg.origin()},
               {"previous_size", outcome.previous_size},
               {"size", outcome.size},
               {"note", outcome.note},
               {"state", outcome.written.string()},
               {"stored_in_registry", stored}});
    return kExitOk;
  }
  std::cout << "cosigned " << reg.origin() << " at size " << outcome.size << " as "
            << registry::WitnessName(key.public_key())
            << (outcome.previous_size == 0
                    ? std::string(" (first checkpoint this witness has seen)")
                    : " (consistent with size " + std::to_string(outcome.previous_size) +
                          ", cosigned earlier)")
            << "\n  kept in " << outcome.written.string()
            << (stored ? " and in the registry" : " (the registry is read-only here)") << "\n";
  return kExitOk;
}

CommandRegistrar kWitness({
    .group = "log",
    .verb = "witness",
    .summary = "Cosign the latest checkpoint as a witness, after checking it extends the last one",
    .usage = "--key WITNESS.pem --state DIR",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("key", po::value<std::string>()->required(),
                                "the witness's Ed25519 private key (PEM)")(
              "state", po::value<std::string>()->required(),
              "the witness's own directory: the last checkpoint it cosigned per log (keep it "
              "outside the registry)");
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunWitness,
});

}  // namespace
}  // namespace graft::cli

// `graft key trust|revoke|list`: the registry's trusted public keys, their roles and revocations.
#include <iostream>

#include "cli/common.h"
#include "core/keys.h"
#include "registry/vocabulary.h"

namespace graft::cli {
namespace {

Result<int> RunTrust(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(PublicKey key, PublicKey::LoadPem(vm["file"].as<std::string>()));
  std::string name = vm.count("name") ? vm["name"].as<std::string>() : "";
  GRAFT_ASSIGN_OR_RETURN(registry::KeyRecord record,
                         reg.TrustKey(key, vm["role"].as<std::string>(), name));
  if (WantsJson(vm)) {
    PrintJson(record.ToJson());
  } else {
    std::cout << "trusted " << record.key_id << " as " << record.role << "\n";
  }
  return kExitOk;
}

Result<int> RunRevoke(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(registry::KeyRecord record, reg.RevokeKey(vm["key_id"].as<std::string>(),
                                                                   vm["reason"].as<std::string>()));
  if (WantsJson(vm)) {
    PrintJson(record.ToJson());
  } else {
    std::cout << "revoked " << record.key_id << " at event " << *record.revoked_seq << "\n";
  }
  return kExitOk;
}

Result<int> RunList(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::KeyRecord> keys, reg.Keys());
  if (WantsJson(vm)) {
    Json out = Json::array();
    for (const auto& k : keys) out.push_back(k.ToJson());
    PrintJson(out);
    return kExitOk;
  }
  for (const auto& k : keys) {
    std::cout << k.key_id << "  " << k.role << "  " << k.algorithm << "  "
              << (k.name.empty() ? "-" : Printable(k.name))
              << (k.revoked_seq ? "  [REVOKED at event " + std::to_string(*k.revoked_seq) + ": " +
                                      Printable(k.revoke_reason) + "]"
                                : "")
              << "\n";
  }
  return kExitOk;
}

CommandRegistrar kTrust({
    .group = "key",
    .verb = "trust",
    .summary =
        "Trust a public key for a role (trainer, evaluator, approver, release, curator, admin)",
    .usage = "FILE.pub --role ROLE",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("file", po::value<std::string>()->required(), "public key PEM")(
              "role", po::value<std::string>()->required(),
              "trainer, evaluator, approver, release, curator or admin")(
              "name", po::value<std::string>(), "a human name for the key");
          positional.add("file", 1);
          AddSigningKeyOption(options, registry::kAdminRole);
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunTrust,
});

CommandRegistrar kRevoke({
    .group = "key",
    .verb = "revoke",
    .summary = "Revoke a trusted key (signatures logged after this fail audits)",
    .usage = "KEY_ID --reason TEXT",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("key_id", po::value<std::string>()->required(),
                                "key id or unique prefix")(
              "reason", po::value<std::string>()->required(), "why it is revoked");
          positional.add("key_id", 1);
          AddSigningKeyOption(options, registry::kAdminRole);
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunRevoke,
});

CommandRegistrar kList({
    .group = "key",
    .verb = "list",
    .summary = "List trusted keys, their roles and revocations",
    .usage = "",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunList,
});

}  // namespace
}  // namespace graft::cli

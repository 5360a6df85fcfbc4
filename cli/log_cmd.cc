// `graft log show|checkpoint|prove`: the registry's event log, signed checkpoints and Merkle
// proofs (`witness`: cli/log_witness_cmd.cc).
#include <iostream>

#include "cli/common.h"
#include "core/file_util.h"
#include "registry/cosignatures.h"
#include "registry/merkle_tree.h"

namespace graft::cli {
namespace {

Json HexList(const std::vector<Digest>& digests) {
  Json out = Json::array();
  for (const Digest& d : digests) out.push_back(DigestHex(d));
  return out;
}

Result<int> RunShow(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, reg.LogSize());
  uint64_t from = vm["from"].as<uint64_t>();
  uint64_t limit = vm["limit"].as<uint64_t>();
  Json out = Json::array();
  for (uint64_t seq = from; seq < size && seq - from < limit; ++seq) {
    GRAFT_ASSIGN_OR_RETURN(registry::Event event, reg.GetEvent(seq));
    if (WantsJson(vm)) {
      out.push_back(event.json);
      continue;
    }
    const Json& details = event.json["details"];
    std::cout << seq << "  " << Printable(event.json.value("time", "")) << "  "
              << Printable(event.json.value("action", "")) << "  "
              << Printable(event.json.value("actor", ""));
    if (details.contains("digest") && details["digest"].is_string()) {
      std::cout << "  sha256:" << Printable(details["digest"].get<std::string>());
    }
    if (details.contains("label") && details["label"].is_object()) {
      std::cout << "  " << Printable(details["label"].value("name", "")) << "@"
                << details["label"].value("version", 0);
    }
    if (details.contains("key_id") && details["key_id"].is_string()) {
      std::cout << "  key " << Printable(details["key_id"].get<std::string>());
    }
    std::cout << "\n";
  }
  if (WantsJson(vm)) PrintJson(out);
  return kExitOk;
}

Result<int> RunCheckpoint(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  GRAFT_ASSIGN_OR_RETURN(std::string note, reg.LatestCheckpoint());
  // With the witnesses' cosignature lines the registry keeps for it.
  registry::Cosignatures cosignatures(reg);
  GRAFT_ASSIGN_OR_RETURN(note, cosignatures.Merge(note));
  if (vm.count("cosigned")) {
    GRAFT_ASSIGN_OR_RETURN(std::optional<std::string> cosigned, cosignatures.LatestCosigned());
    if (!cosigned) {
      return NotFound("no witness has cosigned a checkpoint of this registry (graft log witness)");
    }
    note = std::move(*cosigned);
  }
  if (vm.count("out")) {
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(vm["out"].as<std::string>(), note));
    std::cerr << "wrote " << vm["out"].as<std::string>() << "\n";
  }
  if (WantsJson(vm)) {
    GRAFT_ASSIGN_OR_RETURN(registry::Checkpoint checkpoint, reg.VerifyCheckpoint(note));
    PrintJson({{"origin", checkpoint.origin},
               {"size", checkpoint.size},
               {"root", DigestHex(checkpoint.root)},
               {"note", note},
               {"public_key", reg.registry_key().ToPem()}});
  } else if (!vm.count("out")) {
    std::cout << note;
  }
  return kExitOk;
}

Result<int> RunProve(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  GRAFT_ASSIGN_OR_RETURN(uint64_t size, reg.LogSize());
  if (vm.count("size")) size = vm["size"].as<uint64_t>();
  GRAFT_ASSIGN_OR_RETURN(registry::InclusionProof latest, reg.ProveInclusion(0, size));
  Json out;
  bool verified = false;
  if (vm.count("consistency")) {
    uint64_t old_size = vm["consistency"].as<uint64_t>();
    GRAFT_ASSIGN_OR_RETURN(std::vector<Digest> proof, reg.ProveConsistency(old_size, size));
    GRAFT_ASSIGN_OR_RETURN(registry::InclusionProof old_tree,
                           old_size == 0
                               ? Result<registry::InclusionProof>(registry::InclusionProof{})
                               : reg.ProveInclusion(0, old_size));
    Digest old_root = old_size == 0 ? registry::MerkleEmptyRoot() : old_tree.root;
    verified = registry::VerifyConsistency(old_size, size, old_root, latest.root, proof);
    out = {{"old_size", old_size},
           {"old_root", DigestHex(old_root)},
           {"size", size},
           {"root", DigestHex(latest.root)},
           {"proof", HexList(proof)},
           {"verified", verified}};
  } else {
    if (!vm.count("event")) return InvalidInput("give an event SEQ or --consistency OLD_SIZE");
    GRAFT_ASSIGN_OR_RETURN(registry::InclusionProof proof,
                           reg.ProveInclusion(vm["event"].as<uint64_t>(), size));
    verified =
        registry::VerifyInclusion(proof.leaf_hash, proof.index, proof.size, proof.path, proof.root);
    GRAFT_ASSIGN_OR_RETURN(registry::Event event, reg.GetEvent(proof.index));
    out = {{"index", proof.index},
           {"size", proof.size},
           {"leaf_hash", DigestHex(proof.leaf_hash)},
           {"event", event.body},
           {"proof", HexList(proof.path)},
           {"root", DigestHex(proof.root)},
           {"verified", verified}};
  }
  if (WantsJson(vm)) {
    PrintJson(out);
  } else {
    for (const auto& [key, value] : out.items()) {
      std::cout << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump())
                << "\n";
    }
  }
  return verified ? kExitOk : kExitVerificationFailed;
}

GroupRegistrar kLogGroup("log", "The event log: show events, signed checkpoints, Merkle proofs");

CommandRegistrar kShow({
    .group = "log",
    .verb = "show",
    .summary = "Print events (seq, time, action, actor, digest)",
    .usage = "",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("from", po::value<uint64_t>()->default_value(0), "first seq")(
              "limit", po::value<uint64_t>()->default_value(UINT64_MAX), "at most this many");
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunShow,
});

CommandRegistrar kCheckpoint({
    .group = "log",
    .verb = "checkpoint",
    .summary = "Print (or save) the latest signed checkpoint, with the witnesses' cosignatures "
               "the registry keeps for it, to keep for later audits",
    .usage = "[--out FILE] [--cosigned]",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("out,o", po::value<std::string>(), "write the note to FILE")(
              "cosigned", "the latest checkpoint a witness cosigned instead of the latest one");
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunCheckpoint,
});

CommandRegistrar kProve({
    .group = "log",
    .verb = "prove",
    .summary = "Inclusion proof of an event, or consistency proof between two sizes",
    .usage = "SEQ | --consistency OLD_SIZE [--size N]",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("event", po::value<uint64_t>(), "event seq")(
              "consistency", po::value<uint64_t>(), "prove the tree of this size is a prefix")(
              "size", po::value<uint64_t>(), "tree size (default: the whole log)");
          positional.add("event", 1);
          AddRegistryOption(options);
          AddJsonOption(options);
        },
    .run = RunProve,
});

}  // namespace
}  // namespace graft::cli

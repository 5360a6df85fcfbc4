#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <optional>

#include "core/file_names.h"
#include "registry/auditor.h"
#include "registry/lineage.h"
#include "registry/merkle_tree.h"
#include "registry/schema.h"
#include "tests/integration/registry/registry_helpers.h"
#include "tests/support/registry_test_access.h"

namespace graft::registry {
namespace {
namespace fs = std::filesystem;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_P(RegistryTest, BaseRecordsArchitectureParametersAndFiles) {
  Json info = base_.Info();
  EXPECT_EQ(info["model_type"], "gpt2");
  // wte 16*8 + wpe 16*8 + 2 blocks * 872 + ln_f 16 (see ModelArchitecture).
  EXPECT_EQ(info["parameters"].get<int64_t>(), 128 + 128 + 2 * 872 + 16);
  EXPECT_EQ(base_.digest, testing::BaseDigest(Dir("tiny")));
  EXPECT_EQ(base_.labels, std::vector<std::string>{"tiny@1"});
  fs::path out = Dir("base-export");
  ASSERT_TRUE(registry_->ExportFiles(base_, out).ok());
  EXPECT_EQ(testing::HashTree(out), testing::HashTree(Dir("tiny")));
}

TEST_P(RegistryTest, SignedAdapterWithProvenanceIsAttestedWithLineage) {
  fs::path dir = MakeAdapter("a1");
  Result<ObjectRecord> adapter = registry_->RegisterAdapter(dir, {.name = "bot"});
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  EXPECT_EQ(adapter->digest, testing::AdapterDigest(dir));
  EXPECT_TRUE(adapter->attested);
  EXPECT_EQ(adapter->stage, "candidate");
  EXPECT_EQ(adapter->labels, std::vector<std::string>{"bot@1"});
  Json info = adapter->Info();
  EXPECT_EQ(info["r"], 2);
  EXPECT_EQ(info["lora_modules"], 2);
  EXPECT_EQ(info["lora_parameters"], 2 * (2 * 8 + 24 * 2));
  EXPECT_EQ(info["provenance"]["run_id"], "run-1");

  std::vector<Edge> edges = *registry_->EdgesFrom(adapter->digest);
  std::map<std::string, std::string> by_relation;
  for (const Edge& e : edges) by_relation[e.relation] = e.dst;
  EXPECT_EQ(by_relation["base"], base_.digest);
  EXPECT_EQ(by_relation["dataset"], dataset_.digest);
  EXPECT_EQ(by_relation["signed_by"], trainer_->key_id());
  std::vector<AttestationRecord> attestations = *registry_->Attestations(adapter->digest);
  ASSERT_EQ(attestations.size(), 2u);
  EXPECT_EQ(attestations[0].kind, "model-signature");
  EXPECT_EQ(attestations[1].kind, "provenance");
  EXPECT_EQ(attestations[1].key_ids, std::vector<std::string>{trainer_->key_id()});

  Lineage lineage = Lineage::Of(*registry_, adapter->digest).value();
  std::string text = lineage.ToText();
  EXPECT_TRUE(Contains(text, "base: base tiny@1 sha256:" + base_.digest)) << text;
  EXPECT_TRUE(Contains(text, "dataset: dataset train@1")) << text;
  EXPECT_TRUE(Contains(text, "signed_by: key alice (trainer)")) << text;
  EXPECT_TRUE(Contains(lineage.ToDot(), "\"" + adapter->digest + "\" -> \"" + base_.digest + "\""));
  Lineage uses = Lineage::Uses(*registry_, dataset_.digest).value();
  EXPECT_TRUE(uses.nodes().contains(adapter->digest));
  Lineage by_key = Lineage::Uses(*registry_, trainer_->key_id()).value();
  EXPECT_TRUE(by_key.nodes().contains(adapter->digest));

  AuditReport report = Auditor(*registry_).Run().value();
  EXPECT_TRUE(report.ok()) << report.ToJson().dump(2);
}

TEST_P(RegistryTest, SameDigestTwiceIsOneObjectAndNamesVersionPerName) {
  fs::path dir = MakeAdapter("a1");
  ObjectRecord first = registry_->RegisterAdapter(dir, {.name = "bot"}).value();
  uint64_t size = registry_->LogSize().value();
  ObjectRecord again = registry_->RegisterAdapter(dir, {.name = "bot"}).value();
  EXPECT_EQ(registry_->LogSize().value(), size);  // nothing new to log
  ObjectRecord relabel = registry_->RegisterAdapter(dir, {.name = "other"}).value();
  EXPECT_EQ(relabel.digest, first.digest);
  EXPECT_EQ(relabel.labels, (std::vector<std::string>{"bot@1", "other@1"}));
  EXPECT_EQ(registry_->Attestations(first.digest)->size(), 2u);

  ObjectRecord second =
      registry_->RegisterAdapter(MakeAdapter("a2", {.seed = 5}), {.name = "bot"}).value();
  EXPECT_NE(second.digest, first.digest);
  EXPECT_EQ(second.labels, std::vector<std::string>{"bot@2"});
  EXPECT_EQ(registry_->Resolve("adapter", "bot@1")->digest, first.digest);
  EXPECT_EQ(registry_->Resolve("adapter", "bot")->digest, second.digest);
  EXPECT_EQ(registry_->Resolve("adapter", "sha256:" + first.digest)->digest, first.digest);
  EXPECT_EQ(registry_->Resolve("adapter", first.digest.substr(0, 10))->digest, first.digest);
  EXPECT_EQ(registry_->Resolve("adapter", "bot@9").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(registry_->Resolve("dataset", "bot@1").status().kind(), ErrorKind::kNotFound);
  EXPECT_EQ(registry_->Resolve("base", first.digest).status().kind(), ErrorKind::kInvalidInput);
}

TEST_P(RegistryTest, AmbiguousDigestPrefixListsCandidates) {
  std::map<char, std::vector<std::string>> by_first;
  for (int i = 0; i < 40; ++i) {
    ObjectRecord d = MakeDataset("d" + std::to_string(i), "{\"i\": " + std::to_string(i) + "}\n");
    by_first[d.digest[0]].push_back(d.digest);
  }
  for (const auto& [first, digests] : by_first) {
    if (digests.size() < 2) continue;
    Result<ObjectRecord> r = registry_->Resolve("dataset", std::string(1, first));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_TRUE(Contains(r.status().message(), "ambiguous"));
    for (const auto& d : digests) EXPECT_TRUE(Contains(r.status().message(), d));
    return;
  }
  FAIL() << "40 digests with distinct first hex digits";
}

TEST_P(RegistryTest, FullDigestNotStoredIsNotFound) {
  Result<ObjectRecord> r = registry_->Resolve("", std::string(64, 'a'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kNotFound);
  EXPECT_TRUE(Contains(r.status().message(), std::string(64, 'a')));
}

TEST_P(RegistryTest, AdapterForAnotherBaseNamesTheBaseItFits) {
  ASSERT_TRUE(testing::WriteTinyGpt2Base(Dir("wide"), {.n_embd = 16}).ok());
  ObjectRecord wide = registry_->RegisterBase(Dir("wide"), "wide").value();
  fs::path dir = MakeAdapter("for-wide", {.n_embd = 16});
  Result<ObjectRecord> r = registry_->RegisterAdapter(dir, {.name = "x", .base_ref = "tiny"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(r.status().message(), "has shape [2, 16] but base tiny@1"))
      << r.status().message();
  EXPECT_TRUE(Contains(r.status().message(), "it fits base wide@1")) << r.status().message();
}

TEST_P(RegistryTest, ProvenanceNamingAnotherBaseIsRefused) {
  ASSERT_TRUE(testing::WriteTinyGpt2Base(Dir("twin"), {}, /*seed=*/3).ok());
  registry_->RegisterBase(Dir("twin"), "twin").value();
  fs::path dir = MakeAdapter("a1");
  Result<ObjectRecord> r = registry_->RegisterAdapter(dir, {.name = "x", .base_ref = "twin"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kVerification);
  EXPECT_TRUE(Contains(r.status().message(), "it names base sha256:" + base_.digest));
}

TEST_P(RegistryTest, UntrustedAndRevokedSignersAreRefused) {
  PrivateKey stranger = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  Result<ObjectRecord> r =
      registry_->RegisterAdapter(MakeAdapter("s", {}, &stranger), {.name = "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kVerification);
  EXPECT_TRUE(Contains(r.status().message(), "model.sig")) << r.status().message();

  KeyRecord revoked = registry_->RevokeKey(trainer_->key_id().substr(0, 12), "laptop lost").value();
  EXPECT_TRUE(revoked.revoked_seq.has_value());
  r = registry_->RegisterAdapter(MakeAdapter("t"), {.name = "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kVerification);
  EXPECT_TRUE(Contains(r.status().message(), "revoked at event")) << r.status().message();
  EXPECT_TRUE(Contains(r.status().message(), "laptop lost"));
  // A revoked key cannot be trusted again, and revoking twice is a conflict.
  EXPECT_EQ(registry_->TrustKey(trainer_->public_key(), "trainer", "again").status().kind(),
            ErrorKind::kConflict);
  EXPECT_EQ(registry_->RevokeKey(trainer_->key_id(), "again").status().kind(),
            ErrorKind::kConflict);
}

TEST_P(RegistryTest, UnattestedNeedsTheFlagAndIsMarked) {
  fs::path dir = Dir("plain");
  ASSERT_TRUE(testing::WriteLoraAdapter(dir).ok());
  Result<ObjectRecord> r = registry_->RegisterAdapter(dir, {.name = "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "--unattested"));
  ObjectRecord plain = registry_->RegisterAdapter(dir, {.name = "x", .unattested = true}).value();
  EXPECT_FALSE(plain.attested);
  EXPECT_TRUE(registry_->Attestations(plain.digest)->empty());
  EXPECT_TRUE(Contains(Lineage::Of(*registry_, plain.digest)->ToText(), "[UNATTESTED]"));
}

TEST_P(RegistryTest, PeftDirectoryWithExtraOrMissingFileIsRefused) {
  fs::path extra = MakeAdapter("extra");
  ASSERT_TRUE(WriteFileAtomic(extra / "notes.txt", "x").ok());
  Result<ObjectRecord> r = registry_->RegisterAdapter(extra, {.name = "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(r.status().message(), "unexpected file \"notes.txt\""));

  fs::path readme = MakeAdapter("readme");  // allowed name, but not covered by the signature
  ASSERT_TRUE(WriteFileAtomic(readme / "README.md", "added later").ok());
  r = registry_->RegisterAdapter(readme, {.name = "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kVerification);
  EXPECT_TRUE(Contains(r.status().message(), "README.md")) << r.status().message();

  fs::path missing = MakeAdapter("missing");
  fs::remove(missing / "adapter_model.safetensors");
  r = registry_->RegisterAdapter(missing, {.name = "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "missing adapter_model.safetensors"));
}

TEST_P(RegistryTest, BadAdapterConfigNamesFileAndField) {
  fs::path dir = MakeAdapter("cfg");
  ASSERT_TRUE(WriteFileAtomic(dir / "adapter_config.json",
                              R"({"peft_type": "LORA", "r": 0, "lora_alpha": 4,
                                  "target_modules": ["c_attn"]})")
                  .ok());
  Result<ObjectRecord> r = registry_->RegisterAdapter(dir, {.name = "x", .unattested = true});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "adapter_config.json: LoRA r must be in [1, 65536]"))
      << r.status().message();
}

// The registry reads adapter_config.json with the reader graft-model loads adapters with
// (formats/lora_config.h), so both take PEFT's reading of lora_alpha: 8 when absent (the registry
// used to refuse that), any number when present (it used to refuse 0 and negatives).
TEST_P(RegistryTest, AdapterConfigReadsLoraAlphaAsPeftDoes) {
  auto register_with = [&](const std::string& name, std::optional<double> alpha) {
    fs::path dir = Dir(name);
    EXPECT_TRUE(testing::WriteLoraAdapter(dir).ok());
    Json config = ParseJson(ReadFile(dir / kAdapterConfigFile).value(), "config").value();
    if (alpha) {
      config["lora_alpha"] = *alpha;
    } else {
      config.erase("lora_alpha");
    }
    EXPECT_TRUE(WriteFileAtomic(dir / kAdapterConfigFile, config.dump(2)).ok());
    return registry_->RegisterAdapter(dir, {.name = name, .unattested = true});
  };
  Result<ObjectRecord> absent = register_with("no-alpha", std::nullopt);
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_EQ(absent->Info()["lora_alpha"].get<double>(), 8.0);
  EXPECT_EQ(absent->Info()["adapter_config"].contains("lora_alpha"), false);  // stored as written
  Result<ObjectRecord> negative = register_with("negative-alpha", -4.0);
  ASSERT_TRUE(negative.ok()) << negative.status().ToString();
  EXPECT_EQ(negative->Info()["lora_alpha"].get<double>(), -4.0);

  fs::path dir = Dir("string-alpha");
  ASSERT_TRUE(testing::WriteLoraAdapter(dir).ok());
  Json config = ParseJson(ReadFile(dir / kAdapterConfigFile).value(), "config").value();
  config["lora_alpha"] = "16";
  ASSERT_TRUE(WriteFileAtomic(dir / kAdapterConfigFile, config.dump(2)).ok());
  Result<ObjectRecord> r = registry_->RegisterAdapter(dir, {.name = "s", .unattested = true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(
      Contains(r.status().message(), "adapter_config.json: field \"lora_alpha\" must be a number"))
      << r.status().message();
}

TEST_P(RegistryTest, DatasetMustBeJsonlOfObjects) {
  ASSERT_TRUE(WriteFileAtomic(Dir("bad.jsonl"), "{\"a\": 1}\n[1, 2]\n").ok());
  Result<ObjectRecord> r = registry_->RegisterDataset(Dir("bad.jsonl"), "bad");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "bad.jsonl:2: expected a JSON object"));
  ASSERT_TRUE(WriteFileAtomic(Dir("broken.jsonl"), "{\"a\": 1}\n{\"b\": \n").ok());
  r = registry_->RegisterDataset(Dir("broken.jsonl"), "bad");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status().message(), "broken.jsonl:2"));
}

TEST_P(RegistryTest, ExportReverifiesAndRefusesRevokedOrAlteredAdapters) {
  fs::path dir = MakeAdapter("a1");
  ObjectRecord adapter = registry_->RegisterAdapter(dir, {.name = "bot"}).value();
  Status exported = registry_->ExportFiles(adapter, Dir("out"));
  ASSERT_TRUE(exported.ok()) << exported.ToString();
  EXPECT_EQ(testing::HashTree(Dir("out")), testing::HashTree(dir));
  EXPECT_EQ(registry_->ExportFiles(adapter, Dir("out")).kind(), ErrorKind::kInvalidInput);

  // Alter the weights blob: the export fails and leaves nothing behind.
  std::string weights;
  for (const auto& [path, digest] : testing::HashTree(dir)) {
    if (path == "adapter_model.safetensors") weights = digest;
  }
  AlterBlobByte(weights, 100, '\x7f');
  Status altered = registry_->ExportFiles(adapter, Dir("out2"));
  EXPECT_EQ(altered.kind(), ErrorKind::kVerification);
  EXPECT_FALSE(fs::exists(Dir("out2")));

  ObjectRecord revoked = registry_->RevokeObject("adapter", "bot@1", "bad outputs").value();
  Status refused = registry_->ExportFiles(revoked, Dir("out3"));
  EXPECT_EQ(refused.kind(), ErrorKind::kConflict);
  EXPECT_TRUE(Contains(refused.message(), "bad outputs"));
}

TEST_P(RegistryTest, ARevokedDependencyBlocksExportButNotAVerifiedCopy) {
  ObjectRecord adapter = registry_->RegisterAdapter(MakeAdapter("a1"), {.name = "bot"}).value();
  EXPECT_TRUE(registry_->Revocations(adapter)->empty());
  ObjectRecord dataset = registry_->RevokeObject("dataset", dataset_.digest, "licence").value();
  std::vector<Revocation> revocations = registry_->Revocations(adapter).value();
  ASSERT_EQ(revocations.size(), 1u);
  EXPECT_EQ(revocations[0].relation, "dataset");
  EXPECT_EQ(revocations[0].id, dataset_.digest);
  EXPECT_EQ(revocations[0].Describe(), "dataset sha256:" + dataset_.digest + " revoked at event " +
                                           std::to_string(*dataset.revoked_seq) + ": licence");
  Status refused = registry_->ExportFiles(adapter, Dir("out"));
  EXPECT_EQ(refused.kind(), ErrorKind::kConflict);
  EXPECT_TRUE(Contains(refused.message(), "dataset sha256:" + dataset_.digest))
      << refused.ToString();
  EXPECT_FALSE(fs::exists(Dir("out")));
  ASSERT_TRUE(registry_->WriteVerifiedFiles(adapter, Dir("copy")).ok());
  EXPECT_TRUE(fs::exists(Dir("copy") / "adapter_model.safetensors"));

  // The signing key, in every role it has, and through a parent adapter.
  registry_->RevokeKey(trainer_->key_id(), "leaked").value();
  revocations = registry_->Revocations(adapter).value();
  ASSERT_EQ(revocations.size(), 2u);
  EXPECT_EQ(revocations[1].relation, "signed_by");
  EXPECT_TRUE(Contains(revocations[1].Describe(), "signed_by key " + trainer_->key_id()));
}

TEST_P(RegistryTest, RevocationsFollowParentAdapters) {
  ObjectRecord parent = registry_->RegisterAdapter(MakeAdapter("a1"), {.name = "bot"}).value();
  fs::path child_dir = Dir("child");
  testing::LoraShape shape;
  shape.seed = 7;
  ASSERT_TRUE(testing::WriteLoraAdapter(child_dir, shape).ok());
  testing::ProvenanceInputs inputs;
  inputs.base_digest = base_.digest;
  inputs.parent_digest = parent.digest;
  ASSERT_TRUE(testing::WriteProvenance(child_dir, *trainer_, inputs).ok());
  ASSERT_TRUE(testing::SignAdapter(child_dir, *trainer_).ok());
  ObjectRecord child = registry_->RegisterAdapter(child_dir, {.name = "bot"}).value();
  registry_->RevokeObject("dataset", dataset_.digest, "licence").value();
  std::vector<Revocation> revocations = registry_->Revocations(child).value();
  ASSERT_EQ(revocations.size(), 1u);
  EXPECT_EQ(revocations[0].relation, "parent/dataset");
}

TEST_P(RegistryTest, AtomicallyCommitsEveryChangeOrNone) {
  ObjectRecord adapter = registry_->RegisterAdapter(MakeAdapter("a1"), {.name = "bot"}).value();
  uint64_t size = registry_->LogSize().value();
  std::map<std::string, std::string> before = testing::HashTree(root_);
  ASSERT_TRUE(WriteFileAtomic(Dir("new.jsonl"), "{\"new\": 1}\n").ok());
  Status failed = registry_->Atomically([&]() -> Status {
    GRAFT_RETURN_IF_ERROR(registry_->SetChannel("bot@production", adapter.digest, "promote"));
    GRAFT_RETURN_IF_ERROR(registry_->RegisterDataset(Dir("new.jsonl"), "new").status());
    EXPECT_EQ(registry_->Resolve("adapter", "bot@production")->digest, adapter.digest);
    return Conflict("stop");
  });
  EXPECT_EQ(failed.kind(), ErrorKind::kConflict);
  EXPECT_EQ(testing::HashTree(root_), before);  // no row, no event, no blob, no checkpoint

  // A failed part that the body handles is undone alone; the rest commits with one checkpoint.
  ASSERT_TRUE(registry_
                  ->Atomically([&]() -> Status {
                    GRAFT_RETURN_IF_ERROR(
                        registry_->SetChannel("bot@production", adapter.digest, "promote"));
                    Status missing = registry_->SetChannel("bot@canary", "00", "nothing");
                    EXPECT_EQ(missing.kind(), ErrorKind::kNotFound);
                    return registry_->SetStage(adapter.digest, "production", "promoted");
                  })
                  .ok());
  EXPECT_EQ(registry_->LogSize().value(), size + 2);
  EXPECT_EQ(registry_->Get(adapter.digest)->stage, "production");
  EXPECT_EQ(registry_->Channels()->size(), 1u);
  Checkpoint latest = registry_->VerifyCheckpoint(registry_->LatestCheckpoint().value()).value();
  EXPECT_EQ(latest.size, size + 2);
  AuditReport report = Auditor(*registry_).Run().value();
  EXPECT_TRUE(report.ok()) << report.ToJson().dump(2);
}

TEST_P(RegistryTest, InclusionAndConsistencyProofsVerifyAgainstCheckpoints) {
  for (int i = 0; i < 12; ++i)
    MakeDataset("p" + std::to_string(i), "{\"n\": " + std::to_string(i) + "}\n");
  uint64_t size = registry_->LogSize().value();
  Checkpoint latest = registry_->VerifyCheckpoint(registry_->LatestCheckpoint().value()).value();
  EXPECT_EQ(latest.size, size);
  for (uint64_t seq = 0; seq < size; ++seq) {
    InclusionProof proof = registry_->ProveInclusion(seq).value();
    EXPECT_TRUE(VerifyInclusion(proof.leaf_hash, seq, size, proof.path, latest.root)) << seq;
  }
  for (uint64_t old_size = 1; old_size <= size; ++old_size) {
    Digest old_root = registry_->ProveInclusion(0, old_size)->root;
    std::vector<Digest> proof = registry_->ProveConsistency(old_size, size).value();
    EXPECT_TRUE(VerifyConsistency(old_size, size, old_root, latest.root, proof)) << old_size;
  }
  EXPECT_FALSE(registry_->ProveConsistency(1, size + 1).ok());
}

TEST_P(RegistryTest, StagesChannelsAndGenericEventsAreLoggedAndAudited) {
  ObjectRecord adapter = registry_->RegisterAdapter(MakeAdapter("a1"), {.name = "bot"}).value();
  ASSERT_TRUE(registry_->SetStage(adapter.digest, "staging", "gate passed").ok());
  EXPECT_EQ(registry_->Get(adapter.digest)->stage, "staging");
  EXPECT_EQ(registry_->SetStage(adapter.digest, "limbo", "").kind(), ErrorKind::kInvalidInput);
  ASSERT_TRUE(registry_->SetChannel("bot@production", adapter.digest, "promote").ok());
  EXPECT_EQ(registry_->Resolve("adapter", "bot@production")->digest, adapter.digest);
  EXPECT_EQ(registry_->ChannelHistory("bot@production")->size(), 1u);
  EXPECT_EQ(registry_->SetChannel("production", adapter.digest, "").kind(),
            ErrorKind::kInvalidInput);
  EXPECT_TRUE(registry_->AppendEvent("gate.run", {{"adapter", adapter.digest}}).ok());
  EXPECT_EQ(registry_->AppendEvent("adapter.register", {}).status().kind(),
            ErrorKind::kInvalidInput);
  EXPECT_EQ(registry_->AppendEvent("NoDot", {}).status().kind(), ErrorKind::kInvalidInput);
  AuditReport report = Auditor(*registry_).Run().value();
  EXPECT_TRUE(report.ok()) << report.ToJson().dump(2);
}

TEST_P(RegistryTest, AttestationsAreVerifiedAgainstTheRole) {
  PrivateKey evaluator = PrivateKey::Generate(KeyAlgorithm::kEcdsaP256).value();
  DsseEnvelope envelope =
      DsseSign(
          kInTotoPayloadType,
          R"({"_type":"https://in-toto.io/Statement/v1","predicateType":"https://in-toto.io/attestation/test-result/v0.1","predicate":{},"subject":[{"name":"a","digest":{"sha256":")" +
              base_.digest + R"("}}]})",
          {&evaluator})
          .value();
  EXPECT_EQ(
      registry_->AddAttestation("evaluation", envelope, base_.digest, "evaluator").status().kind(),
      ErrorKind::kVerification);
  registry_->TrustKey(evaluator.public_key(), "evaluator", "ci").value();
  AttestationRecord a = registry_
                            ->AddAttestation("evaluation", envelope, base_.digest, "evaluator",
                                             {{"", "suite", dataset_.digest}})
                            .value();
  EXPECT_EQ(a.predicate_type, "https://in-toto.io/attestation/test-result/v0.1");
  EXPECT_EQ(a.digest, Sha256Hex(envelope.Serialize()));
  EXPECT_EQ(registry_->LoadAttestation(a.digest)->payload, envelope.payload);
  EXPECT_EQ(registry_->EdgesFrom(a.digest)->front().dst, dataset_.digest);
  AuditReport report = Auditor(*registry_).Run().value();
  EXPECT_TRUE(report.ok()) << report.ToJson().dump(2);
}

// A database written by a graft with schema version 1 (objects_by_kind instead of
// objects_listing) is migrated on open: listing uses the new index, the audit still passes.
TEST_P(RegistryTest, Version1DatabaseIsMigratedForwardOnOpen) {
  ObjectRecord adapter = registry_->RegisterAdapter(MakeAdapter("a1"), {.name = "bot"}).value();
  registry_.reset();
  Sql("DROP INDEX objects_listing; CREATE INDEX objects_by_kind ON objects(kind, created_seq);"
      "DROP TABLE adapter_tags; DROP TABLE adapter_descriptions; DROP TABLE cosignatures");
  SetSchemaVersion(1);
  registry_.emplace(Registry::Open(root_).value());
  EXPECT_EQ(SchemaVersion(RegistryTestAccess::db(*registry_)).value(), LatestSchemaVersion());
  EXPECT_EQ(LatestSchemaVersion(), kCosignaturesSchema);
  EXPECT_TRUE(
      SchemaDifferences(RegistryTestAccess::db(*registry_), LatestSchemaVersion())->empty());
  if (!postgres()) {  // SQLite's own account of the index and the plan
    Statement indexes =
        RegistryTestAccess::db(*registry_)
            .Prepare(
                "SELECT group_concat(name) FROM sqlite_master WHERE type = 'index' AND "
                "tbl_name = 'objects' AND name IN ('objects_by_kind', 'objects_listing')")
            .value();
    ASSERT_TRUE(indexes.Step().value());
    EXPECT_EQ(indexes.Text(0), "objects_listing");
    Statement plan = RegistryTestAccess::db(*registry_)
                         .Prepare(
                             "EXPLAIN QUERY PLAN SELECT o.digest, o.stage FROM objects o "
                             "WHERE o.kind = 'adapter' ORDER BY o.created_seq")
                         .value();
    ASSERT_TRUE(plan.Step().value());
    EXPECT_TRUE(Contains(plan.Text(3), "COVERING INDEX objects_listing")) << plan.Text(3);
  }
  std::vector<ObjectRecord> listed =
      registry_->List({.kind = "adapter", .with_info = false}).value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].digest, adapter.digest);
  EXPECT_EQ(listed[0].labels, std::vector<std::string>{"bot@1"});
  EXPECT_EQ(listed[0].info, "");
  EXPECT_EQ(registry_->List({.kind = "adapter"})->at(0).info, adapter.info);
  AuditReport report = Auditor(*registry_).Run().value();
  EXPECT_TRUE(report.ok()) << report.ToJson().dump(2);
}

TEST_P(RegistryTest, OpenRefusesNonRegistriesAndNewerSchemas) {
  EXPECT_EQ(Registry::Open(Dir("nowhere")).status().kind(), ErrorKind::kNotFound);
  fs::create_directories(Dir("empty"));
  Result<Registry> empty = Registry::Open(Dir("empty"));
  EXPECT_EQ(empty.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(empty.status().message(), "is not a graft registry"));
  fs::create_directories(Dir("junk"));
  ASSERT_TRUE(WriteFileAtomic(Dir("junk") / "registry.db", std::string(5000, 'j')).ok());
  Result<Registry> junk = Registry::Open(Dir("junk"));
  EXPECT_EQ(junk.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(Registry::Init(root_).status().kind(), ErrorKind::kConflict);

  SetSchemaVersion(99);
  registry_.reset();
  Result<Registry> newer = Registry::Open(root_);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(newer.status().message(), "schema version 99, newer than this graft"));
}

TEST_P(RegistryTest, LineageEscapesControlCharactersInLabels) {
  // Key names are not restricted to label syntax: one with a newline must not forge a line.
  PrivateKey odd = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  ASSERT_TRUE(registry_->TrustKey(odd.public_key(), "trainer", "odd\nbase: forged").ok());
  ObjectRecord adapter =
      registry_->RegisterAdapter(MakeAdapter("odd", {}, &odd), {.name = "x"}).value();
  Lineage lineage = Lineage::Of(*registry_, adapter.digest).value();
  const std::string text = lineage.ToText();
  EXPECT_FALSE(Contains(text, "\nbase: forged")) << text;
  EXPECT_TRUE(Contains(text, "odd\\nbase: forged")) << text;
  EXPECT_FALSE(Contains(lineage.ToDot(), "odd\nbase")) << lineage.ToDot();
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace
}  // namespace graft::registry

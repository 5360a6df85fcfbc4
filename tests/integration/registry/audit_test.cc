#include <gtest/gtest.h>

#include <fstream>

#include "core/manifest.h"
#include "core/oms_signature.h"
#include "registry/auditor.h"
#include "tests/integration/registry/registry_helpers.h"
#include "tests/support/registry_test_access.h"

namespace graft::registry {
namespace {
namespace fs = std::filesystem;

class AuditTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    adapter_ = registry_->RegisterAdapter(MakeAdapter("a1"), {.name = "bot"}).value();
    for (int i = 0; i < 5; ++i)
      MakeDataset("d" + std::to_string(i), "{\"i\": " + std::to_string(i) + "}\n");
    ASSERT_TRUE(Auditor(*registry_).Run()->ok());
  }
  // Runs the audit and expects a failure whose problems mention `expected`.
  void ExpectProblem(const std::string& expected, const std::vector<KeptCheckpoint>& kept = {}) {
    AuditReport report = Auditor(*registry_).Run(kept).value();
    ASSERT_FALSE(report.ok()) << "audit passed; expected: " << expected;
    bool found = false;
    for (const auto& p : report.problems) found = found || p.find(expected) != std::string::npos;
    EXPECT_TRUE(found) << "no problem mentions \"" << expected << "\" in\n"
                       << report.ToJson().dump(2);
  }
  ObjectRecord adapter_;
};

TEST_P(AuditTest, ChangedBlobByteIsNamed) {
  AlterBlobByte(dataset_.digest, 2, 'X');
  ExpectProblem("blob sha256:" + dataset_.digest + " does not match its digest");
}

TEST_P(AuditTest, DeletedBlobIsNamed) {
  DeleteBlob(dataset_.digest);
  ExpectProblem("blob sha256:" + dataset_.digest + " is missing");
}

TEST_P(AuditTest, EditedRowIsNamed) {
  Sql("UPDATE objects SET info = replace(info, '\"records\":1', '\"records\":9') WHERE digest = '" +
      dataset_.digest + "'");
  ExpectProblem("table objects: row [\"" + dataset_.digest);
  Sql("UPDATE keys SET revoked_seq = NULL");  // harmless; then edit a label
  Sql("UPDATE labels SET digest = '" + dataset_.digest + "' WHERE name = 'bot'");
  ExpectProblem("table labels");
}

TEST_P(AuditTest, DeletedEventIsNamed) {
  Sql("DELETE FROM events WHERE seq = 3");
  ExpectProblem("event 3 missing");
}

TEST_P(AuditTest, ReorderedEventsAreNamed) {
  Sql("UPDATE events SET seq = seq + 1000 WHERE seq IN (4, 5);"
      "UPDATE events SET seq = 5 WHERE seq = 1004; UPDATE events SET seq = 4 WHERE seq = 1005");
  ExpectProblem("event row 4 holds the body of event 5 (events reordered or edited)");
  ExpectProblem("event row 5 holds the body of event 4");
}

TEST_P(AuditTest, SwappedEventBodiesAreNamed) {
  Sql("CREATE TEMP TABLE t AS SELECT seq, body FROM events WHERE seq IN (6, 7);"
      "UPDATE events SET body = (SELECT body FROM t WHERE seq = 7) WHERE seq = 6;"
      "UPDATE events SET body = (SELECT body FROM t WHERE seq = 6) WHERE seq = 7;");
  ExpectProblem("event row 6 holds the body of event 7 (events reordered or edited)");
  ExpectProblem("event 6 does not match its stored leaf hash");
}

TEST_P(AuditTest, CheckpointFromRewrittenHistoryIsNamed) {
  std::string kept = registry_->LatestCheckpoint().value();
  ASSERT_TRUE(Auditor(*registry_).Run({{"kept.note", kept}})->ok());
  // Rewrite history with the registry's own key: drop the last event and append another one,
  // re-signing every checkpoint; only a checkpoint kept outside the registry can tell.
  uint64_t size = registry_->LogSize().value();
  Sql("DELETE FROM events WHERE seq = " + std::to_string(size - 1) +
      "; DELETE FROM merkle_nodes; DELETE FROM checkpoints;"
      "DELETE FROM labels WHERE name = 'd4'; DELETE FROM objects WHERE info LIKE '%d4.jsonl%';"
      "DELETE FROM blobs WHERE digest NOT IN (SELECT blob FROM object_files) AND digest NOT IN "
      "(SELECT digest FROM objects) AND digest NOT IN (SELECT digest FROM attestations)");
  {
    // Rebuild the stored tree for the shortened log, then append a different event.
    Database& db = RegistryTestAccess::db(*registry_);
    ASSERT_TRUE(
        db.Exec("CREATE TEMP TABLE copy AS SELECT seq, body FROM events; DELETE FROM events").ok());
    Statement rows = db.Prepare("SELECT body FROM copy ORDER BY seq").value();
    std::vector<Json> bodies;
    while (*rows.Step()) bodies.push_back(ParseJson(rows.Text(0), "copy").value());
    for (const Json& body : bodies) {
      EventLog log(db);
      ASSERT_TRUE(log.Append(body["action"].get<std::string>(), body["actor"].get<std::string>(),
                             body["details"], body["time"].get<std::string>())
                      .ok());
    }
  }
  AppendRaw("note.added", {{"text", "a different history"}});
  ExpectProblem("checkpoint kept.note: its root for size " + std::to_string(size) +
                    " is not the log's (the history was rewritten)",
                {{"kept.note", kept}});
}

TEST_P(AuditTest, CheckpointBeyondTheLogIsNamed) {
  std::string kept = registry_->LatestCheckpoint().value();
  MakeDataset("later", "{\"later\": true}\n");
  ASSERT_TRUE(Auditor(*registry_).Run({{"kept.note", kept}})->ok());
  Sql("DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)");
  ExpectProblem("covers", {{"later.note", registry_->LatestCheckpoint().value()}});
}

TEST_P(AuditTest, SignatureByRevokedKeyAfterRevocationIsNamed) {
  PrivateKey evaluator = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  registry_->TrustKey(evaluator.public_key(), "evaluator", "ci").value();
  KeyRecord revoked = registry_->RevokeKey(evaluator.key_id(), "compromised").value();
  DsseEnvelope envelope = DsseSign("application/vnd.graft.test", "late", {&evaluator}).value();
  std::string serialized = envelope.Serialize();
  std::string digest = RegistryTestAccess::blobs(*registry_).Put(serialized).value();
  AppendRaw("attestation.add", {{"digest", digest},
                                {"kind", "evaluation"},
                                {"subject", adapter_.digest},
                                {"predicate_type", "x"},
                                {"key_ids", {evaluator.key_id()}},
                                {"blobs", {{{"digest", digest}, {"size", serialized.size()}}}}});
  ExpectProblem("signed by key " + evaluator.key_id() + ", which was revoked at event " +
                std::to_string(*revoked.revoked_seq));
}

TEST_P(AuditTest, FileRowPointingAtAnotherBlobIsNamed) {
  Sql("UPDATE object_files SET blob = '" + dataset_.digest + "' WHERE object = '" +
      adapter_.digest + "' AND path = 'adapter_model.safetensors'");
  ExpectProblem("adapter bot@1 (sha256:" + adapter_.digest.substr(0, 16) +
                "): the root digest of its file rows is sha256:");
  ExpectProblem("model.sig and the stored files differ: changed: adapter_model.safetensors");
}

// A writer holding the registry key logs an adapter whose weights row names another blob, with
// the root digest recomputed over its rows (so the object row, the log, the tree, the checkpoints
// and the blobs are all consistent) and the trainer's genuine model.sig of the real files. Only
// the per-file digests model.sig signs can tell, and the audit names the file.
TEST_P(AuditTest, FileBlobThatIsNotTheSignedOneIsNamedWhenTheRootRowIsConsistent) {
  testing::LoraShape shape;
  shape.seed = 2;
  fs::path genuine = MakeAdapter("a2", shape);
  shape.seed = 3;
  fs::path other = MakeAdapter("a3", shape);  // its weights, never registered
  Json files = Json::array();
  Json blobs = Json::array();
  Manifest rows;
  for (const std::string path : {"adapter_config.json", "adapter_model.safetensors"}) {
    fs::path source = path == "adapter_model.safetensors" ? other / path : genuine / path;
    std::string bytes = ReadFile(source).value();
    std::string blob = RegistryTestAccess::blobs(*registry_).Put(bytes).value();
    files.push_back({{"path", path}, {"blob", blob}, {"size", bytes.size()}});
    blobs.push_back({{"digest", blob}, {"size", bytes.size()}});
    rows.entries.push_back({path, ParseDigestHex(blob).value(), bytes.size()});
  }
  std::string forged = rows.RootDigestHex();
  OmsBundle bundle = OmsBundle::Parse(ReadFile(genuine / "model.sig").value(), "model.sig").value();
  std::string envelope = bundle.envelope.Serialize();
  std::string signature = RegistryTestAccess::blobs(*registry_).Put(envelope).value();
  blobs.push_back({{"digest", signature}, {"size", envelope.size()}});
  AppendRaw("adapter.register", {{"digest", forged},
                                 {"info", adapter_.Info()},
                                 {"attested", 1},
                                 {"stage", "candidate"},
                                 {"files", files},
                                 {"blobs", blobs},
                                 {"label", {{"name", "forged"}, {"version", 1}}}});
  AppendRaw("attestation.add", {{"digest", signature},
                                {"kind", "model-signature"},
                                {"subject", forged},
                                {"predicate_type", kOmsPredicateType},
                                {"key_ids", {trainer_->key_id()}}});
  AuditReport report = Auditor(*registry_).Run().value();
  EXPECT_EQ(report.problems.size(), 3u) << report.ToJson().dump(2);
  // The registration names no trainer key as its actor (the replay of signed changes).
  ExpectProblem(
      "adapter.register: attested registration by key intruder@host was not trusted "
      "as trainer");
  ExpectProblem("adapter forged@1 (sha256:" + forged.substr(0, 16) + "): model.sig signs sha256:" +
                testing::AdapterDigest(genuine) + ", not this adapter");
  ExpectProblem("model.sig and the stored files differ: changed: adapter_model.safetensors");
}

TEST_P(AuditTest, ChannelServingARevokedOrRetiredAdapterIsAFindingNotAFailure) {
  ASSERT_TRUE(registry_->SetChannel("bot@production", adapter_.digest, "promote").ok());
  ObjectRecord dataset = registry_->RevokeObject("dataset", dataset_.digest, "licence").value();
  AuditReport report = Auditor(*registry_).Run().value();
  EXPECT_TRUE(report.ok()) << report.ToJson().dump(2);
  ASSERT_EQ(report.findings.size(), 1u) << report.ToJson().dump(2);
  EXPECT_EQ(report.findings[0],
            "channel bot@production serves bot@1 (sha256:" + adapter_.digest.substr(0, 16) +
                "), whose dataset sha256:" + dataset_.digest + " revoked at event " +
                std::to_string(*dataset.revoked_seq) + ": licence");
  ASSERT_TRUE(registry_->SetStage(adapter_.digest, "retired", "drift").ok());
  report = Auditor(*registry_).Run().value();
  ASSERT_EQ(report.findings.size(), 2u);
  EXPECT_NE(report.findings[1].find("which is retired"), std::string::npos) << report.findings[1];
  EXPECT_EQ(report.ToJson()["findings"].size(), 2u);
}

TEST_P(AuditTest, ReportListsWhatWasChecked) {
  AuditReport report = Auditor(*registry_).Run().value();
  ASSERT_TRUE(report.ok());
  std::string all = report.ToJson()["checked"].dump();
  for (const char* part :
       {"events", "Merkle tree", "stored checkpoints", "tables", "blobs re-hashed",
        "directory objects", "attestation signatures", "channels"}) {
    EXPECT_NE(all.find(part), std::string::npos) << part;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace
}  // namespace graft::registry

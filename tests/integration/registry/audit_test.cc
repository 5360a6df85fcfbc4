#include <gtest/gtest.h>

#include <fstream>

#include "registry/auditor.h"
#include "tests/integration/registry/registry_helpers.h"

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
  fs::path BlobOf(const std::string& digest) { return registry_->blobs().PathFor(digest).value(); }
  ObjectRecord adapter_;
};

TEST_F(AuditTest, ChangedBlobByteIsNamed) {
  fs::path blob = BlobOf(dataset_.digest);
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  std::fstream(blob, std::ios::in | std::ios::out | std::ios::binary).seekp(2).put('X');
  ExpectProblem("blob sha256:" + dataset_.digest + " does not match its digest");
}

TEST_F(AuditTest, DeletedBlobIsNamed) {
  fs::remove(BlobOf(dataset_.digest));
  ExpectProblem("blob sha256:" + dataset_.digest + " is missing");
}

TEST_F(AuditTest, EditedRowIsNamed) {
  Sql("UPDATE objects SET info = replace(info, '\"records\":1', '\"records\":9') WHERE digest = '" +
      dataset_.digest + "'");
  ExpectProblem("table objects: row [\"" + dataset_.digest);
  Sql("UPDATE keys SET revoked_seq = NULL");  // harmless; then edit a label
  Sql("UPDATE labels SET digest = '" + dataset_.digest + "' WHERE name = 'bot'");
  ExpectProblem("table labels");
}

TEST_F(AuditTest, DeletedEventIsNamed) {
  Sql("DELETE FROM events WHERE seq = 3");
  ExpectProblem("event 3 missing");
}

TEST_F(AuditTest, ReorderedEventsAreNamed) {
  Sql("UPDATE events SET seq = seq + 1000 WHERE seq IN (4, 5);"
      "UPDATE events SET seq = 5 WHERE seq = 1004; UPDATE events SET seq = 4 WHERE seq = 1005");
  ExpectProblem("event row 4 holds the body of event 5 (events reordered or edited)");
  ExpectProblem("event row 5 holds the body of event 4");
}

TEST_F(AuditTest, SwappedEventBodiesAreNamed) {
  Sql("CREATE TEMP TABLE t AS SELECT seq, body FROM events WHERE seq IN (6, 7);"
      "UPDATE events SET body = (SELECT body FROM t WHERE seq = 7) WHERE seq = 6;"
      "UPDATE events SET body = (SELECT body FROM t WHERE seq = 6) WHERE seq = 7;");
  ExpectProblem("event row 6 holds the body of event 7 (events reordered or edited)");
  ExpectProblem("event 6 does not match its stored leaf hash");
}

TEST_F(AuditTest, CheckpointFromRewrittenHistoryIsNamed) {
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
    Database& db = registry_->db();
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

TEST_F(AuditTest, CheckpointBeyondTheLogIsNamed) {
  std::string kept = registry_->LatestCheckpoint().value();
  MakeDataset("later", "{\"later\": true}\n");
  ASSERT_TRUE(Auditor(*registry_).Run({{"kept.note", kept}})->ok());
  Sql("DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)");
  ExpectProblem("covers", {{"later.note", registry_->LatestCheckpoint().value()}});
}

TEST_F(AuditTest, SignatureByRevokedKeyAfterRevocationIsNamed) {
  PrivateKey evaluator = PrivateKey::Generate(KeyAlgorithm::kEd25519).value();
  registry_->TrustKey(evaluator.public_key(), "evaluator", "ci").value();
  KeyRecord revoked = registry_->RevokeKey(evaluator.key_id(), "compromised").value();
  DsseEnvelope envelope = DsseSign("application/vnd.graft.test", "late", {&evaluator}).value();
  std::string serialized = envelope.Serialize();
  std::string digest = registry_->blobs().Put(serialized).value();
  AppendRaw("attestation.add", {{"digest", digest},
                                {"kind", "evaluation"},
                                {"subject", adapter_.digest},
                                {"predicate_type", "x"},
                                {"key_ids", {evaluator.key_id()}},
                                {"blobs", {{{"digest", digest}, {"size", serialized.size()}}}}});
  ExpectProblem("signed by key " + evaluator.key_id() + ", which was revoked at event " +
                std::to_string(*revoked.revoked_seq));
}

TEST_F(AuditTest, ReportListsWhatWasChecked) {
  AuditReport report = Auditor(*registry_).Run().value();
  ASSERT_TRUE(report.ok());
  std::string all = report.ToJson()["checked"].dump();
  for (const char* part : {"events", "Merkle tree", "stored checkpoints", "tables",
                           "blobs re-hashed", "attestation signatures"}) {
    EXPECT_NE(all.find(part), std::string::npos) << part;
  }
}

}  // namespace
}  // namespace graft::registry

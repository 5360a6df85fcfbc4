#include "tests/integration/registry/registry_helpers.h"

#include <cstdio>
#include <fstream>

#include "registry/checkpoint.h"
#include "registry/event_log.h"
#include "registry/projection.h"
#include "registry/registry_key.h"
#include "registry/transaction.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/registry_test_access.h"

namespace graft::registry {
namespace fs = std::filesystem;

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kPostgres ? "Postgres" : "Sqlite";
}

void RegistryTest::SetUp() {
  root_ = Dir("registry");
  if (postgres()) {
    testing::PostgresCluster& cluster = testing::PostgresCluster::Shared();
    ASSERT_TRUE(cluster.running()) << cluster.error();
    root_ = cluster.CreateDatabase();
    ASSERT_FALSE(root_.empty()) << "cannot create a database";
  }
  Result<Registry> created = Registry::Init(root_);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  registry_.emplace(std::move(created).value());
  trainer_ = std::make_unique<PrivateKey>(PrivateKey::Generate(KeyAlgorithm::kEd25519).value());
  ASSERT_TRUE(registry_->TrustKey(trainer_->public_key(), "trainer", "alice").ok());
  ASSERT_TRUE(testing::WriteTinyGpt2Base(Dir("tiny")).ok());
  Result<ObjectRecord> base = registry_->RegisterBase(Dir("tiny"), "tiny");
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  base_ = *base;
  dataset_ = MakeDataset("train", "{\"text\": \"hello\"}\n");
}

ObjectRecord RegistryTest::MakeDataset(const std::string& name, const std::string& file_text) {
  fs::path file = Dir(name + ".jsonl");
  EXPECT_TRUE(WriteFileAtomic(file, file_text).ok());
  Result<ObjectRecord> dataset = registry_->RegisterDataset(file, name);
  EXPECT_TRUE(dataset.ok()) << dataset.status().ToString();
  return dataset.ok() ? *dataset : ObjectRecord{};
}

fs::path RegistryTest::MakeAdapter(const std::string& name, testing::LoraShape shape,
                                   const PrivateKey* signer) {
  fs::path dir = Dir(name);
  if (signer == nullptr) signer = trainer_.get();
  EXPECT_TRUE(testing::WriteLoraAdapter(dir, shape).ok());
  testing::ProvenanceInputs inputs;
  inputs.base_digest = base_.digest;
  inputs.dataset_digests = {dataset_.digest};
  EXPECT_TRUE(testing::WriteProvenance(dir, *signer, inputs).ok());
  EXPECT_TRUE(testing::SignAdapter(dir, *signer).ok());
  return dir;
}

void RegistryTest::AppendRaw(const std::string& action, const Json& details) {
  Database& db = RegistryTestAccess::db(*registry_);
  Transaction transaction = Transaction::Begin(db).value();
  EventLog log(db);
  Result<Event> event = log.Append(action, "intruder@host", details);
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  ASSERT_TRUE(Projection(db).Apply(*event).ok());
  PrivateKey key = LoadRegistryKey(root_, registry_->registry_key().key_id()).value();
  uint64_t size = log.Size().value();
  std::string note = Checkpoint{registry_->origin(), size, log.RootHash(size).value()}
                         .Sign(registry_->origin(), key)
                         .value();
  ASSERT_TRUE(db.Run("INSERT INTO checkpoints(size, note) VALUES(?, ?)", size, note).ok());
  ASSERT_TRUE(transaction.Commit().ok());
}

void RegistryTest::Sql(const std::string& sql) {
  Result<Database> db =
      postgres() ? Database::Connect(root_.string()) : Database::Open(root_ / kDatabaseFile);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Status status = db->Exec(sql);
  ASSERT_TRUE(status.ok()) << status.ToString();
}

void RegistryTest::AlterBlobByte(const std::string& digest, size_t offset, char byte) {
  if (postgres()) {
    char hex[3];
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned char>(byte));
    Sql("UPDATE blob_chunks SET data = overlay(data placing '\\x" + std::string(hex) +
        "'::bytea from " + std::to_string(offset + 1) + ") WHERE digest = '" + digest +
        "' AND idx = 0");
    return;
  }
  fs::path blob = RegistryTestAccess::blobs(*registry_).PathFor(digest).value();
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  std::fstream(blob, std::ios::in | std::ios::out | std::ios::binary).seekp(offset).put(byte);
}

void RegistryTest::DeleteBlob(const std::string& digest) {
  if (postgres()) {
    Sql("DELETE FROM blob_chunks WHERE digest = '" + digest +
        "'; DELETE FROM blob_contents WHERE digest = '" + digest + "'");
    return;
  }
  fs::remove(RegistryTestAccess::blobs(*registry_).PathFor(digest).value());
}

void RegistryTest::SetSchemaVersion(int version) {
  Sql(postgres() ? "UPDATE graft_schema SET version = " + std::to_string(version)
                 : "PRAGMA user_version = " + std::to_string(version));
}

}  // namespace graft::registry

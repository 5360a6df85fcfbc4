// `graft registry copy` between backends: a directory or a PostgreSQL registry replayed into a
// directory or a PostgreSQL database, with the same root, checkpoints and blobs; a refused or
// failed copy leaves the destination as it was.
#include <gtest/gtest.h>

#include "registry/auditor.h"
#include "registry/registry_copy.h"
#include "tests/integration/registry/registry_helpers.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/registry_test_access.h"

namespace graft::registry {
namespace {
namespace fs = std::filesystem;

Result<AuditReport> Audit(Registry& registry) { return Auditor(registry).Run(); }

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int Relations(const std::string& uri) { return testing::PostgresCluster::Shared().Relations(uri); }

class RegistryCopyTest : public RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (HasFatalFailure()) return;
    Result<ObjectRecord> adapter = registry_->RegisterAdapter(MakeAdapter("a1"), {.name = "bot"});
    ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
    adapter_ = *adapter;
    note_ = registry_->LatestCheckpoint().value();
    ASSERT_TRUE(registry_->SetStage(adapter_.digest, "staging", "gated").ok());
  }
  Registry Source() { return Registry::Open(root_, {.snapshot = true}).value(); }
  std::string NewDatabase() { return testing::PostgresCluster::Shared().CreateDatabase(); }
  // The copy at `dest` has the source's log, root, checkpoints and blobs, and passes its audit.
  void ExpectSameRegistry(const fs::path& dest, const CopyOutcome& outcome) {
    Registry copy = Registry::Open(dest, {.snapshot = true}).value();
    Registry source = Source();
    const uint64_t size = source.LogSize().value();
    EXPECT_EQ(outcome.events, size);
    EXPECT_EQ(copy.LogSize().value(), size);
    EXPECT_EQ(DigestHex(outcome.root), DigestHex(source.LogRoot(size).value()));
    EXPECT_EQ(DigestHex(copy.LogRoot(size).value()), DigestHex(outcome.root));
    EXPECT_EQ(copy.origin(), source.origin());
    // A checkpoint kept from the source before the last change verifies against the copy.
    Result<Checkpoint> kept = copy.VerifyCheckpoint(note_);
    ASSERT_TRUE(kept.ok()) << kept.status().ToString();
    EXPECT_EQ(DigestHex(kept->root), DigestHex(copy.LogRoot(kept->size).value()));
    EXPECT_EQ(copy.LatestCheckpoint().value(), source.LatestCheckpoint().value());
    Result<AuditReport> audit = Audit(copy);
    ASSERT_TRUE(audit.ok()) << audit.status().ToString();
    EXPECT_TRUE(audit->ok()) << (audit->problems.empty() ? "" : audit->problems.front());
    EXPECT_EQ(copy.Get(adapter_.digest).value().stage, "staging");
    const fs::path out = Dir("export-" + std::to_string(++exports_));
    ASSERT_TRUE(copy.ExportFiles(copy.Get(adapter_.digest).value(), out).ok());
    EXPECT_EQ(ReadFile(out / "adapter_model.safetensors").value(),
              ReadFile(Dir("a1") / "adapter_model.safetensors").value());
  }

  ObjectRecord adapter_;
  std::string note_;
  int exports_ = 0;
};

TEST_P(RegistryCopyTest, CopiesToADatabaseAndBackToADirectoryWithTheSameRoot) {
  Registry source = Source();
  const std::string database = NewDatabase();
  Result<CopyOutcome> to_database = CopyRegistry(source, database, Audit);
  ASSERT_TRUE(to_database.ok()) << to_database.status().ToString();
  EXPECT_GE(to_database->blobs, 5u);
  EXPECT_GT(to_database->bytes, 1000u);
  ExpectSameRegistry(database, *to_database);

  Registry from_database = Registry::Open(database, {.snapshot = true}).value();
  Result<CopyOutcome> back = CopyRegistry(from_database, Dir("back"), Audit);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->bytes, to_database->bytes);
  ExpectSameRegistry(Dir("back"), *back);

  // A database to a database, too.
  const std::string again = NewDatabase();
  Result<CopyOutcome> database_to_database = CopyRegistry(from_database, again, Audit);
  ASSERT_TRUE(database_to_database.ok()) << database_to_database.status().ToString();
  ExpectSameRegistry(again, *database_to_database);
}

TEST_P(RegistryCopyTest, RefusesForeignAndRegistryDatabasesTouchingNothing) {
  Registry source = Source();
  testing::PostgresCluster& cluster = testing::PostgresCluster::Shared();
  const std::string foreign = NewDatabase();
  ASSERT_EQ(cluster.Psql(foreign, "CREATE TABLE invoices(id int)").exit_code, 0);
  Result<CopyOutcome> onto_foreign = CopyRegistry(source, foreign, Audit);
  EXPECT_EQ(onto_foreign.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_TRUE(Contains(onto_foreign.status().message(), "not an empty database"))
      << onto_foreign.status().message();
  EXPECT_EQ(Relations(foreign), 1);

  const std::string registry = NewDatabase();
  const uint64_t size = Registry::Init(registry).value().LogSize().value();
  Result<CopyOutcome> onto_registry = CopyRegistry(source, registry, Audit);
  EXPECT_EQ(onto_registry.status().kind(), ErrorKind::kConflict);
  EXPECT_TRUE(Contains(onto_registry.status().message(), "already a graft registry"))
      << onto_registry.status().message();
  EXPECT_EQ(Registry::Open(registry).value().LogSize().value(), size);

  // A copy whose final audit fails (here: made to fail) drops what it wrote.
  const std::string dropped = NewDatabase();
  int audits = 0;
  Result<CopyOutcome> failed =
      CopyRegistry(source, dropped, [&](Registry& r) -> Result<AuditReport> {
        if (++audits == 1) return Audit(r);
        return IoError("the copy's audit was cut short");
      });
  EXPECT_EQ(audits, 2);
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(Relations(dropped), 0);
  // ... and the database takes a copy afterwards.
  Result<CopyOutcome> retried = CopyRegistry(source, dropped, Audit);
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  ExpectSameRegistry(dropped, *retried);
}

TEST_P(RegistryCopyTest, ATamperedBlobStopsTheCopyBeforeAnythingIsWritten) {
  Statement files = RegistryTestAccess::db(*registry_)
                        .Prepare(
                            "SELECT blob FROM object_files WHERE object = ? AND path = "
                            "'adapter_model.safetensors'")
                        .value();
  ASSERT_TRUE(files.Bind(1, adapter_.digest).ok());
  ASSERT_TRUE(files.Step().value());
  const std::string weights = files.Text(0);
  AlterBlobByte(weights, 10, 'x');
  Registry source = Source();
  const std::string database = NewDatabase();
  Result<CopyOutcome> to_database = CopyRegistry(source, database, Audit);
  EXPECT_EQ(to_database.status().kind(), ErrorKind::kVerification);
  EXPECT_TRUE(Contains(to_database.status().message(), weights)) << to_database.status().message();
  EXPECT_EQ(Relations(database), 0);
  Result<CopyOutcome> to_directory = CopyRegistry(source, Dir("copy"), Audit);
  EXPECT_EQ(to_directory.status().kind(), ErrorKind::kVerification);
  EXPECT_FALSE(fs::exists(Dir("copy")));

  // The blob store itself refuses to hand out or copy the altered bytes (the copy streams each
  // blob through CopyFrom, which re-hashes it), leaving nothing behind.
  Registry fresh = Registry::Init(Dir("fresh")).value();
  Result<uint64_t> copied =
      RegistryTestAccess::blobs(fresh).CopyFrom(RegistryTestAccess::blobs(source), weights);
  EXPECT_EQ(copied.status().kind(), ErrorKind::kVerification);
  EXPECT_FALSE(RegistryTestAccess::blobs(fresh).Has(weights));
  EXPECT_EQ(RegistryTestAccess::blobs(source).WriteFile(weights, Dir("out.bin")).status().kind(),
            ErrorKind::kVerification);
  EXPECT_FALSE(fs::exists(Dir("out.bin")));
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryCopyTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace
}  // namespace graft::registry

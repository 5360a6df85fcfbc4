// The three places that rebuild a directory object's identity from its stored files — the export
// (Registry::WriteVerifiedFiles), the adapter report's "adapter files" row and the audit — share
// one reading of "identity_ignore" and of path order (Registry::VerifyStoredFiles,
// registry/object_identity.h), so they reach the same verdict on the same rows.
#include <gtest/gtest.h>

#include "core/file_names.h"
#include "registry/auditor.h"
#include "report_builder/adapter_report_builder.h"
#include "tests/integration/report_builder/report_registry_helpers.h"
#include "tests/support/peft_fixture.h"
#include "tests/support/registry_test_access.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

// Each caller's verdict on the adapter's stored files: true when they are the adapter's.
struct Verdicts {
  bool verify = false;  // Registry::VerifyStoredFiles
  bool exported = false;
  bool report = false;
  bool audit = false;  // no root-digest problem for the adapter
  std::string detail;  // what each said, for failure messages
};

class StoredFilesAgreementTest : public ReportRegistryTest {
 protected:
  // `object` is `adapter` or its base; the report's row for it is `row`.
  Verdicts VerdictsOn(const registry::ObjectRecord& object, const registry::ObjectRecord& adapter,
                      const std::string& row_name) {
    Verdicts v;
    registry::StoredFilesVerdict verdict = registry_->VerifyStoredFiles(object).value();
    v.verify = verdict.ok();
    v.detail = "verify: " + verdict.problem;
    Status exported = registry_->WriteVerifiedFiles(object, Dir("out-" + std::to_string(++outs_)));
    v.exported = exported.ok();
    v.detail += "; export: " + exported.ToString();
    reports::AdapterReportData report =
        report_builder::AdapterReportBuilder(*registry_).Build(adapter.digest).value();
    for (const reports::VerificationRow& row : report.verification) {
      if (row.check != row_name) continue;
      v.report = row.ok;
      v.detail += "; report: " + row.detail;
    }
    registry::AuditReport audit = registry::Auditor(*registry_).Run().value();
    v.audit = true;
    for (const std::string& problem : audit.problems) {
      if (problem.find("root digest of its file rows") == std::string::npos) continue;
      v.audit = false;
      v.detail += "; audit: " + problem;
    }
    return v;
  }
  Verdicts VerdictsOn(const registry::ObjectRecord& adapter) {
    return VerdictsOn(adapter, adapter, "adapter files");
  }

  // Points the adapter's row for `path` at another stored blob (the dataset's).
  void RepointRow(const registry::ObjectRecord& adapter, const std::string& path) {
    registry::Database& db = registry::RegistryTestAccess::db(*registry_);
    ASSERT_TRUE(db.Run("UPDATE object_files SET blob = ?, size = (SELECT size FROM blobs WHERE "
                       "digest = ?) WHERE object = ? AND path = ?",
                       dataset_.digest, dataset_.digest, adapter.digest, path)
                    .ok());
  }

  // The adapter after its info is set to the SQL expression `info` (over the old info).
  registry::ObjectRecord RewriteInfo(const registry::ObjectRecord& adapter,
                                     const std::string& info) {
    EXPECT_TRUE(registry::RegistryTestAccess::db(*registry_)
                    .Run("UPDATE objects SET info = " + info + " WHERE digest = ?", adapter.digest)
                    .ok());
    return registry_->Get(adapter.digest).value();
  }

  int outs_ = 0;
};

void ExpectAll(const Verdicts& v, bool accepted) {
  EXPECT_EQ(v.verify, accepted) << v.detail;
  EXPECT_EQ(v.exported, accepted) << v.detail;
  EXPECT_EQ(v.report, accepted) << v.detail;
  EXPECT_EQ(v.audit, accepted) << v.detail;
}

TEST_F(StoredFilesAgreementTest, UntouchedSignedAdapterIsAcceptedByEach) {
  ExpectAll(VerdictsOn(Train(1, policy_.digest)), true);
}

TEST_F(StoredFilesAgreementTest, ChangedRowOfAFileInIdentityIgnoreIsAcceptedByEach) {
  registry::ObjectRecord adapter = Train(1, policy_.digest);
  RepointRow(adapter, std::string(kSignatureFile));
  ExpectAll(VerdictsOn(adapter), true);
}

TEST_F(StoredFilesAgreementTest, ChangedRowOfAnIdentityFileIsRefusedByEach) {
  registry::ObjectRecord adapter = Train(1, policy_.digest);
  RepointRow(adapter, "adapter_config.json");
  ExpectAll(VerdictsOn(adapter), false);
}

TEST_F(StoredFilesAgreementTest, NonStringEntriesOfIdentityIgnoreAreSkippedByEach) {
  registry::ObjectRecord adapter = Train(1, policy_.digest);
  adapter =
      RewriteInfo(adapter, "replace(info, '\"identity_ignore\":[', '\"identity_ignore\":[5,')");
  ASSERT_TRUE(adapter.Info()["identity_ignore"][0].is_number()) << adapter.info;
  ExpectAll(VerdictsOn(adapter), true);
}

TEST_F(StoredFilesAgreementTest, IdentityIgnoreThatIsNotAListIgnoresNothingForEach) {
  registry::ObjectRecord adapter = Train(1, policy_.digest);
  // A single string would have been read as a one-entry list by two of the former readings.
  adapter = RewriteInfo(adapter, "json_set(info, '$.identity_ignore', 'model.sig')");
  ASSERT_TRUE(adapter.Info()["identity_ignore"].is_string()) << adapter.info;
  ExpectAll(VerdictsOn(adapter), false);
}

TEST_F(StoredFilesAgreementTest, BaseFilesInOmsOrderNotByteOrderAreAcceptedByEach) {
  // "notes/a.txt" comes before "notes-a.txt" component by component (OMS), after it byte by byte
  // (the order of the rows).
  const fs::path dir = Dir("ordered");
  ASSERT_TRUE(WriteTinyGpt2Base(dir).ok());
  fs::create_directories(dir / "notes");
  ASSERT_TRUE(WriteFileAtomic(dir / "notes" / "a.txt", "inside\n").ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "notes-a.txt", "beside\n").ok());
  Result<registry::ObjectRecord> base = registry_->RegisterBase(dir, "ordered");
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  const fs::path adapter_dir = Dir("adapter");
  ASSERT_TRUE(WriteLoraAdapter(adapter_dir).ok());
  Result<registry::ObjectRecord> adapter = registry_->RegisterAdapter(
      adapter_dir, {.name = "on-ordered", .base_ref = "ordered", .unattested = true});
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  ExpectAll(VerdictsOn(*base, *adapter, "base files"), true);
}

}  // namespace
}  // namespace graft::testing

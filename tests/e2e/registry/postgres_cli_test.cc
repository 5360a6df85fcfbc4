// The graft command on a PostgreSQL registry (GRAFT_REGISTRY / --registry as a libpq URI), on a
// throwaway cluster.
#include <gtest/gtest.h>

#include "core/json.h"
#include "tests/e2e/registry/registry_cli_helpers.h"
#include "tests/support/postgres_cluster.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class PostgresCli : public RegistryCliTest {
 protected:
  void SetUp() override {
    PostgresCluster& cluster = PostgresCluster::Shared();
    ASSERT_TRUE(cluster.running()) << cluster.error();
    reg_ = cluster.CreateDatabase();
    ASSERT_FALSE(reg_.empty());
    CliResult init = Run({"init", reg_});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    init_out_ = init.out;
  }
};

TEST_F(PostgresCli, InitPrintsTheRolesAndTheLifecycleRunsAsOnADirectory) {
  EXPECT_TRUE(Has(init_out_, "GRANT INSERT ON")) << init_out_;
  EXPECT_TRUE(Has(init_out_,
                  "GRANT UPDATE ON objects, keys, channels, adapter_tags, adapter_descriptions, "
                  "cosignatures TO graft_writer"))
      << init_out_;
  EXPECT_FALSE(Has(init_out_, PostgresCluster::kPassword)) << init_out_;
  EXPECT_TRUE(Has(init_out_, ":***@127.0.0.1")) << init_out_;

  std::string key = TrainerKey("alice");
  std::string base = Base();
  std::string dir = SignedAdapter("a1", key, base);
  CliResult reg =
      RunGraft({"adapter", "register", dir, "--name", "bot"}, {{"GRAFT_REGISTRY", reg_}});
  ASSERT_EQ(reg.exit_code, 0) << reg.err;
  EXPECT_TRUE(Has(reg.out, "bot@1 [candidate]")) << reg.out;
  std::string digest = AdapterDigest(dir);
  CliResult list = Run({"adapter", "list", "--base", "tiny", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(ParseJson(list.out, "list").value()[0]["digest"], "sha256:" + digest);
  CliResult dot = Run({"lineage", "bot@1", "--format", "dot"});
  ASSERT_EQ(dot.exit_code, 0) << dot.err;
  EXPECT_TRUE(Has(dot.out, "\"" + digest + "\" -> \"" + base + "\" [label=\"base\"]"));
  // Blobs come back out of the database byte for byte; a kept checkpoint verifies.
  EXPECT_EQ(Run({"adapter", "export", "bot", "--out", Path("exported")}).exit_code, 0);
  EXPECT_EQ(HashTree(Path("exported")), HashTree(dir));
  const std::string note = Path("kept.note");
  EXPECT_EQ(Run({"log", "checkpoint", "--out", note}).exit_code, 0);
  EXPECT_EQ(ParseJson(Run({"log", "prove", "3", "--json"}).out, "prove").value()["verified"], true);
  CliResult audit = Run({"audit", "verify", "--checkpoint", note});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_TRUE(Has(audit.out, "audit passed")) << audit.out;

  // gc has no files to look at (blobs are rows): a "sha256" folder in the working directory is
  // not taken for a blob store.
  fs::create_directories(Path("work/sha256/ab"));
  ASSERT_TRUE(WriteFileAtomic(Path("work/sha256/ab/cdef"), "mine").ok());
  CliResult gc = RunGraft({"registry", "gc", "--apply", "--registry", reg_}, {}, Path("work"));
  EXPECT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_TRUE(fs::exists(Path("work/sha256/ab/cdef")));
  // An administrator's UPDATE of a blob is found by the audit (exit 12).
  PostgresCluster& cluster = PostgresCluster::Shared();
  ASSERT_EQ(cluster
                .Psql(reg_,
                      "UPDATE blob_chunks SET data = overlay(data placing '\\x00'::bytea "
                      "from 1) WHERE idx = 0 AND digest IN (SELECT blob FROM object_files "
                      "WHERE path = 'adapter_model.safetensors')")
                .exit_code,
            0);
  CliResult tampered = Run({"audit", "verify"});
  EXPECT_EQ(tampered.exit_code, 12) << tampered.out << tampered.err;
  EXPECT_TRUE(Has(tampered.out, "does not match its digest")) << tampered.out;
}

TEST_F(PostgresCli, BadUrisAndForeignDatabasesExitTwoWritingNothing) {
  PostgresCluster& cluster = PostgresCluster::Shared();
  struct Case {
    std::string uri, message;
  };
  const std::string foreign = cluster.CreateDatabase();
  ASSERT_EQ(cluster.Psql(foreign, "CREATE TABLE invoices(id int)").exit_code, 0);
  for (const Case& c : std::vector<Case>{
           {"postgresql://graft@[::1/x", "malformed PostgreSQL URI"},
           {"postgresql://graft@127.0.0.1:notaport/x", "invalid integer value \"notaport\""},
           {cluster.Uri("postgres", "graft", "wrong"), "password authentication failed"},
           {cluster.Uri("missing_db"), "missing_db"},
           {foreign, "has no graft schema"},
       }) {
    CliResult r = RunGraft({"adapter", "list", "--registry", c.uri});
    EXPECT_EQ(r.exit_code, 2) << c.uri << ": " << r.err;
    EXPECT_TRUE(Has(r.err, c.message)) << r.err;
    EXPECT_FALSE(Has(r.err, "wrong")) << "password shown: " << r.err;
  }
  CliResult init = RunGraft({"init", foreign});
  EXPECT_EQ(init.exit_code, 2) << init.err;
  EXPECT_TRUE(Has(init.err, "not an empty database")) << init.err;
  CliResult newer = RunGraft({"adapter", "list", "--registry", reg_});
  ASSERT_EQ(newer.exit_code, 0) << newer.err;
  ASSERT_EQ(cluster.Psql(reg_, "UPDATE graft_schema SET version = 99").exit_code, 0);
  newer = RunGraft({"adapter", "list", "--registry", reg_});
  EXPECT_EQ(newer.exit_code, 2);
  EXPECT_TRUE(Has(newer.err, "newer than this graft")) << newer.err;
}

TEST_F(PostgresCli, CommandsAfterAServerRestartConnectAfreshAndFindEverything) {
  PostgresCluster& cluster = PostgresCluster::Shared();
  ASSERT_TRUE(WriteFileAtomic(Path("d.jsonl"), "{\"a\": 1}\n").ok());
  ASSERT_TRUE(cluster.Restart());
  // The restart dropped no data; a new command connects afresh.
  CliResult after = Run({"dataset", "register", Path("d.jsonl"), "--name", "d"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(Run({"audit", "verify"}).exit_code, 0);
}

}  // namespace
}  // namespace graft::testing

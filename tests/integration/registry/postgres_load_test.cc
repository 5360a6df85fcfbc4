// Load on one PostgreSQL registry: 8 writer processes (the real graft binary) register datasets
// and adapters, gate, approve and promote at once for GRAFT_LOAD_SECONDS (default 10; the
// 60-second run is bench/registry/load). No event is lost or duplicated, the audit passes and no
// raw driver error reaches a user.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "core/file_util.h"
#include "core/json.h"
#include "core/keys.h"
#include "tests/integration/registry/postgres_fault_helpers.h"
#include "tests/support/cli_runner.h"
#include "tests/support/peft_fixture.h"
#include "tests/support/tiny_registry.h"

namespace graft::registry {
namespace {
namespace fs = std::filesystem;
using testing::CliResult;
using testing::RunGraft;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// What a user must never see: libpq's and the server's own texts without graft's explanation.
bool RawDriverError(const std::string& err) {
  for (const char* raw : {"ERROR:  ", "FATAL:  ", "PANIC:  ", "postgresql: ", "libpq",
                          "server closed the connection"}) {
    if (Contains(err, raw) && !Contains(err, "lost the connection to the PostgreSQL registry")) {
      return true;
    }
  }
  return false;
}

std::string Digest(const CliResult& r) {
  Json json = Json::parse(r.out, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("digest")) return "";
  return json["digest"].get<std::string>();
}

TEST(PostgresLoad, EightWriterProcessesLoseNoEventAndTheAuditPasses) {
  if (testing::ModelBinary().empty()) GTEST_SKIP() << "graft gate needs graft-model (libtorch)";
  testing::PostgresCluster& cluster = PgCluster();
  const std::string uri = cluster.CreateDatabase();
  const char* seconds_env = std::getenv("GRAFT_LOAD_SECONDS");
  const int seconds = seconds_env != nullptr ? std::atoi(seconds_env) : 10;
  constexpr int kWriters = 8;
  TempDir temp("graft-pg-load");
  auto path = [&](const std::string& name) { return (temp.path() / name).string(); };
  const std::map<std::string, std::string> env = {{"GRAFT_REGISTRY", uri}};
  auto expect = [&](const std::vector<std::string>& args) {
    CliResult r = RunGraft(args, env);
    EXPECT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << ": " << r.out << r.err;
    return r;
  };
  // A registry with a trainer, evaluator and approver key, a tiny base, a suite and two
  // policies.
  ASSERT_EQ(expect({"init"}).exit_code, 0);
  for (const std::string role : {"trainer", "evaluator", "approver"}) {
    expect({"key", "generate", "--out", path(role + ".pem")});
    expect({"key", "trust", path(role + ".pem.pub"), "--role", role, "--name", role});
  }
  expect({"base", "init", "--arch", "gpt2", "--preset", "tiny", "--out", path("base")});
  const std::string base =
      Digest(expect({"base", "register", path("base"), "--name", "tiny", "--json"}));
  const std::string data = "{\"text\": \"the cat sat.\"}\n{\"text\": \"a dog ran.\"}\n";
  ASSERT_TRUE(WriteFileAtomic(temp.path() / "site.jsonl", data).ok());
  ASSERT_TRUE(
      WriteFileAtomic(temp.path() / "site.yaml", testing::TextSuiteYaml("site", "site.jsonl", data))
          .ok());
  expect({"suite", "register", path("site.yaml")});
  // `load` (named by every adapter's provenance) needs one approval; `kpi` makes the gate
  // evaluate the adapter and the base on the suite (with graft-model), and fails as post hoc.
  ASSERT_TRUE(WriteFileAtomic(temp.path() / "load.yaml",
                              "policy: load\npromotion:\n  require: {approvals: 1}\n")
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(temp.path() / "kpi.yaml",
                              "policy: kpi\npromotion:\n"
                              "  kpis: [{suite: site, metric: bits_per_byte, min_delta: 0.0}]\n")
                  .ok());
  const std::string policy = Digest(expect({"policy", "register", path("load.yaml"), "--json"}));
  expect({"policy", "register", path("kpi.yaml")});
  ASSERT_FALSE(base.empty());
  ASSERT_FALSE(policy.empty());
  const PrivateKey trainer = PrivateKey::LoadPem(path("trainer.pem")).value();
  auto count = [&](const std::string& sql) { return std::stoi(cluster.Query(uri, sql)); };
  const std::vector<std::string> counted = {
      "SELECT count(*) FROM objects WHERE kind = 'dataset'",
      "SELECT count(*) FROM objects WHERE kind = 'adapter'",
      "SELECT count(*) FROM attestations WHERE kind = 'decision'",
      "SELECT count(*) FROM attestations WHERE kind = 'approval'",
      "SELECT count(*) FROM events WHERE body::json->>'action' = 'channel.set'",
      "SELECT count(*) FROM events"};
  std::vector<int> before;
  for (const std::string& sql : counted) before.push_back(count(sql));

  std::mutex mutex;
  std::map<std::string, int> ok, runs;  // by command
  std::map<int, int> gate_exits;
  std::vector<std::string> problems;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  auto writer = [&](int w) {
    // One command; exits other than `allowed` and raw driver errors are problems.
    auto run = [&](const std::string& what, const std::vector<std::string>& args,
                   std::initializer_list<int> allowed) {
      CliResult r = RunGraft(args, env);
      std::lock_guard<std::mutex> lock(mutex);
      ++runs[what];
      bool fine = false;
      for (int code : allowed) fine = fine || r.exit_code == code;
      if (r.exit_code == 0) ++ok[what];
      if (what == "gate") ++gate_exits[r.exit_code];
      if (!fine || RawDriverError(r.err)) {
        problems.push_back(what + " exit " + std::to_string(r.exit_code) + ": " + r.err + r.out);
      }
      return r;
    };
    for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
      const std::string id = std::to_string(w) + "-" + std::to_string(i);
      fs::path file = temp.path() / ("data-" + id + ".jsonl");
      if (!WriteFileAtomic(file, "{\"text\": \"writer " + id + "\"}\n").ok()) return;
      run("dataset register", {"dataset", "register", file.string(), "--name", "w" + id}, {0});
      fs::path dir = temp.path() / ("adapter-" + id);
      testing::LoraShape shape;
      shape.seed = w * 100000 + i;
      shape.n_embd = 32;  // the tiny preset of `graft base init`
      testing::ProvenanceInputs inputs;
      inputs.base_digest = base.substr(7);
      inputs.policy_digest = policy.substr(7);
      inputs.run_id = "run-" + id;
      if (!testing::WriteLoraAdapter(dir, shape).ok() ||
          !testing::WriteProvenance(dir, trainer, inputs).ok() ||
          !testing::SignAdapter(dir, trainer).ok()) {
        std::lock_guard<std::mutex> lock(mutex);
        problems.push_back("cannot write adapter " + id);
        return;
      }
      const std::string adapter = Digest(
          run("adapter register",
              {"adapter", "register", dir.string(), "--name", "bot" + std::to_string(w), "--json"},
              {0}));
      if (adapter.empty()) continue;
      run("gate", {"gate", adapter, "--policy", "load", "--key", path("evaluator.pem")}, {0});
      if (i % 2 == 0) {
        run("gate", {"gate", adapter, "--policy", "kpi", "--key", path("evaluator.pem")}, {10});
      }
      run("approve", {"approve", adapter, "--key", path("approver.pem")}, {0});
      run("promote", {"promote", adapter, "--channel", "w" + std::to_string(w)}, {0});
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) threads.emplace_back(writer, w);
  for (std::thread& t : threads) t.join();

  for (const auto& [what, n] : runs) {
    std::cout << "[load] " << what << ": " << n << " run, " << ok[what] << " exit 0\n";
  }
  for (const auto& [code, n] : gate_exits)
    std::cout << "[load] gate exit " << code << ": " << n << "\n";
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << problems.front();
  EXPECT_GT(ok["promote"], 0);
  EXPECT_GT(gate_exits[10], 0);  // the KPI gate evaluated and failed, as post hoc
  // Every change that succeeded is in the log once; nothing else is.
  std::vector<int> added;
  for (size_t i = 0; i < counted.size(); ++i) added.push_back(count(counted[i]) - before[i]);
  EXPECT_EQ(added[0], ok["dataset register"]);
  EXPECT_EQ(added[1], ok["adapter register"]);
  EXPECT_EQ(added[2], runs["gate"]);  // every gate stores its decision, pass or not
  EXPECT_EQ(added[3], ok["approve"]);
  EXPECT_EQ(added[4], ok["promote"]);
  std::cout << "[load] " << kWriters << " writers, " << seconds << " s: " << added[5]
            << " events appended (" << added[5] / seconds << "/s)\n";
  ExpectWholeLog(cluster, uri);
  CliResult audit = RunGraft({"audit", "verify"}, env);
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  EXPECT_TRUE(Contains(audit.out, "audit passed")) << audit.out;
}

}  // namespace
}  // namespace graft::registry

// Data-parallel train, eval and gate on 2 local ranks over 127.0.0.1 (docs/distributed.md):
// results against one process, determinism, the start-up check, a dying rank and --resume.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/dsse.h"
#include "core/file_util.h"
#include "core/intoto.h"
#include "core/json.h"
#include "core/sha256.h"
#include "tests/support/cli_runner.h"
#include "tests/support/tiny_registry.h"

extern char** environ;

namespace graft::testing {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A worker started by hand as torchrun would (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), its
// stderr in a file.
struct Worker {
  pid_t pid = -1;
  fs::path err;

  int Wait() const {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
};

// rank < 0: no rank variables (the command itself launches with --nproc).
Worker StartWorker(const std::vector<std::string>& args, int rank, int port, const fs::path& dir) {
  Worker worker;
  worker.err = dir / ("rank" + std::to_string(rank) + ".err");
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back("GRAFT_DIST_TIMEOUT=20");
  if (rank >= 0) {
    env_strings.insert(env_strings.end(),
                       {"RANK=" + std::to_string(rank), "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1",
                        "MASTER_PORT=" + std::to_string(port)});
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = {GraftBinary().string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, worker.err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::posix_spawn(&worker.pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return worker;
}

// A port for MASTER_PORT: varies per test process so parallel ctest runs do not collide.
int TestPort(int offset) { return 20000 + static_cast<int>(::getpid() % 20000) + offset; }

class Distributed : public ::testing::Test {
 protected:
  void SetUp() override {
    Expect({"base", "init", "--arch", "gpt2", "--preset", "tiny", "--out", Path("base")});
    Expect({"key", "generate", "--algorithm", "ed25519", "--out", Path("key.pem")});
    std::string train, valid, other;
    for (int i = 0; i < 24; ++i) {
      train += "{\"text\": \"the cat " + std::to_string(i % 5) + " sat on mat " +
               std::to_string(i) + ".\"}\n";
      other += "{\"text\": \"a dog " + std::to_string(i) + " ran.\"}\n";
    }
    for (int i = 0; i < 6; ++i) valid += "{\"text\": \"the cat " + std::to_string(i) + ".\"}\n";
    Write("train.jsonl", train);
    Write("other.jsonl", other);
    Write("valid.jsonl", valid);
    Config("max_steps: 6\n");
  }

  std::string Path(const std::string& name) const { return (temp_.path() / name).string(); }
  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(temp_.path() / name, text).ok());
  }
  // No dropout: one process and two ranks then compute the same gradients (up to summation
  // order). grad_accum 2: each of the 2 ranks computes one micro-batch per step.
  void Config(const std::string& extra) {
    Write("train.yaml",
          "lora: {r: 4, lora_alpha: 8, lora_dropout: 0.0, target_modules: [c_attn]}\n"
          "optimizer: {lr: 1.0e-2}\nbatch_size: 2\ngrad_accum: 2\nmax_seq_len: 32\nthreads: 1\n" +
              extra);
  }
  std::vector<std::string> TrainArgs(const std::string& out,
                                     const std::string& data = "train.jsonl") {
    return {"train",
            "--base",
            Path("base"),
            "--data",
            Path(data),
            "--valid",
            Path("valid.jsonl"),
            "--config",
            Path("train.yaml"),
            "--out",
            Path(out),
            "--key",
            Path("key.pem")};
  }
  CliResult Run(const std::vector<std::string>& args) { return RunGraft(args, env_); }
  void Expect(const std::vector<std::string>& args) {
    CliResult r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << "\n" << r.out << r.err;
  }
  Json Statement(const std::string& dir) {
    auto envelope = DsseEnvelope::Parse(Read(temp_.path() / dir / "provenance.intoto.jsonl"), dir);
    EXPECT_TRUE(envelope.ok());
    auto statement = InTotoStatement::Parse(envelope->payload, dir);
    EXPECT_TRUE(statement.ok());
    return statement->predicate;
  }
  static Json Byproduct(const Json& predicate, const std::string& name) {
    for (const Json& b : predicate["runDetails"]["byproducts"]) {
      if (b["name"] == name) return b["annotations"]["value"];
    }
    return nullptr;
  }

  TempDir temp_{"graft-dist-e2e"};
  std::map<std::string, std::string> env_ = {{"GRAFT_DIST_TIMEOUT", "60"}};
};

TEST_F(Distributed, TwoRanksTrainLikeOneProcessAndRepeatBitForBit) {
  std::vector<std::string> two = TrainArgs("two");
  two.insert(two.end(), {"--nproc", "2"});
  CliResult r = Run(two);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("sha256:"), std::string::npos) << r.out;
  std::vector<std::string> again = TrainArgs("again");
  again.insert(again.end(), {"--nproc", "2"});
  ASSERT_EQ(Run(again).exit_code, 0);
  Expect(TrainArgs("one"));

  // Same seed, same world size: the same adapter bytes.
  const std::string weights = "adapter_model.safetensors";
  EXPECT_EQ(Sha256Hex(Read(temp_.path() / "two" / weights)),
            Sha256Hex(Read(temp_.path() / "again" / weights)));

  // World size 2 and 1 with the same global batch: the same loss curve within 1e-4 (float32
  // gradients summed in another order; measured differences are about 1e-6).
  const Json two_curve = Byproduct(Statement("two"), "loss_curve");
  const Json one_curve = Byproduct(Statement("one"), "loss_curve");
  ASSERT_EQ(two_curve.size(), 6u);
  ASSERT_EQ(one_curve.size(), two_curve.size());
  for (size_t i = 0; i < one_curve.size(); ++i) {
    EXPECT_NEAR(two_curve[i]["train_loss"].get<double>(), one_curve[i]["train_loss"].get<double>(),
                1e-4)
        << "step " << i + 1;
  }
  EXPECT_NEAR(two_curve[5]["valid_loss"].get<double>(), one_curve[5]["valid_loss"].get<double>(),
              1e-4);
  // The loss moved: the comparison is not between two untrained adapters.
  EXPECT_LT(one_curve[5]["train_loss"].get<double>(), one_curve[0]["train_loss"].get<double>());

  const Json predicate = Statement("two");
  EXPECT_EQ(predicate["buildDefinition"]["internalParameters"]["world_size"], 2);
  EXPECT_FALSE(Statement("one")["buildDefinition"]["internalParameters"].contains("world_size"));
  const Json ranks = Byproduct(predicate, "ranks");
  ASSERT_EQ(ranks.size(), 2u) << ranks.dump();
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_EQ(ranks[rank]["rank"], rank);
    EXPECT_FALSE(ranks[rank]["host"].get<std::string>().empty());
    EXPECT_EQ(ranks[rank]["checked"]["dataset:train"],
              Sha256Hex(Read(temp_.path() / "train.jsonl")));
  }
  CliResult verify = Run({"verify", Path("two"), "--public-key", Path("key.pem.pub")});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

TEST_F(Distributed, DifferentInputsStopEveryRankNamingTheRank) {
  const int port = TestPort(1);
  Worker rank0 = StartWorker(TrainArgs("out"), 0, port, temp_.path());
  Worker rank1 = StartWorker(TrainArgs("out", "other.jsonl"), 1, port, temp_.path());
  EXPECT_EQ(rank0.Wait(), 2);
  EXPECT_EQ(rank1.Wait(), 2);
  for (const Worker* w : {&rank0, &rank1}) {
    const std::string err = Read(w->err);
    EXPECT_NE(err.find("rank 1 ("), std::string::npos) << err;
    EXPECT_NE(err.find("differs from rank 0"), std::string::npos) << err;
    EXPECT_NE(err.find("dataset:train"), std::string::npos) << err;
  }
  EXPECT_FALSE(fs::exists(Path("out")));
  EXPECT_FALSE(fs::exists(Path("out.partial")));
}

TEST_F(Distributed, DyingRankStopsTheOtherWithinTheTimeoutAndResumeFinishes) {
  Config("max_steps: 400\ncheckpoint_every: 1\n");
  const int port = TestPort(2);
  Worker rank0 = StartWorker(TrainArgs("out"), 0, port, temp_.path());
  Worker rank1 = StartWorker(TrainArgs("out"), 1, port, temp_.path());
  const fs::path latest = temp_.path() / "out.partial" / "checkpoints" / "latest";
  const auto started = Clock::now();
  while (!fs::exists(latest) && Clock::now() - started < std::chrono::seconds(120)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(fs::exists(latest)) << Read(rank0.err) << Read(rank1.err);
  ::kill(rank1.pid, SIGKILL);
  const auto killed = Clock::now();
  EXPECT_EQ(rank1.Wait(), 128 + SIGKILL);
  const int code = rank0.Wait();
  const double seconds = std::chrono::duration<double>(Clock::now() - killed).count();
  EXPECT_EQ(code, 1);
  EXPECT_LT(seconds, 25.0);  // GRAFT_DIST_TIMEOUT=20 bounds it; a closed socket is faster
  const std::string err = Read(rank0.err);
  EXPECT_NE(err.find("rank 0 of 2"), std::string::npos) << err;
  EXPECT_NE(err.find("another rank exited"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(Path("out")));
  ASSERT_TRUE(fs::exists(latest));

  // One process cannot resume a two-rank run; two can, from the last checkpoint.
  std::vector<std::string> resume = TrainArgs("out");
  resume.push_back("--resume");
  CliResult single = Run(resume);
  EXPECT_EQ(single.exit_code, 2) << single.err;
  EXPECT_NE(single.err.find("other inputs"), std::string::npos) << single.err;
  resume.insert(resume.end(), {"--nproc", "2"});
  CliResult resumed = Run(resume);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_TRUE(fs::exists(Path("out")));
  EXPECT_EQ(Byproduct(Statement("out"), "steps"), 400);
}

TEST_F(Distributed, CtrlCToTheLauncherStopsEveryRankAfterTheSameStepAndResumeFinishes) {
  Config("max_steps: 400\n");
  std::vector<std::string> args = TrainArgs("out");
  args.insert(args.end(), {"--nproc", "2"});
  Worker launcher = StartWorker(args, -1, 0, temp_.path());
  const fs::path partial = temp_.path() / "out.partial";
  const auto started = Clock::now();
  while (!fs::exists(partial / "run.json") && Clock::now() - started < std::chrono::seconds(120)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(fs::exists(partial / "run.json")) << Read(launcher.err);
  ::kill(launcher.pid, SIGINT);  // forwarded once to each rank
  EXPECT_EQ(launcher.Wait(), 130) << Read(launcher.err);
  const std::string err = Read(launcher.err);
  EXPECT_NE(err.find("graft: stopped at step "), std::string::npos) << err;
  ASSERT_TRUE(fs::exists(partial / "checkpoints" / "latest")) << err;
  EXPECT_FALSE(fs::exists(Path("out")));
  args.push_back("--resume");
  CliResult resumed = Run(args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(Byproduct(Statement("out"), "steps"), 400);
}

TEST_F(Distributed, TwoRankEvaluationEqualsOneProcess) {
  env_["GRAFT_REGISTRY"] = Path("reg");
  Expect({"init"});
  Expect({"key", "trust", Path("key.pem.pub"), "--role", "evaluator", "--name", "ev"});
  Expect({"key", "trust", Path("key.pem.pub"), "--role", "trainer", "--name", "tr"});
  Expect({"base", "register", Path("base"), "--name", "tiny"});
  Expect(TrainArgs("adapter"));
  Expect({"adapter", "register", Path("adapter"), "--name", "bot", "--base", "tiny"});
  std::string data;
  for (int i = 0; i < 9; ++i) {
    data += "{\"id\": \"t" + std::to_string(i) + "\", \"text\": \"the cat " + std::to_string(i) +
            " sat on the mat " + std::string(static_cast<size_t>(i), 'x') + ".\"}\n";
  }
  Write("text.jsonl", data);
  Write("suite.yaml", TextSuiteYaml("general", "text.jsonl", data));
  Expect({"suite", "register", Path("suite.yaml")});

  // Batches of one item: each item's score is computed alone, so the split cannot change it.
  auto eval = [&](const std::string& json, bool two) {
    std::vector<std::string> args = {"eval",       "bot@1",         "--suite",      "general",
                                     "--key",      Path("key.pem"), "--batch-size", "1",
                                     "--no-cache", "--resamples",   "200",          "--json-out",
                                     Path(json)};
    if (two) args.insert(args.end(), {"--nproc", "2"});
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json::parse(Read(temp_.path() / json));
  };
  const Json two = eval("two.json", true);
  const Json one = eval("one.json", false);
  const Json& two_suite = two["predicate"]["graft"]["suites"][0];
  const Json& one_suite = one["predicate"]["graft"]["suites"][0];
  // The per-item scores file (both models, every item) hashes the same: bit-identical scores.
  EXPECT_EQ(two_suite["items_file"], one_suite["items_file"]);
  EXPECT_EQ(two_suite["tasks"], one_suite["tasks"]);

  // The gate: rank 0 decides from the gathered scores, as one process does (a KPI that a
  // 6-step adapter cannot reach: exit 10 from the launcher, which reports rank 0's code).
  Write("strict.yaml",
        "policy: strict\npromotion:\n"
        "  kpis: [{suite: general, metric: bits_per_byte, min_delta: 5.0}]\n");
  Expect({"policy", "register", Path("strict.yaml")});
  auto gate = [&](const std::string& json, bool two) {
    std::vector<std::string> args = {"gate",       "bot@1",         "--policy",     "strict",
                                     "--key",      Path("key.pem"), "--batch-size", "1",
                                     "--json-out", Path(json)};
    if (two) args.insert(args.end(), {"--nproc", "2"});
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 10) << r.out << r.err;
    return Json::parse(Read(temp_.path() / json));
  };
  const Json two_gate = gate("gate2.json", true);
  const Json one_gate = gate("gate1.json", false);
  EXPECT_EQ(two_gate["decision"]["criteria"], one_gate["decision"]["criteria"]) << two_gate.dump();
  EXPECT_EQ(two_gate["decision"]["verdict"], one_gate["decision"]["verdict"]);
}

}  // namespace
}  // namespace graft::testing

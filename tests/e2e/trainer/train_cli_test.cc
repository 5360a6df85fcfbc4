#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/dsse.h"
#include "core/file_util.h"
#include "core/intoto.h"
#include "core/keys.h"
#include "core/manifest.h"
#include "tests/support/cli_runner.h"

extern char** environ;

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

void Write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Corpus(int lines) {
  std::string out;
  for (int i = 0; i < lines; ++i) {
    out += "{\"text\": \"the cat " + std::to_string(i % 3) + " sat on the mat.\"}\n";
  }
  return out;
}

// A tiny base, a key, data and a config in a temporary directory.
class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    CliResult base = RunGraft(
        {"base", "init", "--arch", "gpt2", "--preset", "tiny", "--out", Path("base").string()});
    ASSERT_EQ(base.exit_code, 0) << base.err;
    CliResult key = RunGraft({"key", "generate", "--out", Path("key.pem").string()});
    ASSERT_EQ(key.exit_code, 0) << key.err;
    Write(Path("train.jsonl"), Corpus(12));
    Write(Path("valid.jsonl"), Corpus(4));
    Config("max_steps: 4\n");
  }

  fs::path Path(const std::string& name) const { return temp_.path() / name; }

  void Config(const std::string& extra) {
    Write(Path("train.yaml"),
          "lora: {r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: [c_attn]}\n"
          "optimizer: {lr: 1.0e-2}\nbatch_size: 4\nmax_seq_len: 32\nthreads: 1\n" +
              extra);
  }

  std::vector<std::string> TrainArgs(const std::string& out) const {
    return {"train",
            "--base",
            Path("base").string(),
            "--data",
            Path("train.jsonl").string(),
            "--valid",
            Path("valid.jsonl").string(),
            "--config",
            Path("train.yaml").string(),
            "--out",
            Path(out).string(),
            "--key",
            Path("key.pem").string()};
  }

  TempDir temp_{"graft-train-e2e"};
};

TEST_F(TrainCli, TrainsSignsAndVerifies) {
  std::vector<std::string> args = TrainArgs("adapter");
  const std::string policy(64, 'a');
  args.insert(args.end(), {"--policy", "sha256:" + policy});
  CliResult r = RunGraft(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(Path("adapter.partial")));
  for (const char* file : {"adapter_config.json", "adapter_model.safetensors", "model.sig",
                           "provenance.intoto.jsonl"}) {
    EXPECT_TRUE(fs::exists(Path("adapter") / file)) << file;
  }
  EXPECT_NE(r.err.find("step 4/4"), std::string::npos) << r.err;
  const std::string digest = r.out.substr(r.out.find("sha256:") + 7, 64);

  CliResult verify =
      RunGraft({"verify", Path("adapter").string(), "--public-key", Path("key.pem.pub").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;

  auto pub = PublicKey::LoadPem(Path("key.pem.pub"));
  ASSERT_TRUE(pub.ok());
  auto envelope = DsseEnvelope::Parse(Read(Path("adapter") / "provenance.intoto.jsonl"), "prov");
  ASSERT_TRUE(envelope.ok()) << envelope.status().ToString();
  ASSERT_TRUE(DsseVerify(*envelope, {*pub}).ok());
  auto statement = InTotoStatement::Parse(envelope->payload, "payload");
  ASSERT_TRUE(statement.ok());
  EXPECT_EQ(statement->subjects[0].name, "adapter");
  EXPECT_EQ(statement->subjects[0].digest.at("sha256"), digest);
  const Json& deps = statement->predicate["buildDefinition"]["resolvedDependencies"];
  auto base = BuildManifest(Path("base"));
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(deps[0]["name"], "base");
  EXPECT_EQ(deps[0]["digest"]["sha256"], base->RootDigestHex());
  EXPECT_EQ(deps[1]["name"], "dataset:train");
  EXPECT_EQ(deps[1]["uri"], "train.jsonl");
  EXPECT_EQ(deps[2]["name"], "dataset:valid");
  EXPECT_EQ(deps[3]["name"], "policy");
  EXPECT_EQ(deps[3]["digest"]["sha256"], policy);
  const Json& external = statement->predicate["buildDefinition"]["externalParameters"];
  EXPECT_EQ(external["policy"], policy);
  EXPECT_EQ(external["full"], false);
  EXPECT_EQ(external["config"]["lora"]["r"], 4);
  EXPECT_EQ(external["config"]["max_steps"], 4);
  EXPECT_EQ(statement->predicate["runDetails"]["byproducts"][1]["name"], "steps");
  EXPECT_EQ(statement->predicate["runDetails"]["byproducts"][1]["annotations"]["value"], 4);

  // A changed adapter file fails verification.
  Write(Path("adapter") / "adapter_config.json", "{}");
  EXPECT_EQ(
      RunGraft({"verify", Path("adapter").string(), "--public-key", Path("key.pem.pub").string()})
          .exit_code,
      12);
  // The output directory is never overwritten; a malformed policy digest is a usage error.
  CliResult again = RunGraft(TrainArgs("adapter"));
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << again.err;
  args = TrainArgs("other");
  args.insert(args.end(), {"--policy", "sha256:xyz"});
  EXPECT_EQ(RunGraft(args).exit_code, 2);
}

TEST_F(TrainCli, BadInputsExitTwoNamingTheProblem) {
  Write(Path("train.jsonl"), "{\"text\": \"fine\"}\n{\"txt\": \"typo\"}\n");
  CliResult data = RunGraft(TrainArgs("a"));
  EXPECT_EQ(data.exit_code, 2);
  EXPECT_NE(data.err.find("train.jsonl:2:"), std::string::npos) << data.err;
  EXPECT_FALSE(fs::exists(Path("a.partial")));

  Write(Path("train.jsonl"), Corpus(4));
  Config("max_stepz: 4\n");
  CliResult config = RunGraft(TrainArgs("a"));
  EXPECT_EQ(config.exit_code, 2);
  EXPECT_NE(config.err.find("train.yaml:6:1: unknown key \"max_stepz\""), std::string::npos)
      << config.err;

  Config("max_steps: 2\n");
  std::vector<std::string> args = TrainArgs("a");
  args.push_back("--resume");
  CliResult resume = RunGraft(args);
  EXPECT_EQ(resume.exit_code, 2);
  EXPECT_NE(resume.err.find("nothing to resume"), std::string::npos) << resume.err;
}

// Starts graft, waits until its stderr shows `marker`, sends SIGINT, and returns the exit code.
int RunAndInterrupt(const std::vector<std::string>& args, const std::string& marker) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return -1;
  std::string binary = GraftBinary().string();
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) return -1;
  std::string err;
  char buffer[256];
  ssize_t n;
  while (err.find(marker) == std::string::npos &&
         (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) {
    err.append(buffer, static_cast<size_t>(n));
  }
  ::kill(pid, SIGINT);
  while (::read(pipe_fds[0], buffer, sizeof buffer) > 0) {
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(TrainCli, CtrlCCheckpointsAndResumeGivesTheSameAdapter) {
  Config("max_steps: 40\neval_every: 1\n");
  CliResult straight = RunGraft(TrainArgs("straight"));
  ASSERT_EQ(straight.exit_code, 0) << straight.err;

  EXPECT_EQ(RunAndInterrupt(TrainArgs("resumed"), "step 2/40"), 130);
  EXPECT_FALSE(fs::exists(Path("resumed")));
  EXPECT_TRUE(fs::exists(Path("resumed.partial") / "checkpoints" / "latest"));

  std::vector<std::string> args = TrainArgs("resumed");
  args.push_back("--resume");
  CliResult resumed = RunGraft(args);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_FALSE(fs::exists(Path("resumed.partial")));
  EXPECT_EQ(Read(Path("resumed") / "adapter_model.safetensors"),
            Read(Path("straight") / "adapter_model.safetensors"));
}

TEST_F(TrainCli, ParentAdapterIsRecordedAndRegisteredAsALineageEdge) {
  CliResult parent = RunGraft(TrainArgs("parent"));
  ASSERT_EQ(parent.exit_code, 0) << parent.err;
  const std::string parent_digest = parent.out.substr(parent.out.find("sha256:") + 7, 64);
  std::vector<std::string> args = TrainArgs("child");
  args.insert(args.end(), {"--parent", Path("parent").string()});
  CliResult child = RunGraft(args);
  ASSERT_EQ(child.exit_code, 0) << child.err;
  const std::string child_digest = child.out.substr(child.out.find("sha256:") + 7, 64);

  auto envelope = DsseEnvelope::Parse(Read(Path("child") / "provenance.intoto.jsonl"), "prov");
  ASSERT_TRUE(envelope.ok()) << envelope.status().ToString();
  auto statement = InTotoStatement::Parse(envelope->payload, "payload");
  ASSERT_TRUE(statement.ok());
  const Json& deps = statement->predicate["buildDefinition"]["resolvedDependencies"];
  EXPECT_EQ(deps[1]["name"], "parent");
  EXPECT_EQ(deps[1]["digest"]["sha256"], parent_digest);

  const std::string reg = Path("registry").string();
  ASSERT_EQ(RunGraft({"init", reg}).exit_code, 0);
  auto in_registry = [&](std::vector<std::string> command) {
    command.insert(command.end(), {"--registry", reg});
    return RunGraft(command);
  };
  CliResult trust = in_registry(
      {"key", "trust", Path("key.pem.pub").string(), "--role", "trainer", "--name", "alice"});
  ASSERT_EQ(trust.exit_code, 0) << trust.err;
  CliResult base = in_registry({"base", "register", Path("base").string(), "--name", "tiny"});
  ASSERT_EQ(base.exit_code, 0) << base.err;
  for (const char* name : {"parent", "child"}) {
    CliResult registered = in_registry({"adapter", "register", Path(name).string(), "--name",
                                        std::string("bot-") + name, "--base", "tiny"});
    ASSERT_EQ(registered.exit_code, 0) << registered.err;
  }
  CliResult lineage = in_registry({"lineage", "bot-child@1", "--format", "dot"});
  ASSERT_EQ(lineage.exit_code, 0) << lineage.err;
  EXPECT_NE(
      lineage.out.find("\"" + child_digest + "\" -> \"" + parent_digest + "\" [label=\"parent\"]"),
      std::string::npos)
      << lineage.out;
}

TEST_F(TrainCli, IncompatibleParentExitsTwo) {
  ASSERT_EQ(RunGraft(TrainArgs("parent")).exit_code, 0);
  std::vector<std::string> args = TrainArgs("child");
  args.insert(args.end(), {"--parent", Path("parent").string()});

  // Another base of the same shapes: the parent's provenance names the base it was trained on.
  ASSERT_EQ(RunGraft({"base", "init", "--arch", "gpt2", "--preset", "tiny", "--seed", "2", "--out",
                      Path("other-base").string()})
                .exit_code,
            0);
  std::vector<std::string> other_base = args;
  other_base[2] = Path("other-base").string();  // the value of --base
  CliResult wrong_base = RunGraft(other_base);
  EXPECT_EQ(wrong_base.exit_code, 2);
  EXPECT_NE(wrong_base.err.find("was trained on base sha256:"), std::string::npos)
      << wrong_base.err;

  Write(Path("train.yaml"),
        "lora: {r: 8, lora_alpha: 8, target_modules: [c_attn]}\nmax_steps: 1\nthreads: 1\n"
        "max_seq_len: 64\n");
  CliResult wrong_rank = RunGraft(args);
  EXPECT_EQ(wrong_rank.exit_code, 2);
  EXPECT_NE(wrong_rank.err.find("its r is 4, the training config's is 8"), std::string::npos)
      << wrong_rank.err;
  EXPECT_FALSE(fs::exists(Path("child")));
  EXPECT_FALSE(fs::exists(Path("child.partial")));
}

TEST_F(TrainCli, FullFineTuneWritesASignedHfModel) {
  std::vector<std::string> args = TrainArgs("model");
  args.push_back("--full");
  CliResult r = RunGraft(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(Path("model") / "model.safetensors"));
  EXPECT_TRUE(fs::exists(Path("model") / "config.json"));
  EXPECT_EQ(
      RunGraft({"verify", Path("model").string(), "--public-key", Path("key.pem.pub").string()})
          .exit_code,
      0);
  // The trained model is a base for the next run.
  CliResult lora = RunGraft({"train", "--base", Path("model").string(), "--data",
                             Path("train.jsonl").string(), "--config", Path("train.yaml").string(),
                             "--out", Path("adapter").string(), "--key", Path("key.pem").string()});
  EXPECT_EQ(lora.exit_code, 0) << lora.err;
}

}  // namespace
}  // namespace graft::testing

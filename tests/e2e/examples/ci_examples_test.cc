// examples/ci: each workflow is parsed (yaml-cpp) and its shell steps run in order, as the CI
// would run them, against a local registry with graft from this build on PATH. A passing gate
// leaves the reports the workflow publishes; a failing one fails the job with exit 10 and, on
// GitHub, prints an annotation per failed criterion and writes the step outputs. The install
// steps (root, apt and the .deb) are left out here; the install test covers the package contents.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <regex>

#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"
#include "tests/support/cli_runner.h"
#include "tests/support/tiny_registry.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

using Env = std::map<std::string, std::string>;

std::string Lines(const std::string& text, int n, int offset = 0) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    out += "{\"id\": \"" + std::to_string(i) + "\", \"text\": \"" + text + " " +
           std::to_string((i + offset) % 5) + ".\"}\n";
  }
  return out;
}

// The outcome of running a job's shell steps.
struct JobRun {
  int exit_code = 0;  // of the first failing step, else 0
  std::string out;    // every step's stdout and stderr
};

class CiExamples : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new TempDir("graft-ci-examples");
    work_ = root_->path() / "work";
    if (ModelBinary().empty()) return;  // SetUp skips every test
    fs::create_directories(work_);
    Env env = {{"GRAFT_REGISTRY", (work_ / "registry").string()}};
    InitTinyRegistry(root_->path(), env);
    auto write = [](const std::string& name, const std::string& text) {
      ASSERT_TRUE(WriteFileAtomic(root_->path() / name, text).ok());
    };
    auto path = [](const std::string& name) { return (root_->path() / name).string(); };
    auto expect = [&](const std::vector<std::string>& args) {
      CliResult r = RunGraft(args, env);
      ASSERT_EQ(r.exit_code, 0) << args[0] << "\n" << r.out << r.err;
    };
    write("train.jsonl", Lines("the cat sat on the mat", 24));
    write("valid.jsonl", Lines("the cat sat on the mat", 4, 1));
    const std::string site = Lines("the cat sat on the mat", 16, 2);
    write("site.jsonl", site);
    write("site.yaml", TextSuiteYaml("site", "site.jsonl", site));
    expect({"suite", "register", path("site.yaml")});
    write("site-bot.yaml",
          "policy: site-bot\npromotion:\n  kpis: [{suite: site, metric: bits_per_byte, "
          "min_delta: 0.0}]\n");
    write("other.yaml",
          "policy: other\npromotion:\n  kpis: [{suite: site, metric: bits_per_byte, "
          "min_delta: 0.0}]\n");
    CliResult policy = RunGraft({"policy", "register", path("site-bot.yaml"), "--json"}, env);
    ASSERT_EQ(policy.exit_code, 0) << policy.err;
    expect({"policy", "register", path("other.yaml")});
    write("train.yaml",
          "lora: {r: 4, lora_alpha: 8, target_modules: [c_attn]}\noptimizer: {lr: 3.0e-2}\n"
          "batch_size: 4\nmax_seq_len: 32\nmax_steps: 30\nthreads: 1\nseed: 1\n");
    expect({"train", "--base", path("base"), "--data", path("train.jsonl"), "--valid",
            path("valid.jsonl"), "--config", path("train.yaml"), "--out", path("site-bot"), "--key",
            path("trainer.pem"), "--policy", Json::parse(policy.out)["digest"].get<std::string>()});
    expect({"adapter", "register", path("site-bot"), "--name", "site-bot", "--base", "tiny"});
  }
  static void TearDownTestSuite() {
    delete root_;
    root_ = nullptr;
  }
  void SetUp() override {
    if (ModelBinary().empty()) GTEST_SKIP() << "graft-model is not built (no libtorch)";
    fs::remove_all(work_ / "reports");
  }

  static YAML::Node Load(const std::string& name) {
    return YAML::LoadFile((SourceDir() / "examples" / "ci" / name).string());
  }
  // What every step sees: graft from this build first on PATH, and the CI's own variables.
  static Env BaseEnv() {
    const char* path = std::getenv("PATH");
    return {{"PATH", GraftBinary().parent_path().string() + ":" + (path ? path : "/usr/bin:/bin")},
            {"CI", "true"}};
  }
  static void AddVariables(const YAML::Node& map, Env& env) {
    if (!map) return;
    for (const auto& kv : map) env[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  // Runs `script` as the CI's bash does (errexit, pipefail) in the work folder.
  static int RunScript(const std::string& script, const Env& env, std::string& out) {
    const fs::path file = root_->path() / "step.sh";
    EXPECT_TRUE(WriteFileAtomic(file, script).ok());
    CliResult r = RunBinary(
        "/bin/bash", {"--noprofile", "--norc", "-eo", "pipefail", file.string()}, env, work_);
    out += r.out + r.err;
    return r.exit_code;
  }

  // GitHub Actions: workflow, job and step env (secrets as given), every `run` step but the
  // install step, a step after a failure only with `if: always()`.
  JobRun RunGithub(const std::string& policy) {
    YAML::Node workflow = Load("github-actions.yml");
    YAML::Node job = workflow["jobs"]["gate"];
    EXPECT_TRUE(job.IsMap());
    EXPECT_EQ(job["defaults"]["run"]["shell"].as<std::string>(), "bash");
    Env env = BaseEnv();
    AddVariables(workflow["env"], env);
    AddVariables(job["env"], env);
    env["POLICY"] = policy;
    env["GITHUB_ACTIONS"] = "true";
    env["GITHUB_WORKSPACE"] = work_.string();
    env["RUNNER_TEMP"] = (root_->path() / "runner-temp").string();
    env["GITHUB_OUTPUT"] = (root_->path() / "github-output").string();
    env["GITHUB_STEP_SUMMARY"] = (root_->path() / "step-summary.md").string();
    fs::create_directories(env["RUNNER_TEMP"]);
    fs::remove(env["GITHUB_OUTPUT"]);
    fs::remove(env["GITHUB_STEP_SUMMARY"]);
    const std::map<std::string, std::string> secrets = {
        {"${{ secrets.GRAFT_EVALUATOR_KEY }}", ReadFile(root_->path() / "evaluator.pem").value()}};
    JobRun run;
    for (const YAML::Node& step : job["steps"]) {
      if (step["uses"]) {
        if (step["with"] && step["with"]["path"]) {
          uploads_.push_back(step["with"]["path"].as<std::string>());
        }
        continue;
      }
      if (step["id"] && step["id"].as<std::string>() == "install") continue;
      const std::string condition = step["if"] ? step["if"].as<std::string>() : "";
      EXPECT_TRUE(condition.empty() || condition == "always()") << condition;
      if (run.exit_code != 0 && condition != "always()") continue;
      Env step_env = env;
      if (step["env"]) {
        for (const auto& kv : step["env"]) {
          std::string value = kv.second.as<std::string>();
          if (value.find("${{") != std::string::npos) {
            EXPECT_TRUE(secrets.count(value)) << "unknown expression " << value;
            value = secrets.count(value) ? secrets.at(value) : "";
          }
          step_env[kv.first.as<std::string>()] = value;
        }
      }
      const std::string script = step["run"].as<std::string>();
      EXPECT_EQ(script.find("${{"), std::string::npos) << "expressions belong in env: " << script;
      int code = RunScript(script, step_env, run.out);
      if (code != 0 && run.exit_code == 0) run.exit_code = code;
    }
    return run;
  }

  // GitLab CI: global and job variables (a File variable is a path), `script` lines in one shell
  // (before_script installs the package and is left out).
  JobRun RunGitlab(const std::string& policy) {
    YAML::Node pipeline = Load("gitlab-ci.yml");
    YAML::Node job = pipeline["graft-gate"];
    EXPECT_TRUE(job.IsMap());
    Env env = BaseEnv();
    AddVariables(pipeline["variables"], env);
    AddVariables(job["variables"], env);
    env["POLICY"] = policy;
    env["GITLAB_CI"] = "true";
    env["GRAFT_EVALUATOR_KEY"] = (root_->path() / "evaluator.pem").string();
    std::string script;
    for (const YAML::Node& line : job["script"]) script += line.as<std::string>() + "\n";
    JobRun run;
    run.exit_code = RunScript(script, env, run.out);
    for (const YAML::Node& path : job["artifacts"]["paths"]) {
      uploads_.push_back(path.as<std::string>());
    }
    uploads_.push_back(job["artifacts"]["reports"]["junit"].as<std::string>());
    EXPECT_EQ(job["artifacts"]["when"].as<std::string>(), "always");
    return run;
  }

  void ExpectReportsPublished() {
    EXPECT_FALSE(uploads_.empty());
    for (const std::string& upload : uploads_) {
      EXPECT_TRUE(fs::exists(work_ / upload)) << upload;
    }
    for (const char* report : {"gate.xml", "gate.md", "gate.json", "adapter.html"}) {
      EXPECT_TRUE(fs::is_regular_file(work_ / "reports" / report)) << report;
    }
  }

  static TempDir* root_;
  static fs::path work_;
  std::vector<std::string> uploads_;
};

TempDir* CiExamples::root_ = nullptr;
fs::path CiExamples::work_;

TEST_F(CiExamples, GithubActionsPassesAndPublishes) {
  JobRun run = RunGithub("site-bot");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("gate passed"), std::string::npos) << run.out;
  ExpectReportsPublished();
  std::string outputs = ReadFile(root_->path() / "github-output").value();
  EXPECT_NE(outputs.find("verdict=pass\nexit-code=0\n"), std::string::npos) << outputs;
  EXPECT_TRUE(std::regex_search(outputs, std::regex("decision-digest=[0-9a-f]{64}\n"))) << outputs;
  EXPECT_NE(outputs.find("junit=reports/gate.xml\n"), std::string::npos) << outputs;
  EXPECT_NE(ReadFile(root_->path() / "step-summary.md").value().find("PASS"), std::string::npos);
}

TEST_F(CiExamples, GithubActionsFailsTheJobOnAFailedGate) {
  // `other` was not named by the adapter's training: a post-hoc policy, which fails.
  JobRun run = RunGithub("other");
  EXPECT_EQ(run.exit_code, 10) << run.out;
  EXPECT_NE(run.out.find("::error title=pre-declared policy::"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("gate exited 10"), std::string::npos) << run.out;
  ExpectReportsPublished();
  std::string outputs = ReadFile(root_->path() / "github-output").value();
  EXPECT_NE(outputs.find("verdict=fail\nexit-code=10\n"), std::string::npos) << outputs;
}

TEST_F(CiExamples, GitlabCiPassesAndFailsOnAFailedGate) {
  JobRun pass = RunGitlab("site-bot");
  EXPECT_EQ(pass.exit_code, 0) << pass.out;
  ExpectReportsPublished();
  EXPECT_EQ(pass.out.find("::error"), std::string::npos) << pass.out;  // not on GitHub
  fs::remove_all(work_ / "reports");
  JobRun fail = RunGitlab("other");
  EXPECT_EQ(fail.exit_code, 10) << fail.out;
  ExpectReportsPublished();
}

}  // namespace
}  // namespace graft::testing

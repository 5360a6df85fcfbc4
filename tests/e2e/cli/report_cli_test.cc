// `graft report` end to end: train, register, gate, approve and promote a tiny adapter through the
// CLI, then render its report as HTML (parses; one forest plot per evaluation), JSON (validates
// against its schema; values match the registry) and Markdown (digest and verdict), and the audit
// report (lists the promotion). Bad input exits 2, writes nothing and leaves the registry alone.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"
#include "tests/support/cli_runner.h"
#include "tests/support/peft_fixture.h"
#include "tests/support/tiny_registry.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

// JSONL of `n` short sentences on one theme, alternating between slices "a" and "b".
std::string SlicedTexts(const std::string& theme, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    const Json item = {{"id", "item-" + std::to_string(i)},
                       {"slice", i % 2 == 0 ? "b" : "a"},
                       {"text", theme + " " + std::to_string(i % 5) + "."}};
    out += item.dump() + "\n";
  }
  return out;
}

bool HasTool(const std::string& check) {
  return std::system((check + " >/dev/null 2>&1").c_str()) == 0;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class ReportCliTest : public ::testing::Test {
 protected:
  // One promoted adapter for every test of the suite (training is the slow part).
  static void SetUpTestSuite() {
    root_ = new TempDir("graft-report-e2e");
    env_ = {{"GRAFT_REGISTRY", Path("reg")}};
    InitTinyRegistry(root_->path(), env_);
    if (::testing::Test::HasFailure()) return;
    Write("train.jsonl", SlicedTexts("the cat sat on the mat", 24));
    const std::string data = SlicedTexts("the cat sat on the mat", 16);
    Write("site.jsonl", data);
    Write("site.yaml", TextSuiteYaml("site", "site.jsonl", data));
    Expect({"suite", "register", Path("site.yaml")});
    Write("good.yaml",
          "policy: good\npromotion:\n"
          "  kpis: [{suite: site, metric: bits_per_byte, min_delta: 0.0}]\n"
          "  require: {approvals: 1}\n");
    CliResult policy = Run({"policy", "register", Path("good.yaml"), "--json"});
    ASSERT_EQ(policy.exit_code, 0) << policy.err;
    const std::string policy_digest = Json::parse(policy.out)["digest"].get<std::string>();
    Write("train.yaml",
          "lora: {r: 4, lora_alpha: 8, target_modules: [c_attn]}\noptimizer: {lr: 3.0e-2}\n"
          "batch_size: 4\nmax_seq_len: 32\nmax_steps: 30\neval_every: 10\nthreads: 1\n"
          "seed: 1\n");
    Write("valid.jsonl", SlicedTexts("the cat sat on the mat", 4));
    Expect({"train", "--base", Path("base"), "--data", Path("train.jsonl"), "--valid",
            Path("valid.jsonl"), "--config", Path("train.yaml"), "--out", Path("site-bot"), "--key",
            Path("trainer.pem"), "--policy", policy_digest});
    Expect({"adapter", "register", Path("site-bot"), "--name", "site-bot", "--base", "tiny"});
    Expect({"gate", "site-bot@1", "--policy", "good", "--key", Path("evaluator.pem")});
    Expect({"approve", "site-bot@1", "--key", Path("approver.pem"), "--comment", "looks fine"});
    Expect({"promote", "site-bot@1", "--channel", "production"});
    digest_ = "sha256:" + AdapterDigest(Path("site-bot"));
  }
  static void TearDownTestSuite() { delete root_; }

  static std::string Path(const std::string& name) { return (root_->path() / name).string(); }
  static void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(root_->path() / name, text).ok());
  }
  static CliResult Run(const std::vector<std::string>& args) { return RunGraft(args, env_); }
  static void Expect(const std::vector<std::string>& args) {
    CliResult r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << "\n" << r.out << r.err;
  }
  static std::string Read(const std::string& name) {
    Result<std::string> text = ReadFile(Path(name));
    EXPECT_TRUE(text.ok()) << name;
    return text.ok() ? *text : "";
  }

  static TempDir* root_;
  static std::map<std::string, std::string> env_;
  static std::string digest_;
};

TempDir* ReportCliTest::root_ = nullptr;
std::map<std::string, std::string> ReportCliTest::env_;
std::string ReportCliTest::digest_;

// One test for the three formats and the audit: ctest runs each test in its own process, and
// training is what takes the time.
TEST_F(ReportCliTest, HtmlJsonMarkdownAndAuditOfAPromotedAdapter) {
  {
    SCOPED_TRACE("html");
    CliResult r = Run({"report", "site-bot@production", "--html", Path("report.html")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string html = Read("report.html");
    EXPECT_EQ(Count(html, "class=\"forest-plot\""), 1u);  // the gate's one evaluation
    EXPECT_EQ(Count(html, "class=\"lineage-graph\""), 1u);
    EXPECT_EQ(Count(html, "class=\"loss-chart\""), 1u);
    EXPECT_NE(html.find(digest_), std::string::npos);
    if (HasTool("xmllint --version")) {
      EXPECT_TRUE(HasTool("xmllint --html --noout '" + Path("report.html") + "'"));
      EXPECT_TRUE(HasTool("xmllint --noout '" + Path("report.html") + "'"));  // well-formed XML
    } else {
      std::cerr << "note: xmllint not installed; the HTML was not parsed\n";
    }
  }
  {
    SCOPED_TRACE("json");
    CliResult r = Run({"report", "site-bot@1", "--json-out", Path("report.json")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "");  // only a file was asked for
    Json report = Json::parse(Read("report.json"));
    CliResult on_stdout = Run({"report", "site-bot@1", "--json"});
    ASSERT_EQ(on_stdout.exit_code, 0) << on_stdout.err;
    EXPECT_EQ(Json::parse(on_stdout.out)["identity"], report["identity"]);
    EXPECT_EQ(report["identity"]["digest"], digest_);
    EXPECT_EQ(report["identity"]["stage"], "production");
    EXPECT_EQ(report["identity"]["channels"], Json::array({"site-bot@production"}));
    for (const Json& row : report["verification"]) EXPECT_TRUE(row["ok"].get<bool>()) << row;
    ASSERT_EQ(report["evaluations"].size(), 1u);
    const Json& metric = report["evaluations"][0]["suites"][0]["metrics"][0];
    EXPECT_EQ(metric["metric"], "bits_per_byte");
    EXPECT_EQ(metric["slices"].size(), 2u);  // slices a and b
    ASSERT_EQ(report["decisions"].size(), 1u);
    EXPECT_EQ(report["decisions"][0]["decision"]["verdict"], "pass");
    EXPECT_EQ(report["decisions"][0]["evaluation_id"], report["evaluations"][0]["id"]);
    ASSERT_EQ(report["approvals"].size(), 1u);
    EXPECT_EQ(report["approvals"][0]["comment"], "looks fine");
    EXPECT_FALSE(report["training"]["config"].empty());
    // The trainer's loss curve: every step of 30, validated every 10.
    const Json& loss = report["training"]["loss"];
    ASSERT_EQ(loss.size(), 30u);
    EXPECT_EQ(loss.front()["step"], 1);
    EXPECT_EQ(loss.back()["step"], 30);
    EXPECT_FALSE(loss[8].contains("valid_loss"));
    EXPECT_TRUE(loss[9].contains("valid_loss"));
    EXPECT_LT(loss.back()["train_loss"].get<double>(), loss.front()["train_loss"].get<double>());
    for (const Json& entry : report["log"]) EXPECT_TRUE(entry["inclusion_verified"].get<bool>());
    if (HasTool("python3 -c 'import jsonschema'")) {
      EXPECT_TRUE(HasTool((SourceDir() / "scripts/validate-report-json").string() + " '" +
                          Path("report.json") + "'"));
    } else {
      std::cerr << "note: python3-jsonschema not installed; the JSON was not validated\n";
    }
  }
  {
    SCOPED_TRACE("markdown");
    CliResult r = Run({"report", digest_.substr(7, 16), "--markdown", Path("r.md")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    const std::string md = Read("r.md");
    EXPECT_NE(md.find(digest_), std::string::npos) << md;
    EXPECT_NE(md.find("✅ PASS: sha256:"), std::string::npos) << md;  // the decision's verdict
  }
  {
    SCOPED_TRACE("audit");
    CliResult r = Run({"report", "audit", "--json-out", Path("audit.json")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    Json audit = Json::parse(Read("audit.json"));
    EXPECT_TRUE(audit["checkpoint"]["verified"].get<bool>());
    ASSERT_EQ(audit["promotions"].size(), 1u);
    EXPECT_EQ(audit["promotions"][0]["subject"], "site-bot@1 -> site-bot@production");
    EXPECT_EQ(audit["promotions"][0]["digest"], digest_);
    EXPECT_TRUE(audit["failed_gates"].empty());
    CliResult md = Run({"report", "audit", "--since", "2000-01-01", "--format", "md"});
    ASSERT_EQ(md.exit_code, 0) << md.err;
    EXPECT_NE(md.out.find("site-bot@1 -&gt; site-bot@production"), std::string::npos) << md.out;
    CliResult html = Run({"report", "audit", "--since", "0", "--html", Path("audit.html")});
    ASSERT_EQ(html.exit_code, 0) << html.err;
    EXPECT_NE(Read("audit.html").find("site-bot@production"), std::string::npos);
  }
}

TEST(ReportCliBadInputTest, ExitsTwoWritesNothingAndLeavesTheRegistryAlone) {
  TempDir root("graft-report-bad-input");
  const std::string registry = (root.path() / "reg").string();
  const std::string out = (root.path() / "bad.html").string();
  ASSERT_EQ(RunGraft({"init", "-R", registry}).exit_code, 0);
  const auto before = HashTree(registry);
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"report", "nobody@1", "--html", out}, "nobody"},
      {{"report", "nobody@1", "--format", "pdf", "--html", out}, "--format"},
      {{"report", "nobody@1", "--html", (root.path() / "missing/bad.html").string()},
       "does not exist"},
      {{"report", "nobody@1", "--html", root.path().string() + "/"}, "directory"},
      {{"report", "audit", "--since", "yesterday", "--html", out}, "--since"},
      {{"report", "audit", "--since", "2026-02-30T25:00:00Z", "--html", out}, "--since"},
      {{"report", "audit", "--since", "99999", "--html", out}, "the log has"},
      {{"report", "audit", "--format", "xml", "--html", out}, "--format"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"-R", registry});
    CliResult r = RunGraft(args);
    EXPECT_EQ(r.exit_code, 2) << c.args[1] << " " << r.out << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.args[1];
  }
  EXPECT_EQ(HashTree(registry), before);
}

TEST(ReportCliHelpTest, ExplainsBothForms) {
  CliResult help = RunGraft({"report", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("graft report ADAPTER"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("audit"), std::string::npos) << help.out;
  EXPECT_EQ(RunGraft({"report"}).exit_code, 2);
}

}  // namespace
}  // namespace graft::testing

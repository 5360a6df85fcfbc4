// The demo (examples/demo) end to end in quick mode: every step's exit code, the reports it
// writes, and the registry it leaves (verified again here, independently of the script).
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/file_util.h"
#include "core/json.h"
#include "tests/support/cli_runner.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// One quick demo run (it takes minutes), checked by the methods below. A single TEST, because
// CTest runs every discovered test in its own process: three TESTs would run the demo thrice.
class DemoTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (ModelBinary().empty()) return;  // built without libtorch: no graft-model to train with
    root_ = new TempDir("graft-demo-e2e");
    out_ = root_->path() / "out";
    std::string command = "GRAFT=" + Quote(GraftBinary().string()) + " GRAFT_DEMO_QUICK=1 " +
                          Quote((SourceDir() / "examples/demo").string()) + " --out " +
                          Quote(out_.string()) + " --cache " +
                          Quote((root_->path() / "cache").string()) + " > " +
                          Quote((root_->path() / "demo.log").string()) + " 2>&1";
    int status = std::system(command.c_str());
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    log_ = Slurp(root_->path() / "demo.log");
  }
  static void TearDownTestSuite() {
    delete root_;
    root_ = nullptr;
  }
  void SetUp() override {
    if (root_ == nullptr) GTEST_SKIP() << "graft was built without libtorch (no graft-model)";
    ASSERT_EQ(exit_code_, 0) << log_;
  }
  static Json Load(const std::string& report) {
    auto text = ReadFile(out_ / "reports" / report);
    EXPECT_TRUE(text.ok()) << report;
    return text.ok() ? Json::parse(*text) : Json();
  }
  static bool JunitValidates(const fs::path& file) {
    std::string command = "xmllint --noout --schema " +
                          Quote((SourceDir() / "tests/data/junit.xsd").string()) + " " +
                          Quote(file.string()) + " >/dev/null 2>&1";
    return std::system(command.c_str()) == 0;
  }

  static inline TempDir* root_ = nullptr;
  static inline fs::path out_;
  static inline int exit_code_ = -1;
  static inline std::string log_;

  void EveryStepRanWithItsExpectedExitCode() {
    for (int step = 1; step <= 7; ++step) {
      EXPECT_TRUE(Has(log_, "== [" + std::to_string(step) + "/7] ")) << step << "\n" << log_;
    }
    // The bad adapter's gate, the trainer approving, the failed adapter's promotion, the tamper.
    EXPECT_TRUE(Has(log_, "(exit code 10, as expected)")) << log_;
    EXPECT_TRUE(Has(log_, "(exit code 12, as expected)")) << log_;
    EXPECT_TRUE(Has(log_, "audit passed")) << log_;
    EXPECT_TRUE(Has(log_, "audit FAILED")) << log_;
    EXPECT_TRUE(Has(log_, "total time:")) << log_;
    // A promotion without a key is refused; the witness cosigns, and the older copy fails
    // against its checkpoint.
    EXPECT_TRUE(Has(log_, "(exit code 2, as expected)")) << log_;
    EXPECT_TRUE(Has(log_, "cosigned graft.local/registry/")) << log_;
    EXPECT_TRUE(Has(log_, "cosigned by witness graft.local/witness/")) << log_;
    EXPECT_TRUE(Has(log_, "but the log has only")) << log_;
    // The cold run pretrained the base and cached it.
    bool cached = false;
    for (const auto& entry : fs::directory_iterator(root_->path() / "cache")) {
      cached = cached || entry.path().filename().string().rfind("demo-base-", 0) == 0;
    }
    EXPECT_TRUE(cached);
  }

  void TheGoodAdapterPassesAndTheBadOneFailsTheRegression() {
    const std::pair<int, std::string> expected[] = {{1, "pass"}, {2, "fail"}, {3, "pass"}};
    for (const auto& [version, verdict] : expected) {
      std::string name = "gate-site-bot-" + std::to_string(version);
      Json gate = Load(name + ".json");
      ASSERT_TRUE(gate.is_object()) << name;
      EXPECT_EQ(gate["decision"]["verdict"], verdict) << name;
      EXPECT_EQ(gate["decision"]["exit_code"], verdict == "pass" ? 0 : 10) << name;
      bool saw_regression = false;
      for (const Json& c : gate["decision"]["criteria"]) {
        if (c["kind"] != "regression") continue;
        saw_regression = true;
        EXPECT_EQ(c["status"], verdict == "pass" ? "PASS" : "FAIL") << name << " " << c.dump();
      }
      EXPECT_TRUE(saw_regression) << name;
      EXPECT_TRUE(JunitValidates(out_ / "reports" / (name + ".junit.xml"))) << name;
      auto markdown = ReadFile(out_ / "reports" / (name + ".md"));
      ASSERT_TRUE(markdown.ok()) << name;
      EXPECT_TRUE(Has(*markdown, verdict == "pass" ? "PASS" : "FAIL")) << *markdown;
      // Each statistical criterion names its test (bits_per_byte: the delta-method t).
      EXPECT_TRUE(Has(*markdown, "| delta-method t |")) << *markdown;
    }
    auto junit = ReadFile(out_ / "reports" / "gate-site-bot-2.junit.xml");
    ASSERT_TRUE(junit.ok());
    EXPECT_TRUE(Has(*junit, "<failure")) << *junit;
    // The HTML reports of `graft report`.
    for (std::string html : {"site-bot-1.html", "site-bot-2.html", "audit.html"}) {
      auto text = ReadFile(out_ / "reports" / html);
      ASSERT_TRUE(text.ok()) << html;
      EXPECT_TRUE(Has(*text, "<html")) << html;
    }
  }

  void TheRegistryVerifiesAndTheTamperedCopyDoesNot() {
    std::string registry = (out_ / "registry").string();
    CliResult good = RunGraft({"audit", "verify", "--registry", registry});
    EXPECT_EQ(good.exit_code, 0) << good.out << good.err;
    CliResult tampered =
        RunGraft({"audit", "verify", "--registry", (out_ / "registry-tampered").string()});
    EXPECT_EQ(tampered.exit_code, 12) << tampered.out << tampered.err;
    EXPECT_TRUE(Has(tampered.out + tampered.err, "table channels")) << tampered.out << tampered.err;
    // After promote @1, promote @3 and the rollback, production serves site-bot@1 again.
    CliResult shown = RunGraft({"adapter", "show", "site-bot@1", "--registry", registry});
    EXPECT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_TRUE(Has(shown.out, "site-bot@production")) << shown.out;
    CliResult list = RunGraft({"adapter", "list", "--registry", registry, "--json"});
    EXPECT_EQ(list.exit_code, 0) << list.err;
    EXPECT_TRUE(Has(list.out, "site-bot@3")) << list.out;
  }
};

TEST_F(DemoTest, QuickRunEndToEnd) {
  EveryStepRanWithItsExpectedExitCode();
  TheGoodAdapterPassesAndTheBadOneFailsTheRegression();
  TheRegistryVerifiesAndTheTamperedCopyDoesNot();
}

}  // namespace
}  // namespace graft::testing

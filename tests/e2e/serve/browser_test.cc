// `graft serve` in a real browser: a registry where one trained adapter passed its gate and was
// promoted and another did not, served on a free loopback port and loaded by headless Chromium
// (--dump-dom). Asserts on the rendered DOM (digests, verdicts, lineage nodes, links that
// resolve), on the JSON API agreeing with it, and that Chromium logged no console message (a CSP
// violation or a script error would be one). Skipped when chromium or graft-model is absent.
#include <gtest/gtest.h>

#include <cstdlib>

#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"
#include "tests/support/cli_runner.h"
#include "tests/support/peft_fixture.h"
#include "tests/support/serve_process.h"
#include "tests/support/tiny_registry.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

fs::path Chromium() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin"}) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const fs::path candidate = fs::path(dir) / name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  return {};
}

struct Browsed {
  int exit_code = -1;
  std::string dom;
  std::string console;  // console lines Chromium logged
};

// Loads `url` in a fresh headless Chromium profile and returns the DOM after load.
Browsed Browse(const std::string& url, const fs::path& scratch) {
  TempDir profile("graft-chromium");
  CliResult r =
      RunBinary(Chromium(),
                {"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--user-data-dir=" + profile.path().string(),
                 "--enable-logging=stderr", "--v=0", "--dump-dom", url},
                {}, scratch);
  Browsed out{r.exit_code, r.out, ""};
  std::string line;
  for (size_t start = 0; start < r.err.size();) {
    const size_t end = std::min(r.err.find('\n', start), r.err.size());
    line = r.err.substr(start, end - start);
    if (line.find("CONSOLE") != std::string::npos || line.find("Refused to") != std::string::npos) {
      out.console += line + "\n";
    }
    start = end + 1;
  }
  return out;
}

class BrowserTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (Chromium().empty() || ModelBinary().empty()) return;
    root_ = new TempDir("graft-serve-e2e");
    env_ = {{"GRAFT_REGISTRY", Path("reg")}};
    InitTinyRegistry(root_->path(), env_);
    std::string texts;
    for (int i = 0; i < 24; ++i) {
      texts += Json({{"id", "t" + std::to_string(i)},
                     {"slice", i % 3 == 0 ? "short" : "long"},
                     {"text", "a robin sings in the garden at dawn " + std::to_string(i % 4)}})
                   .dump() +
               "\n";
    }
    Write("texts.jsonl", texts);
    Write("garden.yaml", TextSuiteYaml("garden", "texts.jsonl", texts));
    Graft({"suite", "register", Path("garden.yaml")});
    // v1 is trained under "better" and passes its gate; v2, under "strict", cannot improve the
    // base by 5 bits per byte and fails.
    std::map<std::string, std::string> policies;
    for (const auto& [name, min_delta] :
         std::vector<std::pair<std::string, std::string>>{{"better", "0.0"}, {"strict", "5.0"}}) {
      Write(name + ".yaml", "policy: " + name +
                                "\npromotion:\n  kpis: [{suite: garden, metric: bits_per_byte, "
                                "min_delta: " +
                                min_delta + "}]\n  require: {approvals: 1}\n");
      policies[name] =
          ParseJson(Graft({"policy", "register", Path(name + ".yaml"), "--json"}).out, name)
              .value()["digest"]
              .get<std::string>();
    }
    for (const auto& [name, steps, policy] : std::vector<std::tuple<std::string, int, std::string>>{
             {"v1", 30, "better"}, {"v2", 2, "strict"}}) {
      Write(name + "-train.yaml",
            "lora: {r: 4, lora_alpha: 8, target_modules: [c_attn]}\n"
            "optimizer: {lr: 3.0e-2}\nbatch_size: 4\nmax_seq_len: 32\n"
            "max_steps: " +
                std::to_string(steps) + "\nthreads: 1\nseed: 3\n");
      Graft({"train", "--base", Path("base"), "--data", Path("texts.jsonl"), "--config",
             Path(name + "-train.yaml"), "--out", Path(name), "--key", Path("trainer.pem"),
             "--policy", policies[policy]});
      Graft({"adapter", "register", Path(name), "--name", "garden-bot", "--base", "tiny"});
    }
    Graft({"gate", "garden-bot@1", "--policy", "better", "--key", Path("evaluator.pem")});
    Graft({"gate", "garden-bot@2", "--policy", "strict", "--key", Path("evaluator.pem")},
          /*any_exit=*/true);
    Graft({"approve", "garden-bot@1", "--key", Path("approver.pem"), "--comment", "ok"});
    Graft({"promote", "garden-bot@1", "--channel", "production"});
    digest_ = "sha256:" + AdapterDigest(Path("v1"));
  }
  static void TearDownTestSuite() { delete root_; }

  void SetUp() override {
    if (Chromium().empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup installs it)";
    if (ModelBinary().empty()) GTEST_SKIP() << "graft-model (libtorch) is not built";
    // A failed set-up is a failure of every test, not a skip.
    ASSERT_FALSE(setup_failed_)
        << "the suite's registry could not be built (see the set-up output)";
  }

  static std::string Path(const std::string& name) { return (root_->path() / name).string(); }
  static void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(root_->path() / name, text).ok());
  }
  static CliResult Graft(const std::vector<std::string>& args, bool any_exit = false) {
    CliResult r = RunGraft(args, env_, root_->path());
    if (!any_exit) {
      EXPECT_EQ(r.exit_code, 0) << args[0] << "\n" << r.out << r.err;
      if (r.exit_code != 0) setup_failed_ = true;
    }
    return r;
  }
  static Json Api(ServeProcess& server, const std::string& target) {
    HttpResult r = HttpGet(server.port(), target);
    EXPECT_EQ(r.status, 200) << target << r.body;
    return ParseJson(r.body, target).value();
  }
  // Loads a page, checks Chromium logged nothing and every local link on it answers 200.
  static std::string Page(ServeProcess& server, const std::string& path) {
    Browsed page = Browse(server.base_url() + path, root_->path());
    EXPECT_EQ(page.exit_code, 0) << path;
    EXPECT_EQ(page.console, "") << path;
    EXPECT_NE(page.dom.find("<nav class=\"site\">"), std::string::npos) << path << page.dom;
    for (size_t at = page.dom.find("href=\"/"); at != std::string::npos;
         at = page.dom.find("href=\"/", at + 1)) {
      std::string href = page.dom.substr(at + 6, page.dom.find('"', at + 6) - at - 6);
      for (size_t amp = href.find("&amp;"); amp != std::string::npos; amp = href.find("&amp;")) {
        href.replace(amp, 5, "&");
      }
      if (href == "/audit?run=1") continue;
      EXPECT_EQ(HttpGet(server.port(), href).status, 200) << path << " links to " << href;
    }
    return page.dom;
  }

  static TempDir* root_;
  static std::map<std::string, std::string> env_;
  static std::string digest_;
  static bool setup_failed_;
};

TempDir* BrowserTest::root_ = nullptr;
std::map<std::string, std::string> BrowserTest::env_;
std::string BrowserTest::digest_;
bool BrowserTest::setup_failed_ = false;

TEST_F(BrowserTest, ConsoleErrorsAreDetected) {
  // The check the other tests rely on can fail: a page that logs an error is caught.
  Browsed page =
      Browse("data:text/html,<script>console.error('boom-42')</script><p>x</p>", root_->path());
  EXPECT_NE(page.console.find("boom-42"), std::string::npos) << page.console;
}

TEST_F(BrowserTest, AdaptersListShowsVerdictsAndChannels) {
  ServeProcess server(Path("reg"));
  ASSERT_NE(server.port(), 0) << server.log();
  const std::string dom = Page(server, "/adapters");
  EXPECT_NE(dom.find("2 adapter(s)"), std::string::npos);
  EXPECT_NE(dom.find(">garden-bot@1<"), std::string::npos);
  EXPECT_NE(dom.find(">garden-bot@2<"), std::string::npos);
  EXPECT_NE(dom.find(">garden-bot@production<"), std::string::npos);
  const std::string v2 =
      Api(server, "/api/v1/adapters/garden-bot@2/decisions")["decisions"][0]["verdict"]
          .get<std::string>();
  EXPECT_NE(v2, "pass");
  EXPECT_EQ(Count(dom, "class=\"badge status-pass\""), 1u);
  EXPECT_EQ(Count(dom, "class=\"badge status-" + v2 + "\""), 1u);
  const std::string passed = Page(server, "/adapters?verdict=pass");
  EXPECT_NE(passed.find("1 adapter(s)"), std::string::npos);
  EXPECT_NE(passed.find(digest_.substr(0, 19)), std::string::npos);
}

TEST_F(BrowserTest, AdapterPageIsTheReportWithLinks) {
  ServeProcess server(Path("reg"));
  ASSERT_NE(server.port(), 0) << server.log();
  const std::string dom = Page(server, "/adapters/garden-bot@production");
  EXPECT_NE(dom.find(digest_), std::string::npos);
  EXPECT_EQ(Count(dom, "class=\"forest-plot\""), 1u);
  EXPECT_EQ(Count(dom, "class=\"loss-chart\""), 1u);
  // As many lineage nodes as the JSON report lists.
  CliResult report = RunGraft({"report", "garden-bot@1", "--json"}, env_);
  ASSERT_EQ(report.exit_code, 0) << report.err;
  const size_t nodes = ParseJson(report.out, "report").value()["lineage"]["nodes"].size();
  EXPECT_GE(nodes, 5u);  // base, run, policy, adapter, evaluation, suite, decision, approval
  EXPECT_EQ(Count(dom, "class=\"node\"") + Count(dom, "class=\"node subject\""), nodes);
  EXPECT_NE(dom.find("id=\"related\""), std::string::npos);
  EXPECT_NE(dom.find("status-pass"), std::string::npos);
  EXPECT_EQ(Api(server, "/api/v1/resolve?ref=garden-bot@production")["digest"], digest_);
  EXPECT_EQ(Api(server, "/api/v1/resolve?ref=garden-bot@production")["stage"], "production");
}

TEST_F(BrowserTest, ObjectsKeysChannelsLogAndAuditPages) {
  ServeProcess server(Path("reg"));
  ASSERT_NE(server.port(), 0) << server.log();
  EXPECT_NE(Page(server, "/").find("id=\"counts\""), std::string::npos);
  EXPECT_NE(Page(server, "/policies").find(">better@1<"), std::string::npos);
  const std::string policy = Page(server, "/objects/better");
  EXPECT_NE(policy.find("min_delta"), std::string::npos);  // the YAML
  EXPECT_NE(policy.find("Adapters governed by it"), std::string::npos);
  EXPECT_NE(Page(server, "/suites").find(">garden@1<"), std::string::npos);
  EXPECT_NE(Page(server, "/bases").find(">tiny@1<"), std::string::npos);
  const std::string keys = Page(server, "/keys");
  for (const char* role : {"trainer", "evaluator", "approver", "registry"}) {
    EXPECT_NE(keys.find(std::string(">") + role + "<"), std::string::npos) << role;
  }
  const std::string channel = Page(server, "/channels/garden-bot@production");
  EXPECT_NE(channel.find(">garden-bot@1<"), std::string::npos);
  EXPECT_NE(Page(server, "/log?action=channel").find("id=\"events\""), std::string::npos);
  EXPECT_NE(Page(server, "/log/3").find("verified: event 3"), std::string::npos);
  EXPECT_NE(Page(server, "/checkpoint").find("signature verified"), std::string::npos);
  const std::string audit = Page(server, "/audit?run=1");
  EXPECT_NE(audit.find("audit passed"), std::string::npos);
}

// With GRAFT_SERVE_SCREENSHOTS=DIR, writes the screenshots of docs/serve.md (serve-*.png) of this
// suite's registry into DIR with headless Chromium (--screenshot), and checks each is a PNG of
// the window's size. Skipped otherwise.
TEST_F(BrowserTest, WritesTheDocumentationScreenshots) {
  const char* dir = std::getenv("GRAFT_SERVE_SCREENSHOTS");
  if (dir == nullptr || *dir == '\0') GTEST_SKIP() << "GRAFT_SERVE_SCREENSHOTS is not set";
  ServeProcess server(Path("reg"));
  ASSERT_NE(server.port(), 0) << server.log();
  // The audit page shows the latest run: run it first.
  ASSERT_EQ(HttpGet(server.port(), "/audit?run=1").status, 200);
  const std::vector<std::tuple<std::string, std::string, int>> shots = {
      {"serve-adapters.png", "/adapters", 420},
      {"serve-adapter.png", "/adapters/garden-bot@production", 1400},
      {"serve-event.png", "/log/3", 700},
      {"serve-channel.png", "/channels/garden-bot@production", 360},
      {"serve-policy.png", "/objects/better", 700},
      {"serve-audit.png", "/audit", 520}};
  for (const auto& [name, path, height] : shots) {
    const fs::path png = fs::absolute(fs::path(dir) / name);
    TempDir profile("graft-chromium");
    CliResult r =
        RunBinary(Chromium(),
                  {"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync", "--no-first-run",
                   "--disable-dev-shm-usage", "--hide-scrollbars",
                   "--user-data-dir=" + profile.path().string(), "--screenshot=" + png.string(),
                   "--window-size=1100," + std::to_string(height), server.base_url() + path},
                  {}, root_->path());
    ASSERT_EQ(r.exit_code, 0) << name << "\n" << r.err;
    Result<std::string> bytes = ReadFile(png, 16 << 20);
    ASSERT_TRUE(bytes.ok()) << name;
    ASSERT_GT(bytes->size(), 24u) << name;
    EXPECT_EQ(bytes->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << name;
    const auto be32 = [&](size_t at) {
      uint32_t v = 0;
      for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>((*bytes)[at + i]);
      return v;
    };
    EXPECT_EQ(be32(16), 1100u) << name;
    EXPECT_EQ(be32(20), static_cast<uint32_t>(height)) << name;
  }
}

}  // namespace
}  // namespace graft::testing

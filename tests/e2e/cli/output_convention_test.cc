// The machine-output convention (docs/cli.md, "Machine output"): every command's --json output is
// one JSON document alone on stdout that its JSON Schema (docs/schemas, reports/schema) accepts,
// the schemas reject wrong documents, and the spellings of the previous release still work with
// one deprecation warning.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>

#include "core/file_util.h"
#include "core/json.h"
#include "core/sha256.h"
#include "tests/support/cli_runner.h"
#include "tests/support/tiny_registry.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

// Runs scripts/validate-json SCHEMA FILE: 0 valid, 1 invalid, else the validator failed.
int Validate(const std::string& schema, const fs::path& file) {
  const std::string command = "python3 '" + (SourceDir() / "scripts/validate-json").string() +
                              "' '" + schema + "' '" + file.string() + "' 2>'" + file.string() +
                              ".errors'";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Errors(const fs::path& file) {
  auto text = ReadFile(file.string() + ".errors");
  return text.ok() ? *text : "";
}

// The deprecation warnings in `err`.
size_t Deprecations(const std::string& err) {
  const std::regex warning("warning: .* is deprecated; use ");
  return static_cast<size_t>(
      std::distance(std::sregex_iterator(err.begin(), err.end(), warning), std::sregex_iterator()));
}

class OutputConventionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = {{"GRAFT_REGISTRY", Path("reg")}};
    ASSERT_EQ(std::system("python3 -c 'import jsonschema' 2>/dev/null"), 0)
        << "python3-jsonschema is missing (scripts/setup installs it)";
  }
  std::string Path(const std::string& name) const { return (root_.path() / name).string(); }
  void Write(const std::string& name, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(root_.path() / name, text).ok());
  }
  CliResult Run(const std::vector<std::string>& args) { return RunGraft(args, env_); }
  void Expect(const std::vector<std::string>& args) {
    CliResult r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << "\n" << r.out << r.err;
  }
  // Runs `args`, expects `exit_code`, stdout to be one JSON document and nothing else, and the
  // document to match `schema` (a docs/schemas name, or a path); returns the document.
  Json ExpectJson(const std::string& schema, const std::vector<std::string>& args,
                  int exit_code = 0) {
    CliResult r = Run(args);
    std::string command;
    for (const std::string& arg : args) command += arg + " ";
    EXPECT_EQ(r.exit_code, exit_code) << command << "\n" << r.out << r.err;
    Json parsed = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(parsed.is_discarded()) << command << ": stdout is not one JSON document:\n"
                                        << r.out;
    const fs::path file = root_.path() / ("output-" + std::to_string(++outputs_) + ".json");
    EXPECT_TRUE(WriteFileAtomic(file, r.out).ok());
    EXPECT_EQ(Validate(schema, file), 0) << command << "\n" << Errors(file) << r.out;
    validated_.insert(schema);
    return parsed;
  }
  std::string Digest(const Json& object) { return object.value("digest", ""); }

  TempDir root_{"graft-output-convention"};
  std::map<std::string, std::string> env_;
  int outputs_ = 0;
  std::set<std::string> validated_;
};

std::string ReportSchema(const std::string& name) {
  return (SourceDir() / "reports/schema" / (name + ".v1.json")).string();
}

// Every command with JSON output, on a registry that goes through the whole lifecycle.
TEST_F(OutputConventionTest, EveryJsonOutputMatchesItsSchema) {
  ExpectJson("init", {"init", Path("other-reg"), "--json"});
  InitTinyRegistry(root_.path(), env_);
  ExpectJson("key-generate",
             {"key", "generate", "-a", "ecdsa-p256", "--out", Path("curator.pem"), "--json"});
  ExpectJson("key-generate", {"key", "generate", "--out", Path("witness.pem"), "--json"});
  ExpectJson("key", {"key", "trust", Path("curator.pem.pub"), "--role", "curator", "--json"});
  ExpectJson("key-list", {"key", "list", "--json"});

  std::string text;  // 12 items: a gate needs 10
  for (int i = 0; i < 12; ++i) {
    text += "{\"id\": \"t" + std::to_string(i) + "\", \"text\": \"the cat sat on the mat " +
            std::to_string(i % 3) + ".\"}\n";
  }
  Write("data.jsonl", text);
  Write("kpi.yaml",
        "suite: kpi\ntasks:\n  - name: text\n    type: loglikelihood_rolling\n"
        "    data: {path: data.jsonl, sha256: \"" +
            Sha256Hex(text) + "\"}\n    metrics: [bits_per_byte]\n");
  Write("policy.yaml",
        "policy: bot\npromotion:\n  regressions: [{suite: kpi, metric: bits_per_byte, margin: "
        "100.0}]\n"
        "  require: {approvals: 1}\n");
  Write("train.yaml",
        "lora: {r: 2, lora_alpha: 4, target_modules: [c_attn]}\noptimizer: {lr: 1.0e-2}\n"
        "batch_size: 4\nmax_seq_len: 32\nmax_steps: 4\nthreads: 1\n");
  const Json dataset =
      ExpectJson("object", {"dataset", "register", Path("data.jsonl"), "--name", "d", "--json"});
  EXPECT_EQ(dataset["kind"], "dataset");
  ExpectJson("object-list", {"dataset", "list", "--json"});
  ExpectJson("object-show", {"dataset", "show", "d@1", "--json"});
  ExpectJson("object", {"suite", "register", Path("kpi.yaml"), "--json"});
  const Json policy = ExpectJson("object", {"policy", "register", Path("policy.yaml"), "--json"});
  ExpectJson("object-show", {"policy", "show", "bot", "--json"});
  ExpectJson("object-list", {"base", "list", "--json"});
  ExpectJson("object-show", {"base", "show", "tiny", "--json"});
  ExpectJson("adapter-export", {"base", "export", "tiny", "--out", Path("base-out"), "--json"});
  ExpectJson("run-announce", {"run", "announce", "--base", "tiny", "--data", "d@1", "--policy",
                              "bot", "--key", Path("trainer.pem"), "--json"});
  ExpectJson("run-list", {"run", "list", "--policy", "bot", "--json"});

  for (const std::string seed : {"1", "2"}) {
    Write("train-" + seed + ".yaml", "seed: " + seed + "\n" + *ReadFile(Path("train.yaml")));
    Expect({"train", "--base", Path("base"), "--data", Path("data.jsonl"), "--config",
            Path("train-" + seed + ".yaml"), "--out", Path("bot-" + seed), "--key",
            Path("trainer.pem"), "--policy", Digest(policy)});
    ExpectJson("object", {"adapter", "register", Path("bot-" + seed), "--name", "bot", "--base",
                          "tiny", "--json"});
  }
  ExpectJson("object-list", {"adapter", "list", "--json"});
  const Json shown = ExpectJson("object-show", {"adapter", "show", "bot@1", "--json"});
  EXPECT_FALSE(shown["edges"].empty());
  ExpectJson("adapter-export", {"adapter", "export", "bot@1", "--out", Path("exported"), "--json"});
  const Json tagged = ExpectJson("adapter-annotate", {"adapter", "tag", "bot@1", "team=nlp",
                                                      "--key", Path("curator.pem"), "--json"});
  EXPECT_EQ(tagged["tags"]["team"], "nlp");
  ExpectJson("adapter-annotate", {"adapter", "describe", "bot@1", "A test bot.", "--key",
                                  Path("curator.pem"), "--json"});

  // eval: --json on stdout (the text table left out), --json-out to a file, the same result.
  const Json evaluated =
      ExpectJson("eval", {"eval", "bot@1", "--suite", "kpi", "--key", Path("evaluator.pem"),
                          "--resamples", "200", "--json", "--json-out", Path("eval.json")});
  const Json from_file = Json::parse(*ReadFile(Path("eval.json")));
  EXPECT_EQ(from_file, evaluated);
  EXPECT_EQ(Validate("eval", Path("eval.json")), 0) << Errors(Path("eval.json"));
  const Json several = ExpectJson("eval", {"eval", "bot@1", "bot@2", "--suite", "kpi", "--key",
                                           Path("evaluator.pem"), "--resamples", "200", "--json"});
  EXPECT_EQ(several["evaluations"].size(), 2u);

  // gate: the decision on stdout with --json (no Markdown summary), the same as --json-out.
  const Json decision =
      ExpectJson(ReportSchema("gate-decision"),
                 {"gate", "bot@1", "--policy", "bot", "--key", Path("evaluator.pem"), "--json",
                  "--json-out", Path("gate.json"), "--junit", Path("gate.xml")});
  EXPECT_EQ(decision["decision"]["verdict"], "pass") << decision.dump(2);
  EXPECT_EQ(Json::parse(*ReadFile(Path("gate.json"))), decision);
  EXPECT_TRUE(fs::is_regular_file(Path("gate.xml")));
  // The previous release's spellings, handed from graft to graft-model: one warning each.
  CliResult legacy_gate = Run({"gate", "bot@1", "--policy", "bot", "--key", Path("evaluator.pem"),
                               "--json", Path("legacy-gate.json")});
  EXPECT_EQ(legacy_gate.exit_code, 0) << legacy_gate.err;
  EXPECT_EQ(Deprecations(legacy_gate.err), 1u) << legacy_gate.err;
  EXPECT_NE(legacy_gate.err.find("--json FILE is deprecated; use --json-out FILE"),
            std::string::npos)
      << legacy_gate.err;
  EXPECT_NE(legacy_gate.out.find("PASS"), std::string::npos) << legacy_gate.out;  // Markdown
  EXPECT_EQ(Validate(ReportSchema("gate-decision"), Path("legacy-gate.json")), 0)
      << Errors(Path("legacy-gate.json"));
  CliResult legacy_eval =
      Run({"eval", "bot@1", "--suite", "kpi", "--key", Path("evaluator.pem"), "--resamples", "200",
           "--json=" + Path("legacy-eval.json"), "--format", "lm-eval", "--out", Path("lm")});
  EXPECT_EQ(legacy_eval.exit_code, 0) << legacy_eval.err;
  EXPECT_EQ(Deprecations(legacy_eval.err), 2u) << legacy_eval.err;
  EXPECT_NE(legacy_eval.err.find("use --lm-eval DIR"), std::string::npos) << legacy_eval.err;
  EXPECT_TRUE(fs::is_directory(Path("lm/bot@1")));
  EXPECT_EQ(Validate("eval", Path("legacy-eval.json")), 0) << Errors(Path("legacy-eval.json"));

  ExpectJson("approve", {"approve", "bot@1", "--key", Path("approver.pem"), "--json"});
  const Json promoted =
      ExpectJson("promote", {"promote", "bot@1", "--channel", "production", "--json"});
  EXPECT_TRUE(promoted["promoted"].get<bool>());
  Expect({"gate", "bot@2", "--policy", "bot", "--key", Path("evaluator.pem")});
  Expect({"approve", "bot@2", "--key", Path("approver.pem")});
  Expect({"promote", "bot@2", "--channel", "production"});
  ExpectJson("rollback", {"rollback", "bot", "--channel", "production", "--json"});
  Expect({"promote", "bot@2", "--channel", "production"});
  const Json retired = ExpectJson("retire", {"retire", "bot@2", "--reason", "test", "--json"});
  EXPECT_EQ(retired["rolled_back"].size(), 1u);
  ExpectJson(ReportSchema("adapter-report"), {"report", "bot@1", "--json"});
  ExpectJson(ReportSchema("audit-report"), {"report", "audit", "--json"});
  ExpectJson("lineage", {"lineage", "bot@1", "--json"});
  ExpectJson("lineage", {"lineage", "--uses", "tiny", "--json"});

  const Json revoked =
      ExpectJson("object", {"dataset", "revoke", "d@1", "--reason", "withdrawn", "--json"});
  EXPECT_TRUE(revoked["revoked"].get<bool>());
  const Json curator = Json::parse(Run({"key", "list", "--json"}).out).back();
  ExpectJson("key",
             {"key", "revoke", curator["key_id"].get<std::string>(), "--reason", "left", "--json"});
  ExpectJson("log-show", {"log", "show", "--from", "2", "--json"});
  ExpectJson("log-checkpoint", {"log", "checkpoint", "--json"});
  ExpectJson("log-prove", {"log", "prove", "3", "--json"});
  ExpectJson("log-prove", {"log", "prove", "--consistency", "4", "--json"});
  ExpectJson("log-witness", {"log", "witness", "--key", Path("witness.pem"), "--state",
                             Path("witness"), "--json"});
  ExpectJson("audit-verify", {"audit", "verify", "--json"});
  ExpectJson("registry-gc", {"registry", "gc", "--json"});
  const Json copied = ExpectJson(
      "registry-copy", {"registry", "copy", "--from", Path("reg"), "--to", Path("copy"), "--json"});
  EXPECT_GT(copied["events"].get<int64_t>(), 0);

  ExpectJson("sign", {"sign", Path("bot-1"), "--key", Path("curator.pem"), "--signature",
                      Path("bot-1.sig"), "--json"});
  ExpectJson("verify", {"verify", Path("bot-1"), "--signature", Path("bot-1.sig"), "--public-key",
                        Path("curator.pem.pub"), "--json"});
  Write("bot-1/extra.txt", "not signed\n");
  const Json failed = ExpectJson("verify",
                                 {"verify", Path("bot-1"), "--signature", Path("bot-1.sig"),
                                  "--public-key", Path("curator.pem.pub"), "--json"},
                                 12);
  EXPECT_FALSE(failed["verified"].get<bool>());
  ExpectJson("generate", {"generate", "--base", Path("base"), "--prompt", "the cat",
                          "--max-new-tokens", "3", "--json"});

  // Every schema in docs/schemas (but the shared definitions) was checked against a real output.
  for (const auto& entry : fs::directory_iterator(SourceDir() / "docs/schemas")) {
    std::string name = entry.path().filename().string();
    name = name.substr(0, name.find('.'));
    if (name != "common") {
      EXPECT_TRUE(validated_.contains(name)) << name << " was not exercised";
    }
  }
}

// Hand-made wrong documents: a missing field, a wrong type, an unknown field, a bad enum value,
// the wrong branch of a oneOf.
TEST_F(OutputConventionTest, SchemasRejectWrongDocuments) {
  const std::string hex(64, 'a');
  struct Case {
    std::string schema;
    Json document;
    std::string error;  // a path or word the validator names
  };
  const Json key = {{"key_id", hex}, {"role", "trainer"}, {"algorithm", "ed25519"},
                    {"name", "t"},   {"trusted_seq", 1},  {"revoked", false}};
  const Json object = {{"digest", "sha256:" + hex}, {"kind", "adapter"},     {"labels", {"bot@1"}},
                       {"attested", true},          {"created_seq", 3},      {"stage", nullptr},
                       {"revoked", false},          {"info", Json::object()}};
  ASSERT_TRUE(WriteFileAtomic(root_.path() / "key.json", key.dump()).ok());
  ASSERT_TRUE(WriteFileAtomic(root_.path() / "object.json", object.dump()).ok());
  ASSERT_EQ(Validate("key", root_.path() / "key.json"), 0) << Errors(root_.path() / "key.json");
  ASSERT_EQ(Validate("object", root_.path() / "object.json"), 0)
      << Errors(root_.path() / "object.json");
  Json tagged = object;
  tagged["tags"] = {{"team", "support"}};
  tagged["description"] = "the first";
  ASSERT_TRUE(WriteFileAtomic(root_.path() / "tagged.json", tagged.dump()).ok());
  EXPECT_EQ(Validate("object", root_.path() / "tagged.json"), 0)
      << Errors(root_.path() / "tagged.json");

  Json no_id = key;
  no_id.erase("key_id");
  Json wrong_type = key;
  wrong_type["trusted_seq"] = "1";
  Json extra = key;
  extra["colour"] = "red";
  Json bad_kind = object;
  bad_kind["kind"] = "adaptor";
  Json short_digest = object;
  short_digest["digest"] = "sha256:abc";
  Json listed_with_info = Json::array({object});
  Json bad_tag = object;
  bad_tag["tags"] = {{"team", 3}};
  const std::vector<Case> cases = {
      {"key", no_id, "key_id"},
      {"key", wrong_type, "trusted_seq"},
      {"key", extra, "colour"},
      {"object", bad_kind, "kind"},
      {"object", short_digest, "digest"},
      {"object-list", listed_with_info, "/0"},
      {"object", bad_tag, "tags"},
      {"verify", Json{{"verified", true}, {"error", "x"}}, "verified"},
      {"rollback", Json{{"channel", "production"}, {"from", "sha256:" + hex}}, "to"},
      {"log-show", Json::object(), "array"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const fs::path file = root_.path() / ("wrong-" + std::to_string(i) + ".json");
    ASSERT_TRUE(WriteFileAtomic(file, cases[i].document.dump()).ok());
    EXPECT_EQ(Validate(cases[i].schema, file), 1)
        << cases[i].schema << " accepted " << cases[i].document.dump();
    EXPECT_NE(Errors(file).find(cases[i].error), std::string::npos)
        << cases[i].schema << ": " << Errors(file);
  }
}

// The previous release's spellings: the same files and stdout, one warning each on stderr.
TEST_F(OutputConventionTest, DeprecatedSpellingsStillWorkWithAWarning) {
  Expect({"init"});
  {
    CliResult r = Run({"report", "audit", "--format", "json", "--out", Path("audit.json")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(Deprecations(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("use --json-out FILE"), std::string::npos) << r.err;
    EXPECT_EQ(Validate(ReportSchema("audit-report"), Path("audit.json")), 0)
        << Errors(Path("audit.json"));
  }
  {
    CliResult r = Run({"report", "audit", "-f", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Deprecations(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("use --json"), std::string::npos) << r.err;
    EXPECT_FALSE(Json::parse(r.out, nullptr, false).is_discarded()) << r.out;
  }
  {
    CliResult r = Run({"report", "audit", "--out", Path("audit.html")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("--out FILE is deprecated; use --html FILE"), std::string::npos) << r.err;
    EXPECT_NE(ReadFile(Path("audit.html"))->find("<html"), std::string::npos);
  }
  {
    CliResult r = Run({"report", "audit", "--format=md", "-o", Path("audit.md")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("use --markdown FILE"), std::string::npos) << r.err;
    EXPECT_TRUE(fs::is_regular_file(Path("audit.md")));
  }
  {
    // Not deprecated: --format md to stdout.
    CliResult r = Run({"report", "audit", "--format", "md"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("deprecated"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("# "), std::string::npos) << r.out;
  }
  {
    Write("data.jsonl", "{\"text\": \"a\"}\n");
    Expect({"dataset", "register", Path("data.jsonl"), "--name", "d"});
    CliResult r = Run({"lineage", "d@1", "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("--format json is deprecated; use --json"), std::string::npos) << r.err;
    EXPECT_EQ(Json::parse(r.out)["direction"], "lineage");
  }
}

}  // namespace
}  // namespace graft::testing

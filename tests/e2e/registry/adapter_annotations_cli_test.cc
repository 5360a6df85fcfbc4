// `graft adapter tag` and `graft adapter describe` through the built CLI on a real registry:
// round trips, list filters, the audit's replay of the tag tables, hostile input and signing.
#include <gtest/gtest.h>

#include "core/json.h"
#include "core/sha256.h"
#include "registry/registry.h"
#include "tests/e2e/registry/registry_cli_helpers.h"
#include "tests/support/cli_runner.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class AnnotationsCli : public RegistryCliTest {
 protected:
  void SetUp() override {
    RegistryCliTest::SetUp();
    trainer_ = TrainerKey("alice");
    base_ = Base();
  }
  // Registers a signed adapter (LoRA seed `seed`) under `name`; returns its digest.
  std::string Adapter(int seed, const std::string& name) {
    LoraShape shape;
    shape.seed = seed;
    std::string dir = SignedAdapter("a" + std::to_string(seed), trainer_, base_, shape);
    CliResult r = Run({"adapter", "register", dir, "--name", name, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ParseJson(r.out, "register").value()["digest"].get<std::string>().substr(7);
  }
  Json ShowJson(const std::string& ref) {
    CliResult r = Run({"adapter", "show", ref, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ParseJson(r.out, "show").value();
  }
  // Labels of the adapters `adapter list` prints with these extra arguments.
  std::vector<std::string> Listed(std::vector<std::string> args) {
    args.insert(args.begin(), {"adapter", "list", "--json"});
    CliResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Result<Json> listed = ParseJson(r.out, "list");
    std::vector<std::string> out;
    if (!listed.ok()) return {"unparsable: " + r.out + r.err};
    for (const Json& a : *listed) out.push_back(a["labels"][0]);
    return out;
  }
  uint64_t LogSize() { return registry::Registry::Open(reg_).value().LogSize().value(); }
  std::string DatabaseDigest() {
    return Sha256Hex(ReadFile(fs::path(reg_) / "registry.db").value());
  }

  std::string trainer_, base_;
};

TEST_F(AnnotationsCli, TagUntagAndDescribeRoundTripThroughShowListAndTheLog) {
  const std::string digest = Adapter(1, "bot");
  CliResult tag = Run({"adapter", "tag", "bot@1", "team=nlp", "owner=alice", "url=https://x/?a=b"});
  ASSERT_EQ(tag.exit_code, 0) << tag.err;
  EXPECT_TRUE(Has(tag.out, "bot@1 sha256:" + digest)) << tag.out;
  EXPECT_TRUE(Has(tag.out, "tags:       owner=alice, team=nlp, url=https://x/?a=b")) << tag.out;
  Json shown = ShowJson("bot@1");
  EXPECT_EQ(shown["tags"], Json({{"owner", "alice"}, {"team", "nlp"}, {"url", "https://x/?a=b"}}));
  EXPECT_FALSE(shown.contains("description"));

  // By digest prefix: replace one value and remove another, in one event.
  const uint64_t before = LogSize();
  CliResult change =
      Run({"adapter", "tag", digest.substr(0, 10), "team=search", "--remove", "owner", "--json"});
  ASSERT_EQ(change.exit_code, 0) << change.err;
  Json changed = ParseJson(change.out, "tag").value();
  EXPECT_EQ(changed["tags"], Json({{"team", "search"}, {"url", "https://x/?a=b"}}));
  EXPECT_EQ(changed["logged"], true);
  EXPECT_EQ(LogSize(), before + 1);
  registry::Registry reg = registry::Registry::Open(reg_).value();
  Json event = reg.GetEvent(before).value().json;
  EXPECT_EQ(event["action"], "adapter.tag");
  EXPECT_EQ(event["details"]["digest"], digest);
  EXPECT_EQ(event["details"]["set"], Json({{"team", "search"}}));
  EXPECT_EQ(event["details"]["remove"], Json::array({"owner"}));

  // Setting what is already there logs nothing.
  CliResult same = Run({"adapter", "tag", "bot", "team=search"});
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_TRUE(Has(same.out, "unchanged: nothing logged")) << same.out;
  EXPECT_EQ(LogSize(), before + 1);

  ASSERT_TRUE(WriteFileAtomic(Path("about.md"), "Support bot.\r\n\r\n\tTickets 2026.\r\n").ok());
  CliResult describe = Run({"adapter", "describe", "bot@1", "--file", Path("about.md")});
  ASSERT_EQ(describe.exit_code, 0) << describe.err;
  EXPECT_EQ(ShowJson("bot@1")["description"], "Support bot.\n\n\tTickets 2026.");
  EXPECT_EQ(reg.GetEvent(before + 1).value().json["action"], "adapter.describe");
  CliResult text = Run({"adapter", "show", "bot@1"});
  EXPECT_TRUE(Has(text.out, "  tags:       team=search, url=https://x/?a=b\n")) << text.out;
  EXPECT_TRUE(Has(text.out, "  description:\n    Support bot.\n    \n    \\tTickets 2026.\n"))
      << text.out;

  CliResult list = Run({"adapter", "list", "--json"});
  Json listed = ParseJson(list.out, "list").value();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["tags"], Json({{"team", "search"}, {"url", "https://x/?a=b"}}));
  EXPECT_EQ(listed[0]["description"], "Support bot.\n\n\tTickets 2026.");
  EXPECT_TRUE(Has(Run({"adapter", "list"}).out, "  tags: team=search, url=https://x/?a=b"));

  ASSERT_EQ(Run({"adapter", "describe", "bot@1", ""}).exit_code, 0);
  EXPECT_FALSE(ShowJson("bot@1").contains("description"));
  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

TEST_F(AnnotationsCli, ListFiltersByTagValueAndExistenceAllMustMatch) {
  Adapter(1, "bot");
  Adapter(2, "bot");
  Adapter(3, "vision");
  ASSERT_EQ(Run({"adapter", "tag", "bot@1", "team=nlp", "tier=gold"}).exit_code, 0);
  ASSERT_EQ(Run({"adapter", "tag", "bot@2", "team=nlp", "tier=silver"}).exit_code, 0);
  ASSERT_EQ(Run({"adapter", "tag", "vision@1", "team=cv"}).exit_code, 0);
  using Labels = std::vector<std::string>;
  EXPECT_EQ(Listed({"--tag", "team=nlp"}), (Labels{"bot@1", "bot@2"}));
  EXPECT_EQ(Listed({"--tag", "tier"}), (Labels{"bot@1", "bot@2"}));
  EXPECT_EQ(Listed({"--tag", "team=nlp", "--tag", "tier=silver"}), (Labels{"bot@2"}));
  EXPECT_EQ(Listed({"--tag", "team"}), (Labels{"bot@1", "bot@2", "vision@1"}));
  EXPECT_EQ(Listed({"--tag", "team=cv", "--name", "bot"}), Labels{});
  EXPECT_EQ(Listed({"--tag", "tier=bronze"}), Labels{});
  CliResult bad = Run({"adapter", "list", "--tag", "no good!"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(Has(bad.err, "tag key \"no good!\" contains '!'")) << bad.err;
}

TEST_F(AnnotationsCli, AuditNamesTheEventOfAnEditedTagOrDescriptionRow) {
  const std::string digest = Adapter(1, "bot");
  ASSERT_EQ(Run({"adapter", "tag", "bot@1", "team=nlp"}).exit_code, 0);
  const uint64_t tag_event = LogSize() - 1;
  ASSERT_EQ(Run({"adapter", "describe", "bot@1", "honest"}).exit_code, 0);
  ASSERT_EQ(Run({"audit", "verify"}).exit_code, 0);

  const std::string db = (fs::path(reg_) / "registry.db").string();
  ASSERT_EQ(std::system(("sqlite3 " + db + " \"UPDATE adapter_tags SET value = 'evil'\"").c_str()),
            0);
  CliResult audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 12) << audit.out;
  EXPECT_TRUE(Has(audit.out, "table adapter_tags: the log's row [\"" + digest +
                                 "\",\"team\",\"nlp\",\"" + std::to_string(tag_event) +
                                 "\"] is missing or was altered (written by event " +
                                 std::to_string(tag_event) + " adapter.tag)"))
      << audit.out;
  EXPECT_TRUE(Has(audit.out, "\"evil\"")) << audit.out;
  // Lists show what the tables say; the audit is what catches the edit.
  EXPECT_EQ(ShowJson("bot@1")["tags"]["team"], "evil");

  ASSERT_EQ(std::system(("sqlite3 " + db +
                         " \"UPDATE adapter_tags SET value = 'nlp'; DELETE FROM "
                         "adapter_descriptions\"")
                            .c_str()),
            0);
  audit = Run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 12) << audit.out;
  EXPECT_TRUE(Has(audit.out, "table adapter_descriptions: the log's row")) << audit.out;
  EXPECT_TRUE(Has(audit.out, "adapter.describe)")) << audit.out;
  EXPECT_FALSE(Has(audit.out, "table adapter_tags")) << audit.out;
}

TEST_F(AnnotationsCli, BadKeysValuesAndDescriptionsExitTwoAndChangeNothing) {
  Adapter(1, "bot");
  ASSERT_EQ(Run({"adapter", "tag", "bot@1", "team=nlp"}).exit_code, 0);
  ASSERT_TRUE(WriteFileAtomic(Path("escape.txt"), "red \x1b[31m text\n").ok());
  ASSERT_TRUE(WriteFileAtomic(Path("huge.txt"), std::string(50000, 'd')).ok());
  const std::string digest = DatabaseDigest();
  const uint64_t size = LogSize();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"tag", "bot@1", "bad key!=v"}, "contains '!'"},
      {{"tag", "bot@1", " lead=v"}, "starts or ends with a space"},
      {{"tag", "bot@1", "a@b=v"}, "contains '@'"},
      {{"tag", "bot@1", "=v"}, "empty tag key"},
      {{"tag", "bot@1", std::string(251, 'k') + "=v"}, "longer than 250 bytes"},
      {{"tag", "bot@1", "k=" + std::string(5001, 'v')}, "longer than 5000 bytes"},
      {{"tag", "bot@1", "k=two\nlines"}, "control character"},
      {{"tag", "bot@1", "k=\x1b]0;title\x07"}, "control character"},
      {{"tag", "bot@1",
        "k=\xe2\x80\xae"
        "evil"},
       "bidirectional-override"},
      {{"tag", "bot@1", "k=\xff\xfe"}, "not valid UTF-8"},
      {{"tag", "bot@1", "novalue"}, "is not KEY=VALUE"},
      {{"tag", "bot@1"}, "no tag to set or remove"},
      {{"tag", "bot@1", "k=1", "k=2"}, "is given two values"},
      {{"tag", "bot@1", "k=1", "--remove", "k"}, "both set and removed"},
      {{"tag", "bot@1", "--remove", "absent"}, "has no tag \"absent\""},
      {{"tag", "bot@9", "k=v"}, "no adapter bot@9"},
      {{"tag", base_, "k=v"}, "is a base, not a adapter"},
      {{"describe", "bot@1", "esc \x1b[2J"}, "control character"},
      {{"describe", "bot@1", std::string(20001, 'd')}, "longer than 20000 bytes"},
      {{"describe", "bot@1", "--file", Path("escape.txt")}, "escape.txt: the description"},
      {{"describe", "bot@1", "--file", Path("huge.txt")}, "huge.txt"},
      {{"describe", "bot@1", "--file", Path("absent.txt")}, "absent.txt"},
      {{"describe", "bot@1", "text", "--file", Path("escape.txt")}, "one of them"},
      {{"describe", "bot@1"}, "one of them"},
  };
  for (const auto& [args, why] : cases) {
    std::vector<std::string> full = {"adapter"};
    full.insert(full.end(), args.begin(), args.end());
    CliResult r = Run(full);
    EXPECT_EQ(r.exit_code, 2) << args[2].substr(0, 40) << "\n" << r.err;
    EXPECT_TRUE(Has(r.err, why)) << why << "\n" << r.err;
    // Errors never echo control characters raw.
    EXPECT_FALSE(Has(r.err, "\x1b")) << r.err;
  }
  EXPECT_EQ(LogSize(), size);
  EXPECT_EQ(DatabaseDigest(), digest);
  EXPECT_EQ(ShowJson("bot@1")["tags"], Json({{"team", "nlp"}}));
}

// A registry initialised with an admin key: a tag must be signed by a curator, trainer or
// release key; the audit replays who signed it.
TEST(AnnotationsSignedCli, UnsignedOrWrongRoleTagsAreRefusedAndSignedOnesAudited) {
  TempDir temp("graft-annotations-signed");
  auto path = [&](const std::string& name) { return (temp.path() / name).string(); };
  const std::string reg = path("reg");
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--registry", reg});
    return RunGraft(args);
  };
  ASSERT_EQ(RunGraft({"init", reg, "--new-admin-key", path("admin.pem")}).exit_code, 0);
  auto key = [&](const std::string& name, const std::string& role) {
    const std::string file = path(name + ".pem");
    EXPECT_EQ(RunGraft({"key", "generate", "--out", file}).exit_code, 0);
    CliResult trust =
        run({"key", "trust", file + ".pub", "--role", role, "--key", path("admin.pem")});
    EXPECT_EQ(trust.exit_code, 0) << trust.err;
    return file;
  };
  const std::string trainer = key("trainer", "trainer");
  const std::string approver = key("approver", "approver");
  const std::string release = key("release", "release");
  const std::string curator = key("curator", "curator");
  ASSERT_TRUE(WriteTinyGpt2Base(path("tiny")).ok());
  CliResult base =
      run({"base", "register", path("tiny"), "--name", "tiny", "--json", "--key", curator});
  ASSERT_EQ(base.exit_code, 0) << base.err;
  PrivateKey signer = PrivateKey::LoadPem(trainer).value();
  ASSERT_TRUE(WriteLoraAdapter(path("a1"), {}).ok());
  ProvenanceInputs inputs;
  inputs.base_digest = ParseJson(base.out, "base").value()["digest"].get<std::string>().substr(7);
  ASSERT_TRUE(WriteProvenance(path("a1"), signer, inputs).ok());
  ASSERT_TRUE(SignAdapter(path("a1"), signer).ok());
  ASSERT_EQ(run({"adapter", "register", path("a1"), "--name", "bot"}).exit_code, 0);

  CliResult unsigned_tag = run({"adapter", "tag", "bot@1", "team=nlp"});
  EXPECT_EQ(unsigned_tag.exit_code, 2);
  EXPECT_TRUE(Has(unsigned_tag.err,
                  "adapter.tag must be signed by a key with role curator or trainer or release"))
      << unsigned_tag.err;
  CliResult approver_tag = run({"adapter", "tag", "bot@1", "team=nlp", "--key", approver});
  EXPECT_EQ(approver_tag.exit_code, 12) << approver_tag.err;
  CliResult unsigned_describe = run({"adapter", "describe", "bot@1", "text"});
  EXPECT_EQ(unsigned_describe.exit_code, 2) << unsigned_describe.err;
  EXPECT_EQ(ParseJson(run({"adapter", "show", "bot@1", "--json"}).out, "show").value()["tags"],
            Json::object());

  for (const std::string& k : {trainer, release, curator}) {
    CliResult ok =
        run({"adapter", "tag", "bot@1", "by=" + fs::path(k).stem().string(), "--key", k});
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
  }
  ASSERT_EQ(run({"adapter", "describe", "bot@1", "curated", "--key", curator}).exit_code, 0);
  registry::Registry opened = registry::Registry::Open(reg).value();
  const uint64_t last = opened.LogSize().value() - 1;
  Json described = opened.GetEvent(last).value().json;
  EXPECT_EQ(described["actor"], PrivateKey::LoadPem(curator).value().key_id());
  EXPECT_TRUE(described.contains("signature"));
  CliResult audit = run({"audit", "verify"});
  EXPECT_EQ(audit.exit_code, 0) << audit.out;
}

}  // namespace
}  // namespace graft::testing

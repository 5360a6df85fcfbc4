// `graft serve` over HTTP: every JSON API route against a registry built through the CLI (values
// checked against the registry and re-verified here: checkpoint signature, inclusion and
// consistency proofs, the exported files' digests), every page, bad input (400/404 JSON, never a
// 500), security headers, bearer tokens, the rate-limited audit and the request log.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "core/encoding.h"
#include "core/file_util.h"
#include "core/json.h"
#include "core/keys.h"
#include "core/sha256.h"
#include "registry/checkpoint.h"
#include "registry/merkle_tree.h"
#include "registry/registry.h"
#include "tests/support/cli_runner.h"
#include "tests/support/peft_fixture.h"
#include "tests/support/serve_process.h"

namespace graft::testing {
namespace {
namespace fs = std::filesystem;

Digest HexDigest(const Json& value) { return ParseDigestHex(value.get<std::string>()).value(); }

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reg_ = Path("reg");
    ASSERT_EQ(RunGraft({"init", reg_}).exit_code, 0);
    key_ = Path("alice.pem");
    ASSERT_EQ(RunGraft({"key", "generate", "--out", key_}).exit_code, 0);
    Expect({"key", "trust", key_ + ".pub", "--role", "trainer", "--name", "alice"});
    ASSERT_TRUE(WriteTinyGpt2Base(Path("tiny")).ok());
    Expect({"base", "register", Path("tiny"), "--name", "tiny"});
    base_ = BaseDigest(Path("tiny"));
    ASSERT_TRUE(WriteFileAtomic(Path("strict.yaml"),
                                "policy: strict\npromotion:\n  require: {approvals: 2}\n")
                    .ok());
    Expect({"policy", "register", Path("strict.yaml")});
    a1_ = Adapter("a1", 1);
    Expect({"adapter", "register", Path("a1"), "--name", "bot"});
    checkpoint_before_ = Checkpoint();
    a2_ = Adapter("a2", 2);
    Expect({"adapter", "register", Path("a2"), "--name", "bot"});
  }

  std::string Path(const std::string& name) { return (temp_.path() / name).string(); }
  void Expect(std::vector<std::string> args) {
    args.push_back("--registry");
    args.push_back(reg_);
    CliResult r = RunGraft(args);
    ASSERT_EQ(r.exit_code, 0) << args[0] << " " << args[1] << "\n" << r.out << r.err;
  }
  // A signed adapter directory for the base; returns its digest.
  std::string Adapter(const std::string& name, int seed) {
    const std::string dir = Path(name);
    PrivateKey key = PrivateKey::LoadPem(key_).value();
    LoraShape shape;
    shape.seed = seed;
    EXPECT_TRUE(WriteLoraAdapter(dir, shape).ok());
    ProvenanceInputs inputs;
    inputs.base_digest = base_;
    EXPECT_TRUE(WriteProvenance(dir, key, inputs).ok());
    EXPECT_TRUE(SignAdapter(dir, key).ok());
    return AdapterDigest(dir);
  }
  std::string Checkpoint() {
    registry::Registry reg = registry::Registry::Open(reg_).value();
    return reg.LatestCheckpoint().value();
  }
  // GET that must answer `status` with a JSON body.
  Json GetJson(ServeProcess& server, const std::string& target, int status = 200) {
    HttpResult r = HttpGet(server.port(), target);
    EXPECT_EQ(r.status, status) << target << "\n" << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/json") << target;
    Result<Json> json = ParseJson(r.body, target);
    EXPECT_TRUE(json.ok()) << target << ": " << r.body;
    return json.ok() ? *json : Json();
  }

  TempDir temp_{"graft-serve-it"};
  std::string reg_, key_, base_, a1_, a2_, checkpoint_before_;
};

TEST_F(ServeTest, ResolvesEveryReferenceForm) {
  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  const std::map<std::string, std::string> refs = {{"bot@1", a1_},
                                                   {"bot@2", a2_},
                                                   {"bot", a2_},
                                                   {"sha256:" + a1_, a1_},
                                                   {a2_, a2_},
                                                   {a1_.substr(0, 12), a1_},
                                                   {"sha256:" + a2_.substr(0, 10), a2_}};
  for (const auto& [ref, digest] : refs) {
    Json r = GetJson(server, "/api/v1/resolve?ref=" + ref);
    EXPECT_EQ(r["digest"], "sha256:" + digest) << ref;
    EXPECT_EQ(r["kind"], "adapter") << ref;
    EXPECT_EQ(r["stage"], "candidate") << ref;
  }
  Json base = GetJson(server, "/api/v1/resolve?ref=tiny&kind=base");
  EXPECT_EQ(base["digest"], "sha256:" + base_);
}

TEST_F(ServeTest, BadInputIs400Or404JsonNeverA500) {
  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  const std::vector<std::pair<std::string, int>> cases = {
      {"/api/v1/resolve", 400},
      {"/api/v1/resolve?ref=", 400},
      {"/api/v1/resolve?ref=bot@99", 404},
      {"/api/v1/resolve?ref=bot@999999999999999999999999", 400},
      {"/api/v1/resolve?ref=nope", 404},
      {"/api/v1/resolve?ref=..%2F..%2Fetc%2Fpasswd", 400},
      {"/api/v1/resolve?ref=%2Fetc%2Fpasswd", 400},
      {"/api/v1/resolve?ref=bot%00", 400},
      {"/api/v1/resolve?ref=%zz", 400},
      {"/api/v1/resolve?ref=sha256:xyz", 400},
      {"/api/v1/resolve?ref=" + std::string(64, '0'), 404},
      {"/api/v1/resolve?ref=" + std::string(300, 'a'), 400},
      {"/api/v1/resolve?ref=bot@1&kind=base", 404},
      {"/api/v1/resolve?ref=bot@1&kind=evil", 400},
      {"/api/v1/adapters/..%2F..%2Fregistry.db", 400},
      {"/api/v1/adapters/tiny", 404},
      {"/api/v1/adapters/bot@1/lineage?direction=sideways", 400},
      {"/api/v1/adapters?page=0", 400},
      {"/api/v1/adapters?per_page=100000", 400},
      {"/api/v1/adapters?stage=bogus", 400},
      {"/api/v1/adapters?base=nope", 404},
      {"/api/v1/objects/sha256:" + std::string(64, 'f'), 404},
      {"/api/v1/log/abc", 400},
      {"/api/v1/log/-1", 400},
      {"/api/v1/log/999999", 404},
      {"/api/v1/proofs/inclusion", 400},
      {"/api/v1/proofs/inclusion?seq=999999", 404},
      {"/api/v1/proofs/inclusion?seq=1&size=0", 400},
      {"/api/v1/proofs/inclusion?seq=1&size=999999", 400},
      {"/api/v1/proofs/consistency?old=0", 400},
      {"/api/v1/proofs/consistency?old=5&new=3", 400},
      {"/api/v1/nothing", 404},
      {"/api/v2/resolve?ref=bot", 404},
  };
  for (const auto& [target, status] : cases) {
    Json error = GetJson(server, target, status);
    EXPECT_TRUE(error.contains("error") && error["error"].is_string()) << target;
  }
  // Pages answer the same statuses as HTML.
  for (const auto& [target, status] :
       std::vector<std::pair<std::string, int>>{{"/adapters/..%2F..%2Fetc%2Fpasswd", 400},
                                                {"/adapters/bot@7", 404},
                                                {"/objects/nope", 404},
                                                {"/log/x", 400},
                                                {"/log/999999", 404},
                                                {"/channels/nope", 400},
                                                {"/channels/bot@nowhere", 404},
                                                {"/adapters?verdict=maybe", 400},
                                                {"/no-such-page", 404}}) {
    HttpResult r = HttpGet(server.port(), target);
    EXPECT_EQ(r.status, status) << target;
    EXPECT_EQ(r.headers["content-type"], "text/html; charset=utf-8") << target;
    EXPECT_NE(r.body.find("id=\"error\""), std::string::npos) << target;
  }
  EXPECT_EQ(server.log().find("\" 500 "), std::string::npos) << server.log();
}

TEST_F(ServeTest, AdapterRecordLineageDecisionsAndList) {
  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  Json record = GetJson(server, "/api/v1/adapters/bot@1");
  EXPECT_EQ(record["digest"], "sha256:" + a1_);
  EXPECT_EQ(record["labels"], Json::array({"bot@1"}));
  EXPECT_EQ(record["info"]["base"], base_);
  EXPECT_EQ(record["stage"], "candidate");
  EXPECT_EQ(record["revocations"], Json::array());
  Json lineage = GetJson(server, "/api/v1/adapters/bot@1/lineage");
  std::set<std::string> ids;
  for (const Json& node : lineage["nodes"]) ids.insert(node["id"].get<std::string>());
  EXPECT_TRUE(ids.contains(a1_));
  EXPECT_TRUE(ids.contains(base_));
  Json uses = GetJson(server, "/api/v1/adapters/bot@1/lineage?direction=uses");
  EXPECT_EQ(uses["nodes"].size(), 1u);  // nothing is built on bot@1
  Json decisions = GetJson(server, "/api/v1/adapters/bot@2/decisions");
  EXPECT_EQ(decisions["digest"], "sha256:" + a2_);
  EXPECT_EQ(decisions["decisions"], Json::array());

  Json all = GetJson(server, "/api/v1/adapters?per_page=1");
  EXPECT_EQ(all["total"], 2);
  ASSERT_EQ(all["adapters"].size(), 1u);
  EXPECT_EQ(all["adapters"][0]["digest"], "sha256:" + a2_);  // newest first
  EXPECT_EQ(all["adapters"][0]["base_label"], "tiny@1");
  Json second = GetJson(server, "/api/v1/adapters?per_page=1&page=2");
  EXPECT_EQ(second["adapters"][0]["digest"], "sha256:" + a1_);
  EXPECT_EQ(GetJson(server, "/api/v1/adapters?q=" + a1_.substr(0, 8))["total"], 1);
  EXPECT_EQ(GetJson(server, "/api/v1/adapters?base=tiny&verdict=none")["total"], 2);
  EXPECT_EQ(GetJson(server, "/api/v1/adapters?stage=production")["total"], 0);
  EXPECT_EQ(GetJson(server, "/api/v1/adapters?name=other")["total"], 0);

  Json base = GetJson(server, "/api/v1/objects/tiny");
  EXPECT_EQ(base["kind"], "base");
  EXPECT_EQ(base["digest"], "sha256:" + base_);
}

TEST_F(ServeTest, CheckpointAndProofsVerifyAgainstTheRegistryKey) {
  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  registry::Registry reg = registry::Registry::Open(reg_).value();
  HttpResult note = HttpGet(server.port(), "/api/v1/checkpoint");
  ASSERT_EQ(note.status, 200);
  EXPECT_EQ(note.headers["content-type"], "text/plain; charset=utf-8");
  Result<registry::Checkpoint> checkpoint =
      registry::Checkpoint::ParseAndVerify(note.body, reg.origin(), reg.registry_key());
  ASSERT_TRUE(checkpoint.ok()) << checkpoint.status().ToString() << "\n" << note.body;
  ASSERT_EQ(checkpoint->size, reg.LogSize().value());
  for (uint64_t seq = 0; seq < checkpoint->size; ++seq) {
    Json event = GetJson(server, "/api/v1/log/" + std::to_string(seq));
    Json proof = GetJson(server, "/api/v1/proofs/inclusion?seq=" + std::to_string(seq));
    const Digest leaf = registry::MerkleLeafHash(event["body"].get<std::string>());
    EXPECT_EQ(DigestHex(leaf), proof["leaf_hash"]);
    std::vector<Digest> path;
    for (const Json& h : proof["path"]) path.push_back(HexDigest(h));
    EXPECT_TRUE(registry::VerifyInclusion(leaf, seq, checkpoint->size, path, checkpoint->root))
        << seq;
    EXPECT_EQ(proof["matches_checkpoint"], true);
  }
  // The checkpoint kept before bot@2 was registered is a prefix of the latest one.
  registry::Checkpoint kept =
      registry::Checkpoint::ParseAndVerify(checkpoint_before_, reg.origin(), reg.registry_key())
          .value();
  Json consistency = GetJson(server, "/api/v1/proofs/consistency?old=" + std::to_string(kept.size));
  std::vector<Digest> path;
  for (const Json& h : consistency["path"]) path.push_back(HexDigest(h));
  EXPECT_EQ(consistency["new_size"], checkpoint->size);
  EXPECT_TRUE(
      registry::VerifyConsistency(kept.size, checkpoint->size, kept.root, checkpoint->root, path));
  // A tampered proof does not verify: the test can tell.
  path.back()[0] ^= 1;
  EXPECT_FALSE(
      registry::VerifyConsistency(kept.size, checkpoint->size, kept.root, checkpoint->root, path));
}

TEST_F(ServeTest, ExportIsAVerifiedTarAndARevokedAdapterIsRefused) {
  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  HttpResult tar = HttpGet(server.port(), "/api/v1/adapters/bot@1/export");
  ASSERT_EQ(tar.status, 200) << tar.body;
  EXPECT_EQ(tar.headers["content-type"], "application/x-tar");
  EXPECT_EQ(tar.headers["x-graft-digest"], "sha256:" + a1_);
  EXPECT_EQ(tar.headers["content-disposition"], "attachment; filename=\"bot-1.tar\"");
  ASSERT_TRUE(WriteFileAtomic(Path("bot.tar"), tar.body).ok());
  fs::create_directories(Path("extracted"));
  ASSERT_EQ(
      std::system(("tar -xf '" + Path("bot.tar") + "' -C '" + Path("extracted") + "'").c_str()), 0);
  EXPECT_EQ(HashTree(Path("extracted")), HashTree(Path("a1")));
  EXPECT_EQ(AdapterDigest(Path("extracted")), a1_);

  CliResult keys = RunGraft({"key", "list", "--json", "--registry", reg_});
  std::string alice;
  const Json key_list = ParseJson(keys.out, "keys").value();
  for (const Json& key : key_list) {
    if (key["name"] == "alice") alice = key["key_id"].get<std::string>();
  }
  Expect({"key", "revoke", alice, "--reason", "laptop stolen"});
  Json refused = GetJson(server, "/api/v1/adapters/bot@1/export", 409);
  EXPECT_NE(refused["error"].get<std::string>().find("revoked"), std::string::npos);
  Json record = GetJson(server, "/api/v1/adapters/bot@1");
  ASSERT_EQ(record["revocations"].size(), 1u);
  EXPECT_NE(record["revocations"][0].get<std::string>().find("laptop stolen"), std::string::npos);
}

TEST_F(ServeTest, SecurityHeadersReadOnlyMethodsLimitsAndRequestLog) {
  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  const uint64_t size_before = registry::Registry::Open(reg_).value().LogSize().value();
  for (const std::string target : {"/adapters", "/api/v1/resolve?ref=bot"}) {
    HttpResult r = HttpGet(server.port(), target);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers["content-security-policy"].rfind("default-src 'none';", 0), 0u);
    EXPECT_EQ(r.headers["content-security-policy"].find("http"), std::string::npos);
    EXPECT_EQ(r.headers["x-content-type-options"], "nosniff");
    EXPECT_EQ(r.headers["x-frame-options"], "DENY");
    EXPECT_EQ(r.headers["cache-control"], "no-store");
  }
  for (const std::string method : {"POST", "PUT", "DELETE", "PATCH"}) {
    HttpResult r = HttpExchange(server.port(), method +
                                                   " /api/v1/resolve?ref=bot HTTP/1.1\r\n"
                                                   "Host: x\r\nConnection: close\r\n"
                                                   "Content-Length: 0\r\n\r\n");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.headers["allow"], "GET, HEAD");
  }
  HttpResult head =
      HttpExchange(server.port(),
                   "HEAD /api/v1/resolve?ref=bot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  HttpResult big = HttpGet(server.port(), "/", {"X-Padding: " + std::string(20000, 'x')});
  EXPECT_EQ(big.status, 431);
  HttpResult garbage = HttpExchange(server.port(), "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_EQ(garbage.status, 400);
  HttpResult body = HttpExchange(server.port(),
                                 "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                 "Content-Length: 5\r\n\r\nhello");
  EXPECT_EQ(body.status, 413);
  // Nothing was written: same log, and the audit passes.
  EXPECT_EQ(registry::Registry::Open(reg_).value().LogSize().value(), size_before);
  CliResult audit = RunGraft({"audit", "verify", "--registry", reg_});
  EXPECT_EQ(audit.exit_code, 0) << audit.out;
  const std::string log = server.log();
  EXPECT_NE(log.find("127.0.0.1 \"GET /api/v1/resolve?ref=bot\" 200 "), std::string::npos) << log;
  EXPECT_NE(log.find("\"POST /api/v1/resolve?ref=bot\" 405 "), std::string::npos) << log;
  EXPECT_NE(log.find(" 431 "), std::string::npos) << log;
}

TEST_F(ServeTest, AuditIsRateLimited) {
  ServeProcess server(reg_, {"--audit-interval", "3600"});
  ASSERT_NE(server.port(), 0) << server.log();
  Json first = GetJson(server, "/api/v1/audit");
  EXPECT_EQ(first["ok"], true);
  EXPECT_EQ(first["problems"], Json::array());
  EXPECT_FALSE(first["checked"].empty());
  HttpResult second = HttpGet(server.port(), "/api/v1/audit");
  EXPECT_EQ(second.status, 429);
  EXPECT_FALSE(second.headers["retry-after"].empty());
  EXPECT_EQ(ParseJson(second.body, "429").value()["latest"]["ok"], true);
  HttpResult page = HttpGet(server.port(), "/audit?run=1");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("id=\"rate-limited\""), std::string::npos);
  EXPECT_NE(page.body.find("audit passed"), std::string::npos);
}

TEST_F(ServeTest, BearerTokenAndListenChecks) {
  const std::string token = "s3cret-token-0123456789";
  ASSERT_TRUE(WriteFileAtomic(Path("token"), token + "\n", fs::perms(0600)).ok());
  {
    ServeProcess server(reg_, {"--token-file", Path("token")});
    ASSERT_NE(server.port(), 0) << server.log();
    EXPECT_EQ(HttpGet(server.port(), "/api/v1/resolve?ref=bot").status, 401);
    EXPECT_EQ(HttpGet(server.port(), "/adapters", {"Authorization: Bearer wrong-token-0123456789"})
                  .status,
              401);
    HttpResult ok =
        HttpGet(server.port(), "/api/v1/resolve?ref=bot", {"Authorization: Bearer " + token});
    EXPECT_EQ(ok.status, 200) << ok.body;
  }
  ASSERT_TRUE(WriteFileAtomic(Path("open-token"), token + "\n", fs::perms(0644)).ok());
  const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
      {{"--listen", "0.0.0.0:0"}, "give --token-file"},
      {{"--listen", "localhost"}, "HOST:PORT"},
      {{"--listen", "127.0.0.1:99999"}, "port must be"},
      {{"--listen", "not-an-ip:80"}, "not an IP address"},
      {{"--token-file", Path("open-token")}, "readable by others"},
      {{"--token-file", Path("nope")}, "not found"},
      {{"--threads", "0"}, "--threads"},
      {{"--light-workers", "0"}, "--light-workers must be 1 to 64"},
      {{"--light-queue", "100001"}, "--light-queue must be 1 to 100000"},
      {{"--warm-up", "-1"}, "--warm-up must be 0 to 100000"},
  };
  for (const auto& [args, message] : refused) {
    std::vector<std::string> full = {"serve", "--registry", reg_};
    full.insert(full.end(), args.begin(), args.end());
    CliResult r = RunGraft(full);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args[1];
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  }
  CliResult missing = RunGraft({"serve", "--registry", Path("nope"), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no graft registry"), std::string::npos) << missing.err;
}

TEST_F(ServeTest, EveryPageRendersWithLinksThatResolve) {
  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  const std::vector<std::pair<std::string, std::string>> pages = {
      {"/", "id=\"counts\""},
      {"/adapters", "2 adapter(s)"},
      {"/adapters?q=" + a1_.substr(0, 8), "1 adapter(s)"},
      {"/adapters/bot@1", "sha256:" + a1_},
      {"/bases", "tiny@1"},
      {"/datasets", "<table id=\"objects\">"},
      {"/suites", "<table id=\"objects\">"},
      {"/policies", "strict@1"},
      {"/objects/strict", "approvals: 2"},
      {"/objects/tiny", "bot@2"},
      {"/keys", "laptop"},  // replaced below: no revocation yet
      {"/channels", "<table id=\"channels\">"},
      {"/log", "id=\"events\""},
      {"/log/0", "verified: event 0"},
      {"/checkpoint", "signature verified"},
      {"/audit", "Run audit verify"}};
  for (const auto& [target, needle] : pages) {
    HttpResult r = HttpGet(server.port(), target);
    EXPECT_EQ(r.status, 200) << target << "\n" << r.body;
    if (target == "/keys") {
      EXPECT_NE(r.body.find("alice"), std::string::npos);
      continue;
    }
    EXPECT_NE(r.body.find(needle), std::string::npos) << target;
    // Every local link on the page answers 200.
    for (size_t at = r.body.find("href=\"/"); at != std::string::npos;
         at = r.body.find("href=\"/", at + 1)) {
      std::string href = r.body.substr(at + 6, r.body.find('"', at + 6) - at - 6);
      for (size_t amp = href.find("&amp;"); amp != std::string::npos; amp = href.find("&amp;")) {
        href.replace(amp, 5, "&");
      }
      if (href.find("/export") != std::string::npos || href == "/audit?run=1") continue;
      EXPECT_EQ(HttpGet(server.port(), href).status, 200) << target << " links to " << href;
    }
  }
}

// How many request log lines name `target` and end with `note` ("built": verified for that
// request, "cached": from the verification cache).
size_t Served(const std::string& log, const std::string& target, const std::string& note) {
  size_t count = 0;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"GET " + target + "\" 200 ") != std::string::npos &&
        line.ends_with(" " + note)) {
      ++count;
    }
  }
  return count;
}

// A page is kept while the log is unchanged, under its adapter's digest (any reference to it
// shares it, no other adapter sees it), and a new approval shows on the very next request.
TEST_F(ServeTest, VerificationCacheFollowsTheLogAndKeepsAdaptersApart) {
  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  HttpResult first = HttpGet(server.port(), "/adapters/bot@1");
  ASSERT_EQ(first.status, 200);
  EXPECT_NE(first.body.find("for this request"), std::string::npos);
  HttpResult again = HttpGet(server.port(), "/adapters/sha256:" + a1_);
  ASSERT_EQ(again.status, 200);
  EXPECT_FALSE(first.headers["x-graft-verified-at"].empty());
  EXPECT_EQ(again.headers["x-graft-verified-at"], first.headers["x-graft-verified-at"]);
  EXPECT_NE(again.body.find("kept in the verification cache"), std::string::npos);
  EXPECT_NE(again.body.find("<h1>Adapter report: bot@1</h1>"), std::string::npos);
  HttpResult other = HttpGet(server.port(), "/adapters/bot@2");
  ASSERT_EQ(other.status, 200);
  EXPECT_NE(other.body.find("<h1>Adapter report: bot@2</h1>"), std::string::npos);
  EXPECT_NE(other.body.find("sha256:" + a2_), std::string::npos);
  EXPECT_EQ(other.body.find("sha256:" + a1_), std::string::npos);
  EXPECT_NE(other.body.find("for this request"), std::string::npos);
  EXPECT_EQ(Served(server.log(), "/adapters/bot@1", "built"), 1u) << server.log();
  EXPECT_EQ(Served(server.log(), "/adapters/sha256:" + a1_, "cached"), 1u) << server.log();

  // An approval (a new attestation and log event) is on the next page served.
  const std::string carol = Path("carol.pem");
  ASSERT_EQ(RunGraft({"key", "generate", "--out", carol}).exit_code, 0);
  Expect({"key", "trust", carol + ".pub", "--role", "approver", "--name", "carol"});
  EXPECT_EQ(HttpGet(server.port(), "/adapters/bot@1").body.find("ship-it-4711"), std::string::npos);
  Expect({"approve", "bot@1", "--key", carol, "--comment", "ship-it-4711"});
  HttpResult approved = HttpGet(server.port(), "/adapters/bot@1");
  EXPECT_NE(approved.body.find("ship-it-4711"), std::string::npos);
  EXPECT_NE(approved.body.find("for this request"), std::string::npos);
  EXPECT_EQ(Served(server.log(), "/adapters/bot@1", "built"), 3u) << server.log();
  // "bot" names the newest version: after bot@3 is registered, its page.
  EXPECT_NE(HttpGet(server.port(), "/adapters/bot").body.find("sha256:" + a2_), std::string::npos);
  const std::string a3 = Adapter("a3", 3);
  Expect({"adapter", "register", Path("a3"), "--name", "bot"});
  HttpResult newest = HttpGet(server.port(), "/adapters/bot");
  EXPECT_NE(newest.body.find("sha256:" + a3), std::string::npos);
  EXPECT_EQ(newest.body.find("sha256:" + a2_), std::string::npos);
  // The other pages follow the log too.
  EXPECT_NE(HttpGet(server.port(), "/adapters").body.find("3 adapter(s)"), std::string::npos);
}

// Many clients asking at once for one adapter page not kept yet cause one verification: the
// others wait for it and are answered from the cache, all with the same page.
TEST_F(ServeTest, ConcurrentRequestsForAColdPageShareOneBuild) {
  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  constexpr int kClients = 24;
  std::vector<HttpResult> results(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] { results[i] = HttpGet(server.port(), "/adapters/bot@1"); });
  }
  for (std::thread& client : clients) client.join();
  for (const HttpResult& r : results) {
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.at("x-graft-verified-at"), results[0].headers.at("x-graft-verified-at"));
    EXPECT_NE(r.body.find("sha256:" + a1_), std::string::npos);
  }
  EXPECT_EQ(Served(server.log(), "/adapters/bot@1", "built"), 1u) << server.log();
  EXPECT_EQ(Served(server.log(), "/adapters/bot@1", "cached"), kClients - 1u) << server.log();
}

// --warm-up N verifies and keeps, at start, the pages of the N adapters the newest events name.
TEST_F(ServeTest, WarmUpKeepsTheMostRecentlyTouchedAdapters) {
  Expect({"adapter", "tag", "bot@1", "team=warm"});  // bot@1 is now the most recently touched
  ServeProcess server(reg_, {"--warm-up", "1"});
  ASSERT_NE(server.port(), 0) << server.log();
  for (int i = 0; i < 300 && server.log().find("warm-up:") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(server.log().find("graft serve: warm-up: 1 adapter page(s) verified and kept in "),
            std::string::npos)
      << server.log();
  EXPECT_NE(HttpGet(server.port(), "/adapters/bot@1").body.find("team=warm"), std::string::npos);
  EXPECT_EQ(HttpGet(server.port(), "/adapters/bot@2").status, 200);
  EXPECT_EQ(Served(server.log(), "/adapters/bot@1", "cached"), 1u) << server.log();
  EXPECT_EQ(Served(server.log(), "/adapters/bot@2", "built"), 1u) << server.log();
}

// A log append drops exactly the kept pages its events touch (the objects they name, a moved
// channel, the keys, the log and checkpoint pages); every other page is served from the cache,
// carried to the new log head, and every page shows the append on the next request.
TEST_F(ServeTest, LogAppendsRefreshOnlyThePagesTheyTouch) {
  auto change = [&](const std::function<Status(registry::Registry&)>& body) {
    registry::Registry reg = registry::Registry::Open(reg_).value();
    Status status = body(reg);
    EXPECT_TRUE(status.ok()) << status.message();
  };
  change([&](registry::Registry& reg) {
    return reg.SetChannel("bot@production", a2_, "first release");
  });
  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  const std::string base_page = "/objects/sha256:" + base_;
  const std::vector<std::string> pages = {
      "/adapters/bot@1", "/adapters/bot@2", base_page, "/keys", "/channels/bot@production", "/log",
      "/log/0",          "/checkpoint"};
  std::map<std::string, std::string> bodies;
  // Requests every page; returns the ones built (not served from the cache) by this round.
  auto round = [&] {
    std::set<std::string> built;
    for (const std::string& page : pages) {
      const size_t before = Served(server.log(), page, "built");
      HttpResult r = HttpGet(server.port(), page);
      EXPECT_EQ(r.status, 200) << page << "\n" << r.body;
      bodies[page] = r.body;
      if (Served(server.log(), page, "built") > before) built.insert(page);
    }
    return built;
  };
  // Every append changes the log list and the checkpoint every event page is proven against.
  auto with_log = [](std::set<std::string> touched) {
    touched.insert({"/log", "/log/0", "/checkpoint"});
    return touched;
  };
  EXPECT_EQ(round().size(), pages.size());
  EXPECT_EQ(round(), std::set<std::string>());
  const std::string carried = "appended since touch nothing this page shows";

  // A stage change names bot@1: its page, and the base's (it lists bot@1 as a dependent).
  change([&](registry::Registry& reg) { return reg.SetStage(a1_, "staging", "soak test"); });
  EXPECT_EQ(round(), with_log({"/adapters/bot@1", base_page}));
  EXPECT_NE(bodies["/adapters/bot@1"].find("Stage staging"), std::string::npos);
  EXPECT_NE(bodies["/adapters/bot@2"].find("kept in the verification cache), against the log of"),
            std::string::npos);
  EXPECT_NE(bodies["/adapters/bot@2"].find(carried), std::string::npos);
  EXPECT_EQ(bodies["/adapters/bot@2"].find("Stage staging"), std::string::npos);

  // A tag names bot@2: its page, the base's, and the channel's (it serves bot@2).
  Expect({"adapter", "tag", "bot@2", "team=vision-7"});
  EXPECT_EQ(round(), with_log({"/adapters/bot@2", base_page, "/channels/bot@production"}));
  EXPECT_NE(bodies["/adapters/bot@2"].find("team=vision-7"), std::string::npos);
  EXPECT_EQ(bodies["/adapters/bot@1"].find("team=vision-7"), std::string::npos);

  // A channel moves from bot@2 to bot@1: both pages show it, the channel's history too.
  change([&](registry::Registry& reg) {
    return reg.SetChannel("bot@production", a1_, "move-reason-5");
  });
  EXPECT_EQ(round(), with_log({"/adapters/bot@1", "/adapters/bot@2", base_page,
                               "/channels/bot@production"}));
  EXPECT_NE(bodies["/channels/bot@production"].find("move-reason-5"), std::string::npos);
  EXPECT_NE(bodies["/adapters/bot@1"].find("bot@production"), std::string::npos);

  // Revoking the base touches every page verifying something built on it.
  change([&](registry::Registry& reg) {
    return reg.RevokeObject("base", base_, "base-leak-6").status();
  });
  EXPECT_EQ(round(), with_log({"/adapters/bot@1", "/adapters/bot@2", base_page}));
  EXPECT_NE(bodies[base_page].find("base-leak-6"), std::string::npos);

  // A key trusted: /keys, and every page re-checking signatures or naming who acted.
  const std::string carol = Path("carol.pem");
  ASSERT_EQ(RunGraft({"key", "generate", "--out", carol}).exit_code, 0);
  Expect({"key", "trust", carol + ".pub", "--role", "approver", "--name", "carol-8"});
  EXPECT_EQ(round(),
            with_log({"/adapters/bot@1", "/adapters/bot@2", "/keys", "/channels/bot@production"}));
  EXPECT_NE(bodies["/keys"].find("carol-8"), std::string::npos);
  // A key revoked: the same pages.
  const std::string carol_id = PublicKey::LoadPem(carol + ".pub").value().key_id();
  Expect({"key", "revoke", carol_id, "--reason", "carol-lost-9"});
  EXPECT_EQ(round(),
            with_log({"/adapters/bot@1", "/adapters/bot@2", "/keys", "/channels/bot@production"}));
  EXPECT_NE(bodies["/keys"].find("carol-lost-9"), std::string::npos);
  // Nothing appended: everything from the cache.
  EXPECT_EQ(round(), std::set<std::string>());
}

// A blob changed on disk after its page was kept is caught by the next request; a forced
// re-verification runs at once, then is rate-limited per page.
TEST_F(ServeTest, TamperedBlobIsCaughtAndForcedReverificationIsRateLimited) {
  ServeProcess server(reg_, {"--reverify-interval", "3600"});
  ASSERT_NE(server.port(), 0) << server.log();
  const std::string target = "/adapters/bot@1";
  HttpResult good = HttpGet(server.port(), target);
  ASSERT_EQ(good.status, 200);
  EXPECT_EQ(good.body.find("✗ failed"), std::string::npos);
  EXPECT_NE(HttpGet(server.port(), target).body.find("kept in the verification cache"),
            std::string::npos);

  // One byte changed in place: same file, same size, only the content (so stat's times) differ.
  const Digest file = Sha256File(fs::path(Path("a1")) / "adapter_model.safetensors").value();
  const fs::path blob =
      registry::Registry::Open(reg_).value().BlobPath(DigestHex(file)).value().value();
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  const auto flip = [&blob] {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(40);
    const char c = static_cast<char>(f.get());
    f.seekp(40);
    f.put(static_cast<char>(c ^ 1));
    return f.good();
  };
  ASSERT_TRUE(flip());
  HttpResult caught = HttpGet(server.port(), target);
  EXPECT_NE(caught.body.find("✗ failed"), std::string::npos) << caught.body;
  EXPECT_NE(caught.body.find("for this request"), std::string::npos);
  ASSERT_TRUE(flip());
  EXPECT_EQ(HttpGet(server.port(), target).body.find("✗ failed"), std::string::npos);
  EXPECT_EQ(Served(server.log(), target, "built"), 3u) << server.log();

  HttpResult forced = HttpGet(server.port(), target + "?verify=1");
  EXPECT_NE(forced.body.find("for this request"), std::string::npos);
  EXPECT_EQ(forced.body.find("id=\"reverify-limited\""), std::string::npos);
  HttpResult limited = HttpGet(server.port(), target + "?verify=1");
  EXPECT_EQ(limited.status, 200);
  EXPECT_NE(limited.body.find("id=\"reverify-limited\""), std::string::npos);
  EXPECT_NE(limited.body.find("kept in the verification cache"), std::string::npos);
  EXPECT_EQ(Served(server.log(), target + "?verify=1", "built"), 1u) << server.log();
  EXPECT_EQ(Served(server.log(), target + "?verify=1", "cached"), 1u) << server.log();
  // Another page's limit is its own.
  HttpResult other = HttpGet(server.port(), "/adapters/bot@2?verify=1");
  EXPECT_NE(other.body.find("for this request"), std::string::npos);
  EXPECT_EQ(other.body.find("id=\"reverify-limited\""), std::string::npos);
}

// --verify-max-age bounds how long a verification is reused; 0 verifies every request.
TEST_F(ServeTest, VerifyMaxAgeBoundsTheCache) {
  {
    ServeProcess server(reg_, {"--verify-max-age", "1"});
    ASSERT_NE(server.port(), 0) << server.log();
    HttpGet(server.port(), "/objects/strict");
    HttpGet(server.port(), "/objects/strict");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    HttpResult expired = HttpGet(server.port(), "/objects/strict");
    EXPECT_NE(expired.body.find("approvals: 2"), std::string::npos);
    EXPECT_NE(expired.body.find("for this request"), std::string::npos);
    EXPECT_EQ(Served(server.log(), "/objects/strict", "built"), 2u) << server.log();
    EXPECT_EQ(Served(server.log(), "/objects/strict", "cached"), 1u) << server.log();
  }
  ServeProcess uncached(reg_, {"--verify-max-age", "0"});
  ASSERT_NE(uncached.port(), 0) << uncached.log();
  for (int i = 0; i < 2; ++i) {
    HttpResult page = HttpGet(uncached.port(), "/adapters/bot@1");
    EXPECT_NE(page.body.find("The verification cache is off"), std::string::npos);
  }
  EXPECT_EQ(Served(uncached.log(), "/adapters/bot@1", "built"), 2u) << uncached.log();
}

TEST_F(ServeTest, TagsAndDescriptionsAreShownAndFilterTheList) {
  Expect({"adapter", "tag", "bot@1", "team=nlp", "tier=<gold>"});
  Expect({"adapter", "tag", "bot@2", "team=cv"});
  Expect({"adapter", "describe", "bot@1", "Support <b>bot</b>.\nSecond line."});
  ServeProcess server(reg_);
  ASSERT_NE(server.port(), 0) << server.log();
  Json record = GetJson(server, "/api/v1/adapters/bot@1");
  EXPECT_EQ(record["tags"], Json({{"team", "nlp"}, {"tier", "<gold>"}}));
  EXPECT_EQ(record["description"], "Support <b>bot</b>.\nSecond line.");
  EXPECT_FALSE(GetJson(server, "/api/v1/adapters/bot@2").contains("description"));
  Json nlp = GetJson(server, "/api/v1/adapters?tag=team%3Dnlp");
  EXPECT_EQ(nlp["total"], 1);
  EXPECT_EQ(nlp["adapters"][0]["digest"], "sha256:" + a1_);
  EXPECT_EQ(nlp["adapters"][0]["tags"]["tier"], "<gold>");
  EXPECT_EQ(GetJson(server, "/api/v1/adapters?tag=team")["total"], 2);
  EXPECT_EQ(GetJson(server, "/api/v1/adapters?tag=tier&name=bot")["total"], 1);
  EXPECT_EQ(GetJson(server, "/api/v1/adapters?tag=team%3Dnone")["total"], 0);
  Json bad = GetJson(server, "/api/v1/adapters?tag=bad%21", 400);
  EXPECT_NE(bad.dump().find("tag key"), std::string::npos) << bad.dump();

  HttpResult list = HttpGet(server.port(), "/adapters?tag=team%3Dnlp");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find("tier=&lt;gold&gt;</a>"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("1 adapter(s)"), std::string::npos);
  HttpResult page = HttpGet(server.port(), "/adapters/bot@1");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Support &lt;b&gt;bot&lt;/b&gt;.\nSecond line."), std::string::npos);
  EXPECT_EQ(page.body.find("<b>bot</b>"), std::string::npos);
}

}  // namespace
}  // namespace graft::testing

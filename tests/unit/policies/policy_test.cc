// Policy parsing: the docs/policies.md example, canonical digests, and every malformed shape we
// reject.
#include "policies/policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/sha256.h"

namespace graft::policies {
namespace {

const std::string kBase = "sha256:" + std::string(64, 'a');

std::string ExamplePolicy() {
  return "policy: support-bot\n"
         "base: " +
         kBase +
         "\n"
         "promotion:\n"
         "  confidence: 0.95\n"
         "  kpis:        [{suite: support-kpi, metric: acc, min_delta: 0.05}]\n"
         "  regressions: [{suite: general, metric: bits_per_byte, margin: 0.02, relative: true,"
         " per_slice: true}]\n"
         "  require: {signed_by: trainer, approvals: 1, separate_duties: true, max_rank: 64,"
         " max_size_bytes: 1000000}\n"
         "  inconclusive: fail\n"
         "exit:\n"
         "  - {monitor: support-kpi, metric: acc, floor: 0.80}\n"
         "  - {max_age_days: 180}\n"
         "  - {on_revoked: [key, dataset, base]}\n";
}

TEST(Policy, ParsesTheDesignExample) {
  auto policy = ParsePolicy(ExamplePolicy(), "policy.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->name, "support-bot");
  EXPECT_EQ(policy->base, kBase);
  EXPECT_EQ(policy->digest, "sha256:" + Sha256Hex(ExamplePolicy()));
  const PromotionCriteria& p = policy->promotion;
  EXPECT_DOUBLE_EQ(p.confidence, 0.95);
  ASSERT_EQ(p.kpis.size(), 1u);
  EXPECT_EQ(p.kpis[0].suite, "support-kpi");
  EXPECT_EQ(p.kpis[0].metric, "acc");
  EXPECT_DOUBLE_EQ(p.kpis[0].min_delta, 0.05);
  ASSERT_EQ(p.regressions.size(), 1u);
  EXPECT_EQ(p.regressions[0].metric, "bits_per_byte");
  EXPECT_DOUBLE_EQ(p.regressions[0].margin, 0.02);
  EXPECT_TRUE(p.regressions[0].relative);
  EXPECT_TRUE(p.regressions[0].per_slice);
  EXPECT_EQ(p.require.signed_by, "trainer");
  EXPECT_EQ(p.require.approvals, 1);
  EXPECT_EQ(p.require.separate_duties, (std::vector<std::string>{"trainer", "approver"}));
  EXPECT_FALSE(p.require.announced);
  EXPECT_EQ(p.require.max_rank, 64);
  EXPECT_EQ(p.require.max_size_bytes, 1000000);
  EXPECT_EQ(p.inconclusive, InconclusiveAction::kFail);
  ASSERT_EQ(policy->exit.monitors.size(), 1u);
  EXPECT_EQ(policy->exit.monitors[0].monitor, "support-kpi");
  EXPECT_DOUBLE_EQ(*policy->exit.monitors[0].floor, 0.80);
  EXPECT_FALSE(policy->exit.monitors[0].ceiling.has_value());
  EXPECT_EQ(policy->exit.max_age_days, 180);
  EXPECT_EQ(policy->exit.on_revoked,
            (std::vector<RevocationKind>{RevocationKind::kKey, RevocationKind::kDataset,
                                         RevocationKind::kBase}));
}

TEST(Policy, DefaultsForOptionalKeys) {
  auto policy = ParsePolicy("policy: p\npromotion: {}\n", "p.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_FALSE(policy->base.has_value());
  EXPECT_DOUBLE_EQ(policy->promotion.confidence, 0.95);
  EXPECT_EQ(policy->promotion.inconclusive, InconclusiveAction::kFail);
  EXPECT_EQ(policy->promotion.require.approvals, 0);
  EXPECT_FALSE(policy->promotion.require.signed_by.has_value());
  EXPECT_TRUE(policy->exit.monitors.empty());
  auto hold = ParsePolicy(
      "policy: p\npromotion: {inconclusive: hold, regressions: [{suite: s, metric: acc, margin: "
      "0}]}\nexit: [{monitor: s, metric: bits_per_byte, ceiling: 1.2}]\n",
      "p.yaml");
  ASSERT_TRUE(hold.ok()) << hold.status().ToString();
  EXPECT_EQ(hold->promotion.inconclusive, InconclusiveAction::kHold);
  EXPECT_FALSE(hold->promotion.regressions[0].relative);
  EXPECT_FALSE(hold->promotion.regressions[0].per_slice);
  EXPECT_DOUBLE_EQ(*hold->exit.monitors[0].ceiling, 1.2);
}

TEST(Policy, BaseDigestIsNormalisedToLowerCase) {
  auto policy =
      ParsePolicy("policy: p\nbase: sha256:" + std::string(64, 'A') + "\npromotion: {}\n", "p");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->base, kBase);
}

TEST(Policy, CanonicalBytesNormaliseLineEndingsAndByteOrderMark) {
  const std::string lf = ExamplePolicy();
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  EXPECT_EQ(CanonicalPolicyBytes(crlf), lf);
  EXPECT_EQ(CanonicalPolicyBytes("\xEF\xBB\xBF" + lf), lf);
  EXPECT_EQ(CanonicalPolicyBytes("a\rb\r\n"), "a\rb\n");  // a lone CR is kept
  EXPECT_EQ(PolicyDigest(crlf), PolicyDigest(lf));
  EXPECT_EQ(PolicyDigest(lf), "sha256:" + Sha256Hex(lf));
  EXPECT_NE(PolicyDigest(lf + "# comment\n"), PolicyDigest(lf));
  auto parsed = ParsePolicy(crlf, "p");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->digest, PolicyDigest(lf));
}

TEST(Policy, LoadsFromFileAndNamesMissingFiles) {
  TempDir dir;
  const auto path = dir.path() / "policy.yaml";
  ASSERT_TRUE(WriteFileAtomic(path, ExamplePolicy()).ok());
  auto policy = LoadPolicy(path);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->name, "support-bot");
  auto missing = LoadPolicy(dir.path() / "nope.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.yaml"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(path, "policy: p\npromotion:\n  kpis: [{suite: s}]\n").ok());
  auto bad = LoadPolicy(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(bad.status().message(),
            path.string() + ":3:10: promotion.kpis[0]: missing key \"metric\"");
}

struct BadCase {
  std::string yaml;
  std::string message;  // the complete error message
};

TEST(Policy, ParsesEvidenceLooksCandidatesAndBootstrap) {
  auto policy = ParsePolicy(
      "policy: p\npromotion:\n  evidence: {min_items: 20, min_discordant: 12, min_effective_n: "
      "8.5}\n"
      "  max_looks: 3\n  alpha_spending: pocock\n  max_candidates: 20\n"
      "  bootstrap: {resamples: 2000, seed: 7}\n",
      "policy.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  const PromotionCriteria& p = policy->promotion;
  EXPECT_EQ(p.evidence.min_items, 20);
  EXPECT_EQ(p.evidence.min_discordant, 12);
  EXPECT_DOUBLE_EQ(p.evidence.min_effective_n, 8.5);
  EXPECT_EQ(p.max_looks, 3);
  EXPECT_EQ(p.alpha_spending, AlphaSpending::kPocock);
  EXPECT_EQ(p.max_candidates, 20);
  EXPECT_EQ(p.bootstrap_resamples, 2000);
  EXPECT_EQ(p.bootstrap_seed, 7u);
  auto defaults = ParsePolicy("policy: p\npromotion: {}\n", "policy.yaml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->promotion.evidence.min_items, 10);
  EXPECT_EQ(defaults->promotion.evidence.min_discordant, 10);
  EXPECT_DOUBLE_EQ(defaults->promotion.evidence.min_effective_n, 10);
  EXPECT_FALSE(defaults->promotion.max_looks.has_value());
  EXPECT_FALSE(defaults->promotion.bootstrap_seed.has_value());
}

TEST(Policy, SeparateDutiesIsABooleanOrAListOfDuties) {
  auto parse = [](const std::string& require) {
    return ParsePolicy("policy: p\npromotion:\n  require: {" + require + "}\n", "p.yaml");
  };
  EXPECT_TRUE(parse("separate_duties: false")->promotion.require.separate_duties.empty());
  EXPECT_EQ(
      parse("separate_duties: [evaluator, approver, trainer]")->promotion.require.separate_duties,
      (std::vector<std::string>{"evaluator", "approver", "trainer"}));
  for (const auto& [bad, why] : std::vector<std::pair<std::string, std::string>>{
           {"separate_duties: [trainer, release]", "unknown duty \"release\""},
           {"separate_duties: [trainer, trainer]", "\"trainer\" is listed twice"},
           {"separate_duties: [trainer]", "list at least two duties"},
           {"separate_duties: [[trainer]]", "separate_duties[0]"},
           {"separate_duties: maybe", "separate_duties"}}) {
    Result<Policy> policy = parse(bad);
    ASSERT_FALSE(policy.ok()) << bad;
    EXPECT_EQ(policy.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(policy.status().message().find("p.yaml"), std::string::npos);
    EXPECT_NE(policy.status().message().find(why), std::string::npos) << policy.status().message();
  }
}

TEST(Policy, RejectsMalformedPoliciesWithPathAndLine) {
  const std::vector<BadCase> cases = {
      {"policy: p\npromotion: {alpha_spending: pocock}\n",
       "policy.yaml:2:29: promotion.alpha_spending: needs max_looks (the looks to spend over)"},
      {"policy: p\npromotion: {max_looks: 3, alpha_spending: haybittle}\n",
       "policy.yaml:2:43: promotion.alpha_spending: expected obrien-fleming or pocock, got "
       "\"haybittle\""},
      {"policy: p\npromotion: {max_looks: 0}\n",
       "policy.yaml:2:24: promotion.max_looks: must be in [1, 1000], got 0"},
      {"policy: p\npromotion: {evidence: {min_items: 0}}\n",
       "policy.yaml:2:35: promotion.evidence.min_items: must be >= 1, got 0"},
      {"policy: p\npromotion: {evidence: {min_pairs: 3}}\n",
       "policy.yaml:2:24: promotion.evidence: unknown key \"min_pairs\""},
      {"policy: p\npromotion: {evidence: {min_effective_n: 0.5}}\n",
       "policy.yaml:2:41: promotion.evidence.min_effective_n: must be >= 1"},
      {"policy: p\npromotion: {bootstrap: {resamples: 10}}\n",
       "policy.yaml:2:36: promotion.bootstrap.resamples: must be in [100, 10000000], got 10"},
      {"policy: p\npromotion: {bootstrap: {seed: -1}}\n",
       "policy.yaml:2:31: promotion.bootstrap.seed: must be >= 0, got -1"},
      {"policy: p\npromotion:\n  kpis:\n    - {suite: s, metric: acc, min_detla: 0.1}\n",
       "policy.yaml:4:31: promotion.kpis[0]: unknown key \"min_detla\""},
      {"policy: p\npromotion: {}\nextra: 1\n", "policy.yaml:3:1: unknown key \"extra\""},
      {"policy: p\npolicy: q\npromotion: {}\n", "policy.yaml:2:1: duplicate key \"policy\""},
      {"promotion: {}\n", "policy.yaml:1:1: missing key \"policy\""},
      {"policy: p\n", "policy.yaml:1:1: missing key \"promotion\""},
      {"policy: [p]\npromotion: {}\n", "policy.yaml:1:9: policy: expected a string, got a list"},
      {"policy: ''\npromotion: {}\n", "policy.yaml:1:9: policy: must not be empty"},
      {"policy: a b\npromotion: {}\n",
       "policy.yaml:1:9: policy: a name is 1-128 characters of A-Z a-z 0-9 . _ -"},
      {"policy: p\nbase: sha256:1234\npromotion: {}\n",
       "policy.yaml:2:7: base: expected sha256:<64 hex digits>, got \"sha256:1234\""},
      {"policy: p\nbase: " + std::string(64, 'a') + "\npromotion: {}\n",
       "policy.yaml:2:7: base: expected sha256:<64 hex digits>, got \"" + std::string(64, 'a') +
           "\""},
      {"policy: p\npromotion: [1]\n",
       "policy.yaml:2:12: promotion: expected a mapping, got a list"},
      {"policy: p\npromotion: {confidence: 1.5}\n",
       "policy.yaml:2:25: promotion.confidence: must be in (0, 1), got 1.5"},
      {"policy: p\npromotion: {confidence: 0}\n",
       "policy.yaml:2:25: promotion.confidence: must be in (0, 1), got 0"},
      {"policy: p\npromotion: {confidence: high}\n",
       "policy.yaml:2:25: promotion.confidence: expected a finite number, got \"high\""},
      {"policy: p\npromotion: {confidence: '0.95'}\n",
       "policy.yaml:2:25: promotion.confidence: expected a finite number, got the string \"0.95\""},
      {"policy: p\npromotion: {confidence: .nan}\n",
       "policy.yaml:2:25: promotion.confidence: expected a finite number, got \".nan\""},
      {"policy: p\npromotion: {confidence: }\n",
       "policy.yaml:2:25: promotion.confidence: expected a finite number, got null"},
      {"policy: p\npromotion: {kpis: {suite: s}}\n",
       "policy.yaml:2:19: promotion.kpis: expected a list, got a mapping"},
      {"policy: p\npromotion: {kpis: [{suite: s, metric: accuracy, min_delta: 0}]}\n",
       "policy.yaml:2:39: promotion.kpis[0].metric: unknown metric \"accuracy\" (known: acc, "
       "acc_norm, exact_match, bits_per_byte, perplexity, nll)"},
      {"policy: p\npromotion: {kpis: [{suite: s, metric: acc, min_delta: -0.1}]}\n",
       "policy.yaml:2:55: promotion.kpis[0].min_delta: must be >= 0 (state allowed losses as a "
       "regression margin), got -0.1"},
      {"policy: p\npromotion: {kpis: [{suite: s, metric: acc}]}\n",
       "policy.yaml:2:20: promotion.kpis[0]: missing key \"min_delta\""},
      {"policy: p\npromotion: {kpis: [{suite: s, metric: acc, min_delta: 0},"
       " {suite: s, metric: acc, min_delta: 1}]}\n",
       "policy.yaml:2:59: promotion.kpis[1]: a second KPI on s/acc"},
      {"policy: p\npromotion: {kpis: [3]}\n",
       "policy.yaml:2:20: promotion.kpis[0]: expected a mapping, got \"3\""},
      {"policy: p\npromotion: {regressions: [{suite: s, metric: acc, margin: -1}]}\n",
       "policy.yaml:2:59: promotion.regressions[0].margin: must be >= 0, got -1"},
      {"policy: p\npromotion: {regressions: [{suite: s, metric: acc, margin: 2, relative: "
       "true}]}\n",
       "policy.yaml:2:59: promotion.regressions[0].margin: a relative margin is a fraction of the "
       "base value and must be <= 1, got 2"},
      {"policy: p\npromotion: {regressions: [{suite: s, metric: acc, margin: 0, relative: "
       "maybe}]}\n",
       "policy.yaml:2:72: promotion.regressions[0].relative: expected true or false, got "
       "\"maybe\""},
      {"policy: p\npromotion: {regressions: [{suite: s, metric: acc, margin: 0, per_slice: "
       "'true'}]}\n",
       "policy.yaml:2:73: promotion.regressions[0].per_slice: expected true or false, got the "
       "string \"true\""},
      {"policy: p\npromotion: {regressions: [{suite: s, metric: acc, margin: 0},"
       " {suite: s, metric: acc, margin: 1}]}\n",
       "policy.yaml:2:63: promotion.regressions[1]: a second regression check on s/acc"},
      {"policy: p\npromotion: {require: {signed_by: boss}}\n",
       "policy.yaml:2:34: promotion.require.signed_by: unknown key role \"boss\" (expected "
       "trainer, evaluator, approver or registry)"},
      {"policy: p\npromotion: {require: {approvals: -1}}\n",
       "policy.yaml:2:34: promotion.require.approvals: must be in [0, 100], got -1"},
      {"policy: p\npromotion: {require: {approvals: 1.5}}\n",
       "policy.yaml:2:34: promotion.require.approvals: expected an integer, got \"1.5\""},
      {"policy: p\npromotion: {require: {max_rank: 0}}\n",
       "policy.yaml:2:33: promotion.require.max_rank: must be in [1, 1048576], got 0"},
      {"policy: p\npromotion: {require: {max_size_bytes: 0}}\n",
       "policy.yaml:2:39: promotion.require.max_size_bytes: must be >= 1, got 0"},
      {"policy: p\npromotion: {require: {approval: 1}}\n",
       "policy.yaml:2:23: promotion.require: unknown key \"approval\""},
      {"policy: p\npromotion: {inconclusive: maybe}\n",
       "policy.yaml:2:27: promotion.inconclusive: expected fail or hold, got \"maybe\""},
      {"policy: p\npromotion: {}\nexit: {max_age_days: 1}\n",
       "policy.yaml:3:7: exit: expected a list, got a mapping"},
      {"policy: p\npromotion: {}\nexit: [{max_age_days: 0}]\n",
       "policy.yaml:3:23: exit[0].max_age_days: must be in [1, 36500], got 0"},
      {"policy: p\npromotion: {}\nexit: [{max_age_days: 1}, {max_age_days: 2}]\n",
       "policy.yaml:3:27: exit[1]: a second max_age_days entry"},
      {"policy: p\npromotion: {}\nexit: [{max_age_days: 1, floor: 2}]\n",
       "policy.yaml:3:26: exit[0]: unknown key \"floor\""},
      {"policy: p\npromotion: {}\nexit: [{monitor: s, metric: acc}]\n",
       "policy.yaml:3:8: exit[0]: needs exactly one of \"floor\" and \"ceiling\""},
      {"policy: p\npromotion: {}\nexit: [{monitor: s, metric: acc, floor: 1, ceiling: 2}]\n",
       "policy.yaml:3:8: exit[0]: needs exactly one of \"floor\" and \"ceiling\""},
      {"policy: p\npromotion: {}\nexit: [{monitor: s, floor: 1}]\n",
       "policy.yaml:3:8: exit[0]: missing key \"metric\""},
      {"policy: p\npromotion: {}\nexit: [{on_revoked: [key, trainer]}]\n",
       "policy.yaml:3:27: exit[0].on_revoked[1]: expected key, dataset or base, got \"trainer\""},
      {"policy: p\npromotion: {}\nexit: [{on_revoked: [key, key]}]\n",
       "policy.yaml:3:27: exit[0].on_revoked[1]: \"key\" listed twice"},
      {"policy: p\npromotion: {}\nexit: [{on_revoked: []}]\n",
       "policy.yaml:3:21: exit[0].on_revoked: expected a non-empty list of key, dataset, base"},
      {"policy: p\npromotion: {}\nexit: [{retire: now}]\n",
       "policy.yaml:3:8: exit[0]: expected one of monitor, max_age_days, on_revoked"},
      {"policy: p\npromotion: {}\nexit: [7]\n",
       "policy.yaml:3:8: exit[0]: expected a mapping, got \"7\""},
      {"- policy\n", "policy.yaml:1:1: expected a mapping, got a list"},
      {"", "policy.yaml: expected a mapping, got null"},
      {"policy: p\npromotion: {}\n---\npolicy: q\npromotion: {}\n",
       "policy.yaml: expected one YAML document, found 2"},
      {"policy: p\n[1, 2]: x\npromotion: {}\n", "policy.yaml:2:1: keys must be plain strings"},
      {std::string("policy: p\0\npromotion: {}\n", 25), "policy.yaml: contains a NUL byte"},
  };
  for (const BadCase& c : cases) {
    auto policy = ParsePolicy(c.yaml, "policy.yaml");
    ASSERT_FALSE(policy.ok()) << c.yaml;
    EXPECT_EQ(policy.status().kind(), ErrorKind::kInvalidInput);
    EXPECT_EQ(policy.status().message(), c.message) << c.yaml;
  }
}

TEST(Policy, RejectsSyntaxErrorsAndHugeFiles) {
  auto syntax = ParsePolicy("policy: p\npromotion: {kpis: [\n", "policy.yaml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.status().message(),
            "policy.yaml:3:1: not valid YAML: end of sequence flow not found");
  // Deep nesting is refused by the parser's depth limit rather than overflowing the stack.
  for (const std::string& deep : {"policy: " + std::string(100000, '['),
                                  "policy: p\npromotion: " + std::string(100000, '{')}) {
    auto nested = ParsePolicy(deep, "policy.yaml");
    ASSERT_FALSE(nested.ok());
    EXPECT_EQ(nested.status().message().rfind("policy.yaml:", 0), 0u);
    EXPECT_NE(nested.status().message().find(": not valid YAML: "), std::string::npos);
  }
  std::string dashes = "policy: p\nexit:\n";
  for (int i = 0; i < 50000; ++i) dashes += "- ";
  EXPECT_FALSE(ParsePolicy(dashes + "x\n", "policy.yaml").ok());
  auto huge = ParsePolicy(std::string((1 << 20) + 1, '#'), "policy.yaml");
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().message(), "policy.yaml: larger than 1 MiB");
}

}  // namespace
TEST(Policy, RequireAnnouncedIsABoolean) {
  const std::string head =
      "policy: p\npromotion:\n  kpis: [{suite: s, metric: acc, min_delta: 0}]\n";
  Result<Policy> announced = ParsePolicy(head + "  require: {announced: true}\n", "p.yaml");
  ASSERT_TRUE(announced.ok()) << announced.status().ToString();
  EXPECT_TRUE(announced->promotion.require.announced);
  Result<Policy> bad = ParsePolicy(head + "  require: {announced: 3}\n", "p.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_NE(bad.status().message().find("promotion.require.announced"), std::string::npos)
      << bad.status().message();
}

}  // namespace graft::policies

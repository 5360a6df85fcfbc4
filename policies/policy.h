// Policy: a parsed, validated promotion-and-exit policy file (the YAML format of docs/policies.md).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "evaluator/stats/threshold_test.h"

namespace graft::policies {

// "The adapter must improve `metric` on `suite` by at least `min_delta`."
struct KpiCriterion {
  std::string suite;
  std::string metric;
  double min_delta = 0;  // improvement in the metric's better direction, >= 0
};

// "The adapter must not be worse than the base on `metric` by `margin` or more."
struct RegressionCriterion {
  std::string suite;
  std::string metric;
  double margin = 0;  // >= 0; a fraction of the base value (<= 1) when `relative`
  bool relative = false;
  bool per_slice = false;  // one criterion per slice of the suite
};

struct Requirements {
  std::optional<std::string> signed_by;  // key role: trainer, evaluator, approver or registry
  int64_t approvals = 0;                 // distinct approver keys needed before promotion
  // Duties no single key may perform for one adapter (SeparateDuties: trainer, evaluator,
  // approver); `true` in the file means [trainer, approver], `false` none.
  std::vector<std::string> separate_duties;
  bool announced = false;  // the run must have been announced (graft run announce)
  std::optional<int64_t> max_rank;
  std::optional<int64_t> max_size_bytes;
};

enum class InconclusiveAction { kFail, kHold };

// How the one-sided error alpha/2 is spread over repeated gate looks (Lan-DeMets spending
// functions at information fraction look / max_looks; see docs/statistics.md).
enum class AlphaSpending { kObrienFleming, kPocock };
std::string_view AlphaSpendingName(AlphaSpending spending);

struct PromotionCriteria {
  double confidence = 0.95;
  std::vector<KpiCriterion> kpis;
  std::vector<RegressionCriterion> regressions;
  Requirements require;
  InconclusiveAction inconclusive = InconclusiveAction::kFail;
  stats::EvidenceRule evidence;  // `evidence: {min_items, min_discordant, min_effective_n}`
  // Gate attempts allowed per adapter; alpha/2 is spent over them by `alpha_spending`. Unset:
  // every look is tested at the full alpha/2 (repeated looks are not accounted for).
  std::optional<int64_t> max_looks;
  AlphaSpending alpha_spending = AlphaSpending::kObrienFleming;
  // Distinct adapters that may be gated; each gets alpha/2 / max_candidates (Bonferroni).
  std::optional<int64_t> max_candidates;
  // `bootstrap: {resamples, seed}` of the gate's descriptive bootstrap; unset, the seed derives
  // from the digests of adapter, base, suite and policy and resamples are 10000.
  std::optional<int64_t> bootstrap_resamples;
  std::optional<uint64_t> bootstrap_seed;
};

// "Retire the adapter when the monitored metric leaves its bound." Exactly one bound is set.
struct MonitorExit {
  std::string monitor;  // suite
  std::string metric;
  std::optional<double> floor;    // retire when the value drops below
  std::optional<double> ceiling;  // retire when the value rises above (lower-is-better metrics)
};

enum class RevocationKind { kKey, kDataset, kBase };
std::string_view RevocationKindName(RevocationKind kind);

// Which of an adapter's dependencies are revoked: its signing key, a training dataset, its base.
struct Revocations {
  bool key = false;
  bool dataset = false;
  bool base = false;
  bool Is(RevocationKind kind) const;
};

struct ExitCriteria {
  std::vector<MonitorExit> monitors;
  std::optional<int64_t> max_age_days;
  std::vector<RevocationKind> on_revoked;
};

struct Policy {
  std::string name;
  std::optional<std::string> base;  // "sha256:<64 lowercase hex>"
  PromotionCriteria promotion;
  ExitCriteria exit;
  std::string digest;  // "sha256:<hex>" of the canonical bytes
};

// The canonical bytes of a policy file: a leading UTF-8 byte order mark removed and every CRLF
// replaced by LF. Everything else (comments, key order, spacing) is kept: the digest names the
// file as written, and the same file checked out on Windows or Unix has the same digest.
std::string CanonicalPolicyBytes(std::string_view bytes);
// "sha256:<hex>" of CanonicalPolicyBytes(bytes).
std::string PolicyDigest(std::string_view bytes);

// Parses and validates a policy. `source` names the file in errors, which read
// `<source>: <key path>: <problem> (line N)`. Unknown keys, duplicate keys, wrong types, quoted
// numbers or booleans, out-of-range values, unknown metrics or roles are errors (kInvalidInput).
Result<Policy> ParsePolicy(std::string_view bytes, std::string_view source);
// Reads (at most 1 MiB) and parses a policy file; errors name the path as given.
Result<Policy> LoadPolicy(const std::filesystem::path& path);

}  // namespace graft::policies

#include "evaluator/adapter_evaluator.h"

#include <unistd.h>

#include <algorithm>

#include "core/dsse.h"
#include "core/file_util.h"
#include "core/intoto.h"
#include "core/sha256.h"
#include "distributed/group.h"
#include "evaluator/stats/json.h"
#include "evaluator/stats/paired.h"
#include "evaluator/suite/score_table.h"
#include "evaluator/task_scorer.h"
#include "models/causal_lm.h"
#include "models/peft_io.h"
#include "registry/vocabulary.h"

namespace graft::evaluator {
namespace fs = std::filesystem;

namespace {

constexpr char kAdapterName[] = "candidate";
constexpr std::string_view kScoresKind = "scores";

Json ScoresJson(const std::vector<suite::ItemScore>& scores) {
  Json out = Json::array();
  for (const suite::ItemScore& s : scores) out.push_back(s.ToJson());
  return out;
}

Result<std::vector<suite::ItemScore>> ScoresFromJson(const Json& json, std::string_view source) {
  if (!json.is_array()) return InvalidInput(std::string(source) + ": expected a list of scores");
  std::vector<suite::ItemScore> scores;
  for (const Json& item : json) {
    GRAFT_ASSIGN_OR_RETURN(suite::ItemScore score, suite::ItemScore::FromJson(item, source));
    scores.push_back(std::move(score));
  }
  return scores;
}

// Registers `json` as a single-file "scores" object named `name`; returns its digest.
Result<std::string> StoreScores(registry::Registry& registry, const Json& json,
                                const std::string& name, Json info,
                                const std::vector<registry::Edge>& edges) {
  GRAFT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(json));
  TempDir dir("graft-scores");
  fs::path file = dir.path() / "scores.json";
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(file, text));
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord record,
                         registry.RegisterFile(kScoresKind, file, name, std::move(info), edges));
  return record.digest;
}

Result<std::string> BaseOf(registry::Registry& registry, const registry::ObjectRecord& adapter) {
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::Edge> edges, registry.EdgesFrom(adapter.digest));
  for (const registry::Edge& edge : edges) {
    if (edge.relation == registry::kBaseRelation) return edge.dst;
  }
  return NotFound("adapter " + adapter.DisplayName() + " has no base in the registry");
}

}  // namespace

Json EvaluationSettings::ToJson() const {
  return {{"batch_size", batch_size},
          {"max_length", max_length},
          {"threads", threads},
          {"dtype", std::string(BaseDTypeName(base_dtype))},
          {"graft_version", GRAFT_VERSION}};
}

AdapterEvaluator::AdapterEvaluator(registry::Registry& registry, EvaluationSettings settings,
                                   distributed::Group* group)
    : registry_(registry), settings_(settings), group_(group) {}

AdapterEvaluator::~AdapterEvaluator() = default;

Status AdapterEvaluator::LoadBase(const registry::ObjectRecord& base) {
  if (loaded_base_digest_ == base.digest && model_) return Status::Ok();
  TempDir dir("graft-base");
  fs::path files = dir.path() / "base";
  GRAFT_RETURN_IF_ERROR(
      registry_.ExportFiles(base, files).WithContext("verifying base " + base.DisplayName()));
  GRAFT_ASSIGN_OR_RETURN(model_, CausalLM::Load(files, settings_.base_dtype));
  loaded_base_digest_ = base.digest;
  ++stats_.base_loads;
  return Status::Ok();
}

Result<registry::ObjectRecord> AdapterEvaluator::SharedBase(
    const std::vector<std::string>& adapter_refs) {
  if (adapter_refs.empty()) return InvalidInput("name at least one adapter to evaluate");
  std::map<std::string, std::string> seen;  // adapter digest -> the ref that named it
  std::string first_label, first_base;
  for (const std::string& ref : adapter_refs) {
    GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord adapter,
                           registry_.Resolve(registry::kAdapterKind, ref));
    auto [previous, inserted] = seen.emplace(adapter.digest, ref);
    if (!inserted) {
      return InvalidInput("adapter " + adapter.DisplayName() + " is named twice (" +
                          previous->second + " and " + ref + ")");
    }
    GRAFT_ASSIGN_OR_RETURN(std::string base, BaseOf(registry_, adapter));
    if (first_base.empty()) {
      first_label = adapter.DisplayName();
      first_base = base;
    } else if (base != first_base) {
      return InvalidInput("adapters on different bases: " + first_label +
                          " is on sha256:" + first_base.substr(0, 12) + ", " +
                          adapter.DisplayName() + " on sha256:" + base.substr(0, 12) +
                          "; evaluate each base's adapters in their own run");
    }
  }
  return registry_.Get(first_base);
}

Result<std::vector<suite::ItemScore>> AdapterEvaluator::CachedBaseScores(
    const std::string& cache_name, const suite::SuiteTask& task) {
  registry::ObjectFilter filter{.kind = std::string(kScoresKind), .name = cache_name};
  GRAFT_ASSIGN_OR_RETURN(std::vector<registry::ObjectRecord> cached, registry_.List(filter));
  if (cached.empty()) return NotFound("no cached base scores");
  GRAFT_ASSIGN_OR_RETURN(std::string text, registry_.ReadBlob(cached.back().digest));
  GRAFT_ASSIGN_OR_RETURN(Json json, ParseJson(text, "cached base scores"));
  GRAFT_ASSIGN_OR_RETURN(std::vector<suite::ItemScore> scores,
                         ScoresFromJson(json, "cached base scores"));
  if (scores.size() != task.items.size()) return NotFound("cached base scores do not fit");
  return scores;
}

Result<std::vector<suite::ItemScore>> AdapterEvaluator::ScoreTask(
    TaskScorer& scorer, const suite::SuiteTask& task,
    const std::function<void(int64_t, int64_t)>& progress) {
  if (group_ == nullptr) return scorer.Score(task, progress);
  // Rank r scores items [n r / W, n (r + 1) / W): contiguous shares keep items in file order.
  const size_t n = task.items.size();
  const size_t world = static_cast<size_t>(group_->world_size());
  const size_t rank = static_cast<size_t>(group_->rank());
  suite::SuiteTask share = task;
  share.items.assign(task.items.begin() + static_cast<std::ptrdiff_t>(n * rank / world),
                     task.items.begin() + static_cast<std::ptrdiff_t>(n * (rank + 1) / world));
  GRAFT_ASSIGN_OR_RETURN(std::vector<suite::ItemScore> mine, scorer.Score(share, progress));
  GRAFT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(ScoresJson(mine)));
  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> shares, group_->AllGather(text));
  std::vector<suite::ItemScore> scores;
  for (size_t r = 0; r < shares.size(); ++r) {
    const std::string source = "rank " + std::to_string(r) + "'s scores of " + task.name;
    GRAFT_ASSIGN_OR_RETURN(Json json, ParseJson(shares[r], source));
    GRAFT_ASSIGN_OR_RETURN(std::vector<suite::ItemScore> part, ScoresFromJson(json, source));
    if (part.size() != n * (r + 1) / world - n * r / world) {
      return InternalError(source + ": wrong number of items");
    }
    scores.insert(scores.end(), std::make_move_iterator(part.begin()),
                  std::make_move_iterator(part.end()));
  }
  return scores;
}

Result<EvaluationOutcome> AdapterEvaluator::Evaluate(const std::string& adapter_ref,
                                                     const std::vector<std::string>& suite_refs,
                                                     const PrivateKey& key,
                                                     const EvaluationProgress& progress) {
  registry::ObjectRecord adapter, base;
  std::vector<suite::Suite> suites;
  TempDir dir("graft-adapter");
  auto prepare = [&]() -> Status {
    if (suite_refs.empty()) return InvalidInput("name at least one suite to evaluate on");
    GRAFT_ASSIGN_OR_RETURN(adapter, registry_.Resolve(registry::kAdapterKind, adapter_ref));
    if (adapter.revoked_seq) {
      return VerificationFailed("adapter " + adapter.DisplayName() +
                                " is revoked: " + adapter.revoke_reason);
    }
    GRAFT_ASSIGN_OR_RETURN(std::string base_digest, BaseOf(registry_, adapter));
    GRAFT_ASSIGN_OR_RETURN(base, registry_.Get(base_digest));
    for (const std::string& ref : suite_refs) {
      GRAFT_ASSIGN_OR_RETURN(suite::Suite suite, suite::LoadRegisteredSuite(registry_, ref));
      suites.push_back(std::move(suite));
    }
    GRAFT_RETURN_IF_ERROR(LoadBase(base));
    fs::path adapter_files = dir.path() / "adapter";
    GRAFT_RETURN_IF_ERROR(registry_.ExportFiles(adapter, adapter_files)
                              .WithContext("verifying adapter " + adapter.DisplayName()));
    if (model_->adapters().Has(kAdapterName))
      GRAFT_RETURN_IF_ERROR(model_->adapters().Remove(kAdapterName));
    return LoadPeftAdapter(*model_, adapter_files, kAdapterName).status();
  };
  const Status prepared = prepare();
  const bool leader = group_ == nullptr || group_->leader();
  if (group_) {
    std::map<std::string, std::string> digests;
    if (prepared.ok()) {
      GRAFT_ASSIGN_OR_RETURN(std::string settings_text, CanonicalJson(settings_.ToJson()));
      digests = {{"adapter", adapter.digest},
                 {"base", base.digest},
                 {"settings", Sha256Hex(settings_text)},
                 {"graft_version", GRAFT_VERSION}};
      for (const suite::Suite& suite : suites) digests["suite " + suite.name] = suite.digest;
    }
    GRAFT_RETURN_IF_ERROR(group_->CheckInputs(prepared, digests).status());
  }
  GRAFT_RETURN_IF_ERROR(prepared);
  SetTorchThreads(settings_.threads);

  EvaluationOutcome outcome;
  outcome.adapter_digest = adapter.digest;
  outcome.adapter_label = adapter.DisplayName();
  outcome.base_digest = base.digest;
  Json settings_json = settings_.ToJson();
  ScorerOptions scorer_options{.batch_size = settings_.batch_size,
                               .max_length = settings_.max_length};
  TaskScorer scorer(*model_, scorer_options);
  bool changed = false;
  for (const suite::Suite& suite : suites) {
    SuiteOutcome suite_outcome;
    suite_outcome.name = suite.name;
    suite_outcome.digest = suite.digest;
    suite_outcome.base_from_cache = settings_.use_cache;
    Json items_file = Json::object();
    for (const suite::SuiteTask& task : suite.tasks) {
      TaskOutcome task_outcome;
      task_outcome.name = task.name;
      task_outcome.type = task.type;
      for (const suite::SuiteItem& item : task.items) {
        task_outcome.item_ids.push_back(item.id);
        task_outcome.slices.push_back(item.slice);
      }
      Json key_json = {{"base", base.digest},
                       {"suite", suite.digest},
                       {"task", task.name},
                       {"settings", settings_json}};
      GRAFT_ASSIGN_OR_RETURN(std::string key_text, CanonicalJson(key_json));
      std::string cache_name = "base-scores-" + Sha256Hex(key_text);
      auto report = [&](const std::string& who) -> ScoreProgress {
        if (!progress) return {};
        return [&, who](int64_t done, int64_t total) {
          progress(suite.name + "/" + task.name + " " + who, done, total);
        };
      };
      Result<std::vector<suite::ItemScore>> cached = NotFound("cache not used");
      if (settings_.use_cache) cached = CachedBaseScores(cache_name, task);
      const bool had_cache = cached.ok();
      if (group_) {
        // Ranks use cached base scores only when every rank has them.
        GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> hits,
                               group_->AllGather(had_cache ? "1" : "0"));
        if (std::count(hits.begin(), hits.end(), "1") != group_->world_size()) {
          cached = NotFound("a rank has no cached base scores");
        }
      }
      auto scored = scored_base_.find(cache_name);
      if (cached.ok()) {
        task_outcome.base = std::move(*cached);
        ++stats_.base_tasks_reused;
      } else if (scored != scored_base_.end()) {
        // Scored for an earlier adapter of this evaluator: a fresh run, shared.
        suite_outcome.base_from_cache = false;
        task_outcome.base = scored->second;
        ++stats_.base_tasks_reused;
      } else {
        suite_outcome.base_from_cache = false;
        GRAFT_RETURN_IF_ERROR(model_->adapters().SetActive(std::nullopt));
        GRAFT_ASSIGN_OR_RETURN(task_outcome.base, ScoreTask(scorer, task, report("base")));
        ++stats_.base_tasks_scored;
        if (leader && !had_cache) {
          GRAFT_RETURN_IF_ERROR(
              StoreScores(registry_, ScoresJson(task_outcome.base), cache_name, key_json,
                          {{"", "base", base.digest}, {"", "suite", suite.digest}})
                  .status());
        }
        scored_base_.emplace(cache_name, task_outcome.base);
      }
      GRAFT_RETURN_IF_ERROR(model_->adapters().SetActive(std::string(kAdapterName)));
      GRAFT_ASSIGN_OR_RETURN(task_outcome.adapter, ScoreTask(scorer, task, report("adapter")));
      GRAFT_RETURN_IF_ERROR(model_->adapters().SetActive(std::nullopt));
      changed = changed || suite::AdapterChangedAnything(task_outcome.base, task_outcome.adapter);

      GRAFT_ASSIGN_OR_RETURN(
          stats::ItemScores table,
          suite::BuildPairedScores(task, task_outcome.base, task_outcome.adapter));
      GRAFT_ASSIGN_OR_RETURN(task_outcome.comparisons,
                             stats::ComparePaired(table, settings_.bootstrap));
      Json items = Json::array();
      for (size_t i = 0; i < task.items.size(); ++i) {
        items.push_back({{"id", task.items[i].id},
                         {"slice", task.items[i].slice},
                         {"base", task_outcome.base[i].ToJson()},
                         {"adapter", task_outcome.adapter[i].ToJson()}});
      }
      items_file[task.name] = std::move(items);
      suite_outcome.tasks.push_back(std::move(task_outcome));
    }
    if (!leader) {
      outcome.suites.push_back(std::move(suite_outcome));
      continue;
    }
    GRAFT_ASSIGN_OR_RETURN(
        suite_outcome.items_digest,
        StoreScores(registry_, items_file,
                    "items-" + adapter.digest.substr(0, 16) + "-" + suite.digest.substr(0, 16),
                    {{"adapter", adapter.digest}, {"suite", suite.digest}},
                    {{"", "adapter", adapter.digest}, {"", "suite", suite.digest}}));
    outcome.suites.push_back(std::move(suite_outcome));
  }
  if (!changed) {
    return VerificationFailed("canary: adapter " + adapter.DisplayName() +
                              " changed no output on any item; it was not applied (or is a no-op)");
  }
  if (!leader) return outcome;

  // The attestation: in-toto test-result v0.1, extended with graft's detailed results.
  Json configuration = Json::array();
  Json passed = Json::array();
  Json detail_suites = Json::array();
  for (const SuiteOutcome& s : outcome.suites) {
    configuration.push_back({{"name", s.name}, {"digest", {{"sha256", s.digest}}}});
    Json tasks = Json::array();
    for (const TaskOutcome& t : s.tasks) {
      passed.push_back(s.name + "/" + t.name);
      Json metrics = Json::array();
      for (const stats::MetricComparison& c : t.comparisons)
        metrics.push_back(stats::ComparisonToJson(c));
      tasks.push_back({{"name", t.name},
                       {"type", suite::TaskTypeName(t.type)},
                       {"items", t.item_ids.size()},
                       {"metrics", std::move(metrics)}});
    }
    detail_suites.push_back({{"name", s.name},
                             {"digest", s.digest},
                             {"base_from_cache", s.base_from_cache},
                             {"items_file", {{"sha256", s.items_digest}}},
                             {"tasks", std::move(tasks)}});
  }
  Json bootstrap = {{"resamples", settings_.bootstrap.resamples},
                    {"seed", settings_.bootstrap.seed},
                    {"confidence", settings_.bootstrap.confidence},
                    {"power", settings_.bootstrap.power}};
  outcome.predicate = {{"result", "PASSED"},
                       {"configuration", std::move(configuration)},
                       {"passedTests", std::move(passed)},
                       {"warnedTests", Json::array()},
                       {"failedTests", Json::array()},
                       {"graft",
                        {{"adapter", adapter.digest},
                         {"adapter_label", outcome.adapter_label},
                         {"base", base.digest},
                         {"settings", settings_json},
                         {"bootstrap", bootstrap},
                         {"suites", std::move(detail_suites)}}}};
  InTotoStatement statement;
  statement.subjects.push_back({outcome.adapter_label, {{"sha256", adapter.digest}}});
  statement.predicate_type = std::string(kTestResultPredicateType);
  statement.predicate = outcome.predicate;
  GRAFT_ASSIGN_OR_RETURN(std::string payload, CanonicalJson(statement.ToJson()));
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope,
                         DsseSign(kInTotoPayloadType, std::move(payload), {&key}));
  std::vector<registry::Edge> edges = {{"", "adapter", adapter.digest}, {"", "base", base.digest}};
  for (const SuiteOutcome& s : outcome.suites) {
    edges.push_back({"", "suite", s.digest});
    edges.push_back({"", "items", s.items_digest});
  }
  GRAFT_ASSIGN_OR_RETURN(registry::AttestationRecord record,
                         registry_.AddAttestation(registry::kEvaluationAttestation, envelope,
                                                  adapter.digest, registry::kEvaluatorRole, edges));
  outcome.attestation_digest = record.digest;
  return outcome;
}

}  // namespace graft::evaluator

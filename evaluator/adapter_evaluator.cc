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

// The in-toto test-result v0.1 predicate of an evaluation, extended with graft's detailed
// results.
Json TestResultPredicate(const EvaluationOutcome& outcome, const EvaluationSettings& settings) {
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
  Json bootstrap = {{"resamples", settings.bootstrap.resamples},
                    {"seed", settings.bootstrap.seed},
                    {"confidence", settings.bootstrap.confidence},
                    {"power", settings.bootstrap.power}};
  return {{"result", "PASSED"},
          {"configuration", std::move(configuration)},
          {"passedTests", std::move(passed)},
          {"warnedTests", Json::array()},
          {"failedTests", Json::array()},
          {"graft",
           {{"adapter", outcome.adapter_digest},
            {"adapter_label", outcome.adapter_label},
            {"base", outcome.base_digest},
            {"settings", settings.ToJson()},
            {"bootstrap", bootstrap},
            {"suites", std::move(detail_suites)}}}};
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
  GRAFT_ASSIGN_OR_RETURN(model_, models::CausalLM::Load(files, settings_.base_dtype));
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

Result<AdapterEvaluator::Inputs> AdapterEvaluator::LoadInputs(
    const std::string& adapter_ref, const std::vector<std::string>& suite_refs,
    const fs::path& scratch) {
  if (suite_refs.empty()) return InvalidInput("name at least one suite to evaluate on");
  Inputs inputs;
  GRAFT_ASSIGN_OR_RETURN(inputs.adapter, registry_.Resolve(registry::kAdapterKind, adapter_ref));
  if (inputs.adapter.revoked_seq) {
    return VerificationFailed("adapter " + inputs.adapter.DisplayName() +
                              " is revoked: " + inputs.adapter.revoke_reason);
  }
  GRAFT_ASSIGN_OR_RETURN(std::string base_digest, BaseOf(registry_, inputs.adapter));
  GRAFT_ASSIGN_OR_RETURN(inputs.base, registry_.Get(base_digest));
  for (const std::string& ref : suite_refs) {
    GRAFT_ASSIGN_OR_RETURN(suite::Suite suite, suite::LoadRegisteredSuite(registry_, ref));
    inputs.suites.push_back(std::move(suite));
  }
  GRAFT_RETURN_IF_ERROR(LoadBase(inputs.base));
  fs::path adapter_files = scratch / "adapter";
  GRAFT_RETURN_IF_ERROR(registry_.ExportFiles(inputs.adapter, adapter_files)
                            .WithContext("verifying adapter " + inputs.adapter.DisplayName()));
  if (model_->adapters().Has(kAdapterName))
    GRAFT_RETURN_IF_ERROR(model_->adapters().Remove(kAdapterName));
  GRAFT_RETURN_IF_ERROR(models::LoadPeftAdapter(*model_, adapter_files, kAdapterName).status());
  return inputs;
}

Status AdapterEvaluator::CheckSameInputs(const Result<Inputs>& inputs) {
  if (group_ == nullptr) return Status::Ok();
  std::map<std::string, std::string> digests;
  if (inputs.ok()) {
    GRAFT_ASSIGN_OR_RETURN(std::string settings_text, CanonicalJson(settings_.ToJson()));
    digests = {{"adapter", inputs->adapter.digest},
               {"base", inputs->base.digest},
               {"settings", Sha256Hex(settings_text)},
               {"graft_version", GRAFT_VERSION}};
    for (const suite::Suite& suite : inputs->suites) digests["suite " + suite.name] = suite.digest;
  }
  return group_->CheckInputs(inputs.status(), digests).status();
}

Result<std::vector<suite::ItemScore>> AdapterEvaluator::BaseScores(
    TaskScorer& scorer, const std::string& base_digest, const suite::Suite& suite,
    const suite::SuiteTask& task, const ScoreProgress& progress, bool& from_registry_cache) {
  Json key_json = {{"base", base_digest},
                   {"suite", suite.digest},
                   {"task", task.name},
                   {"settings", settings_.ToJson()}};
  GRAFT_ASSIGN_OR_RETURN(std::string key_text, CanonicalJson(key_json));
  const std::string cache_name = "base-scores-" + Sha256Hex(key_text);
  Result<std::vector<suite::ItemScore>> cached = NotFound("cache not used");
  if (settings_.use_cache) cached = CachedBaseScores(cache_name, task);
  const bool had_cache = cached.ok();
  if (group_) {
    // Ranks use cached base scores only when every rank has them.
    GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> hits, group_->AllGather(had_cache ? "1" : "0"));
    if (std::count(hits.begin(), hits.end(), "1") != group_->world_size()) {
      cached = NotFound("a rank has no cached base scores");
    }
  }
  from_registry_cache = cached.ok();
  if (cached.ok()) {
    ++stats_.base_tasks_reused;
    return cached;
  }
  if (auto scored = scored_base_.find(cache_name); scored != scored_base_.end()) {
    // Scored for an earlier adapter of this evaluator: a fresh run, shared.
    ++stats_.base_tasks_reused;
    return scored->second;
  }
  GRAFT_RETURN_IF_ERROR(model_->adapters().SetActive(std::nullopt));
  GRAFT_ASSIGN_OR_RETURN(std::vector<suite::ItemScore> scores, ScoreTask(scorer, task, progress));
  ++stats_.base_tasks_scored;
  if (Leads() && !had_cache) {
    GRAFT_RETURN_IF_ERROR(StoreScores(registry_, ScoresJson(scores), cache_name, key_json,
                                      {{"", "base", base_digest}, {"", "suite", suite.digest}})
                              .status());
  }
  scored_base_.emplace(cache_name, scores);
  return scores;
}

Result<SuiteOutcome> AdapterEvaluator::EvaluateSuite(TaskScorer& scorer, const Inputs& inputs,
                                                     const suite::Suite& suite,
                                                     const EvaluationProgress& progress) {
  SuiteOutcome outcome;
  outcome.name = suite.name;
  outcome.digest = suite.digest;
  outcome.base_from_cache = settings_.use_cache;
  Json items_file = Json::object();
  for (const suite::SuiteTask& task : suite.tasks) {
    auto report = [&](const std::string& who) -> ScoreProgress {
      if (!progress) return {};
      return [&, who](int64_t done, int64_t total) {
        progress(suite.name + "/" + task.name + " " + who, done, total);
      };
    };
    TaskOutcome task_outcome;
    task_outcome.name = task.name;
    task_outcome.type = task.type;
    for (const suite::SuiteItem& item : task.items) {
      task_outcome.item_ids.push_back(item.id);
      task_outcome.slices.push_back(item.slice);
    }
    bool from_registry_cache = false;
    GRAFT_ASSIGN_OR_RETURN(task_outcome.base, BaseScores(scorer, inputs.base.digest, suite, task,
                                                         report("base"), from_registry_cache));
    outcome.base_from_cache = outcome.base_from_cache && from_registry_cache;
    GRAFT_RETURN_IF_ERROR(model_->adapters().SetActive(std::string(kAdapterName)));
    GRAFT_ASSIGN_OR_RETURN(task_outcome.adapter, ScoreTask(scorer, task, report("adapter")));
    GRAFT_RETURN_IF_ERROR(model_->adapters().SetActive(std::nullopt));
    GRAFT_ASSIGN_OR_RETURN(stats::ItemScores table,
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
    outcome.tasks.push_back(std::move(task_outcome));
  }
  if (Leads()) {
    const std::string& adapter = inputs.adapter.digest;
    GRAFT_ASSIGN_OR_RETURN(
        outcome.items_digest,
        StoreScores(registry_, items_file,
                    "items-" + adapter.substr(0, 16) + "-" + suite.digest.substr(0, 16),
                    {{"adapter", adapter}, {"suite", suite.digest}},
                    {{"", "adapter", adapter}, {"", "suite", suite.digest}}));
  }
  return outcome;
}

Result<EvaluationOutcome> AdapterEvaluator::Evaluate(const std::string& adapter_ref,
                                                     const std::vector<std::string>& suite_refs,
                                                     const PrivateKey& key,
                                                     const EvaluationProgress& progress) {
  TempDir dir("graft-adapter");
  const Result<Inputs> inputs = LoadInputs(adapter_ref, suite_refs, dir.path());
  GRAFT_RETURN_IF_ERROR(CheckSameInputs(inputs));
  GRAFT_RETURN_IF_ERROR(inputs.status());
  models::SetTorchThreads(settings_.threads);

  EvaluationOutcome outcome;
  outcome.adapter_digest = inputs->adapter.digest;
  outcome.adapter_label = inputs->adapter.DisplayName();
  outcome.base_digest = inputs->base.digest;
  ScorerOptions scorer_options{.batch_size = settings_.batch_size,
                               .max_length = settings_.max_length};
  TaskScorer scorer(*model_, scorer_options);
  bool changed = false;
  for (const suite::Suite& suite : inputs->suites) {
    GRAFT_ASSIGN_OR_RETURN(SuiteOutcome suite_outcome,
                           EvaluateSuite(scorer, *inputs, suite, progress));
    for (const TaskOutcome& task : suite_outcome.tasks) {
      changed = changed || suite::AdapterChangedAnything(task.base, task.adapter);
    }
    outcome.suites.push_back(std::move(suite_outcome));
  }
  if (!changed) {
    return VerificationFailed("canary: adapter " + outcome.adapter_label +
                              " changed no output on any item; it was not applied (or is a no-op)");
  }
  if (!Leads()) return outcome;
  outcome.predicate = TestResultPredicate(outcome, settings_);
  GRAFT_ASSIGN_OR_RETURN(outcome.attestation_digest, Attest(outcome, key));
  return outcome;
}

Result<std::string> AdapterEvaluator::Attest(const EvaluationOutcome& outcome,
                                             const PrivateKey& key) {
  InTotoStatement statement;
  statement.subjects.push_back({outcome.adapter_label, {{"sha256", outcome.adapter_digest}}});
  statement.predicate_type = std::string(kTestResultPredicateType);
  statement.predicate = outcome.predicate;
  GRAFT_ASSIGN_OR_RETURN(std::string payload, CanonicalJson(statement.ToJson()));
  GRAFT_ASSIGN_OR_RETURN(DsseEnvelope envelope,
                         DsseSign(kInTotoPayloadType, std::move(payload), {&key}));
  std::vector<registry::Edge> edges = {{"", "adapter", outcome.adapter_digest},
                                       {"", "base", outcome.base_digest}};
  for (const SuiteOutcome& s : outcome.suites) {
    edges.push_back({"", "suite", s.digest});
    edges.push_back({"", "items", s.items_digest});
  }
  GRAFT_ASSIGN_OR_RETURN(
      registry::AttestationRecord record,
      registry_.AddAttestation(registry::kEvaluationAttestation, envelope, outcome.adapter_digest,
                               registry::kEvaluatorRole, edges));
  return record.digest;
}

bool AdapterEvaluator::Leads() const { return group_ == nullptr || group_->leader(); }

}  // namespace graft::evaluator

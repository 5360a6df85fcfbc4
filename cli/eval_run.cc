// The runner of `graft eval` (graft-model only; the options are in cli/eval_cmd.cc).
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "cli/common.h"
#include "cli/data_parallel.h"
#include "cli/evaluation_options.h"
#include "cli/output_options.h"
#include "core/file_util.h"
#include "distributed/group.h"
#include "evaluator/adapter_evaluator.h"
#include "evaluator/lm_eval_output.h"

namespace graft::cli {
namespace {

void PrintOutcome(const evaluator::EvaluationOutcome& outcome) {
  std::printf("evaluation sha256:%s of %s on base %s\n", outcome.attestation_digest.c_str(),
              outcome.adapter_label.c_str(), ShortDigest(outcome.base_digest).c_str());
  for (const evaluator::SuiteOutcome& suite : outcome.suites) {
    std::printf("\nsuite %s (%s)%s\n", suite.name.c_str(), ShortDigest(suite.digest).c_str(),
                suite.base_from_cache ? " [base scores from cache]" : "");
    std::printf("  %-24s %-14s %6s %12s %12s %12s  %-27s\n", "task", "metric", "n", "base",
                "adapter", "delta", "interval");
    for (const evaluator::TaskOutcome& task : suite.tasks) {
      for (const stats::MetricComparison& c : task.comparisons) {
        std::printf("  %-24s %-14s %6zu %12.6g %12.6g %+12.6g  [%+.4g, %+.4g] @%g\n",
                    task.name.c_str(), c.metric.c_str(), c.n, c.base, c.adapter, c.delta,
                    c.interval.low, c.interval.high, c.confidence);
        for (const stats::MetricComparison& s : c.slices) {
          std::printf("    %-22s %-14s %6zu %12.6g %12.6g %+12.6g  [%+.4g, %+.4g]\n",
                      ("[" + s.slice + "]").c_str(), s.metric.c_str(), s.n, s.base, s.adapter,
                      s.delta, s.interval.low, s.interval.high);
        }
      }
    }
  }
}

// One adapter's signed result, the shape `--json` writes for a single adapter.
Json OutcomeJson(const evaluator::EvaluationOutcome& outcome) {
  return {{"attestation", outcome.attestation_digest},
          {"subject", {{"name", outcome.adapter_label}, {"sha256", outcome.adapter_digest}}},
          {"predicate", outcome.predicate}};
}

// lm-eval's file date: local ISO time with ':' replaced by '-' ("2026-12-03T13-52-00.000000").
std::string LmEvalFileDate(std::chrono::system_clock::time_point now) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm local{};
  localtime_r(&seconds, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H-%M-%S", &local);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  char fraction[16];
  std::snprintf(fraction, sizeof fraction, ".%06lld", static_cast<long long>(micros));
  return std::string(text) + fraction;
}

// --lm-eval OUT: OUT/<model>/results_<date>.json and samples_<task>_<date>.jsonl for the
// adapter and for its base.
Status WriteLmEval(const evaluator::EvaluationOutcome& outcome,
                   const evaluator::EvaluationSettings& settings,
                   const std::filesystem::path& out) {
  const auto now = std::chrono::system_clock::now();
  const std::string date = LmEvalFileDate(now);
  const double unix_time = std::chrono::duration<double>(now.time_since_epoch()).count();
  for (evaluator::LmEvalSide side :
       {evaluator::LmEvalSide::kAdapter, evaluator::LmEvalSide::kBase}) {
    evaluator::LmEvalOutput files = evaluator::RenderLmEval(outcome, side, settings, unix_time);
    const std::filesystem::path dir = out / evaluator::LmEvalSanitize(files.model_name);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
    GRAFT_RETURN_IF_ERROR(
        WriteFileAtomic(dir / ("results_" + date + ".json"), files.results.dump(2) + "\n"));
    for (const auto& [task, lines] : files.samples) {
      GRAFT_RETURN_IF_ERROR(WriteFileAtomic(
          dir / ("samples_" + evaluator::LmEvalSanitize(task) + "_" + date + ".jsonl"), lines));
    }
    std::fprintf(stderr, "wrote %s\n", dir.string().c_str());
  }
  return Status::Ok();
}

Result<int> RunEval(const po::variables_map& vm) {
  const std::filesystem::path lm_eval = OutputPath(vm, OutputFile::kLmEval);
  const std::filesystem::path json_out = OutputPath(vm, OutputFile::kJson);
  const bool text = !WantsJson(vm);  // with --json, stdout holds the JSON alone
  GRAFT_ASSIGN_OR_RETURN(std::optional<int> launched, LaunchLocalWorkers(vm));
  if (launched) return *launched;
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<distributed::Group> group, JoinGroup());
  const bool leader = group == nullptr || group->leader();  // rank 0 signs and reports
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(PrivateKey key, PrivateKey::LoadPem(vm["key"].as<std::string>()));
  GRAFT_ASSIGN_OR_RETURN(evaluator::EvaluationSettings settings, EvaluationSettingsFrom(vm));
  const auto adapter_refs = vm["adapter"].as<std::vector<std::string>>();
  const auto suite_refs = vm["suite"].as<std::vector<std::string>>();
  evaluator::AdapterEvaluator evaluator(reg, settings, group.get());
  GRAFT_ASSIGN_OR_RETURN(registry::ObjectRecord base, evaluator.SharedBase(adapter_refs));
  Json evaluations = Json::array();
  for (size_t i = 0; i < adapter_refs.size(); ++i) {
    GRAFT_ASSIGN_OR_RETURN(
        evaluator::EvaluationOutcome outcome,
        evaluator.Evaluate(adapter_refs[i], suite_refs, key,
                           leader ? TerminalProgress() : evaluator::EvaluationProgress()));
    if (!leader) continue;
    if (text && i > 0) std::printf("\n");
    if (text) PrintOutcome(outcome);
    if (!lm_eval.empty()) GRAFT_RETURN_IF_ERROR(WriteLmEval(outcome, settings, lm_eval));
    evaluations.push_back(OutcomeJson(outcome));
  }
  if (!leader) return kExitOk;
  if (text && adapter_refs.size() > 1) {
    const evaluator::EvaluatorStats& stats = evaluator.stats();
    std::printf(
        "\n%zu adapters on base %s: base loaded %lld time(s); base scores computed for %lld "
        "task(s), reused for %lld\n",
        adapter_refs.size(), ShortDigest(base.digest).c_str(),
        static_cast<long long>(stats.base_loads), static_cast<long long>(stats.base_tasks_scored),
        static_cast<long long>(stats.base_tasks_reused));
  }
  // One adapter: its result; several: one entry each, in the order named.
  const Json result = adapter_refs.size() == 1
                          ? evaluations[0]
                          : Json{{"base", {{"sha256", base.digest}}}, {"evaluations", evaluations}};
  if (!json_out.empty()) {
    GRAFT_ASSIGN_OR_RETURN(std::string canonical, CanonicalJson(result));
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(json_out, canonical + "\n"));
  }
  if (!text) PrintJson(result);
  return kExitOk;
}

ModelRunnerRegistrar kEvalRunner("eval", RunEval);

}  // namespace
}  // namespace graft::cli

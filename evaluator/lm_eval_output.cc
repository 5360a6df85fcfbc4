#include "evaluator/lm_eval_output.h"

#include <cmath>
#include <numbers>
#include <regex>

#include "evaluator/stats/metric_info.h"
#include "evaluator/suite/score_table.h"

namespace graft::evaluator {
namespace {

// lm-eval's aggregation names: "mean" for per-item values, else the metric's own.
std::string Aggregation(const std::string& metric, stats::MetricKind kind) {
  return kind == stats::MetricKind::kMean ? "mean" : metric;
}

// The sample standard error of the mean of per-item values (lm-eval's mean_stderr).
double MeanStderr(const std::vector<double>& values) {
  const double n = static_cast<double>(values.size());
  if (values.size() < 2) return 0.0;
  double mean = 0;
  for (double v : values) mean += v;
  mean /= n;
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / (n - 1)) / std::sqrt(n);
}

}  // namespace

std::string LmEvalSanitize(const std::string& name) {
  static const std::regex kUnsafe(R"re(["<>:/\|\\?\*\[\]]+)re");
  return std::regex_replace(name, kUnsafe, "__");
}

LmEvalOutput RenderLmEval(const EvaluationOutcome& outcome, LmEvalSide side,
                          const EvaluationSettings& settings, double unix_time) {
  const bool adapter_side = side == LmEvalSide::kAdapter;
  LmEvalOutput out;
  out.model_name =
      adapter_side ? outcome.adapter_label : "base-" + outcome.base_digest.substr(0, 12);
  Json results = Json::object(), configs = Json::object(), versions = Json::object();
  Json n_shot = Json::object(), higher = Json::object(), n_samples = Json::object();
  for (const SuiteOutcome& suite : outcome.suites) {
    for (const TaskOutcome& task : suite.tasks) {
      const std::string name = suite.name + "." + task.name;
      const std::vector<suite::ItemScore>& scores = adapter_side ? task.adapter : task.base;
      Json row = {{"alias", name}};
      Json metric_list = Json::array();
      Json task_higher = Json::object();
      for (const stats::MetricComparison& c : task.comparisons) {
        row[c.metric + ",none"] = adapter_side ? c.adapter : c.base;
        if (c.kind == stats::MetricKind::kMean) {
          std::vector<double> values;
          for (const suite::ItemScore& s : scores)
            values.push_back(suite::MetricParts(c.metric, s).first);
          row[c.metric + "_stderr,none"] = MeanStderr(values);
        } else {
          row[c.metric + "_stderr,none"] = "N/A";  // as lm-eval reports ratio metrics
        }
        metric_list.push_back({{"metric", c.metric},
                               {"aggregation", Aggregation(c.metric, c.kind)},
                               {"higher_is_better", c.higher_is_better}});
        task_higher[c.metric] = c.higher_is_better;
      }
      results[name] = row;
      configs[name] = {{"task", name},
                       {"output_type", suite::TaskTypeName(task.type)},
                       {"dataset_path", suite.name},
                       {"num_fewshot", 0},
                       {"metric_list", metric_list},
                       {"metadata", {{"version", 1.0}, {"suite_sha256", suite.digest}}}};
      versions[name] = 1.0;
      n_shot[name] = 0;
      higher[name] = task_higher;
      n_samples[name] = {{"original", scores.size()}, {"effective", scores.size()}};

      std::string lines;
      for (size_t i = 0; i < scores.size(); ++i) {
        const suite::ItemScore& s = scores[i];
        Json doc = {{"id", i < task.item_ids.size() ? task.item_ids[i] : ""}};
        if (i < task.slices.size() && !task.slices[i].empty()) doc["slice"] = task.slices[i];
        Json sample = {{"doc_id", i}, {"doc", doc}};
        for (const stats::MetricComparison& c : task.comparisons) {
          if (c.kind == stats::MetricKind::kMean) {
            sample[c.metric] = suite::MetricParts(c.metric, s).first;
          } else {
            // lm-eval's [loglikelihood, weight] pair: nats (negative), and bytes or tokens.
            const double weight = c.metric == "bits_per_byte" ? static_cast<double>(s.bytes)
                                                              : static_cast<double>(s.tokens);
            sample[c.metric] = Json::array({-s.nll, weight});
          }
        }
        if (task.type == suite::TaskType::kGenerateUntil) {
          sample["resps"] = Json::array({Json::array({s.completion})});
          sample["filtered_resps"] = Json::array({s.completion});
        } else if (task.type == suite::TaskType::kMultipleChoice) {
          Json resps = Json::array();
          for (double ll : s.choice_loglikelihoods) resps.push_back(Json::array({ll, false}));
          sample["filtered_resps"] = resps;
        }
        lines += sample.dump() + "\n";
      }
      out.samples[name] = std::move(lines);
    }
  }
  out.results = {
      {"results", results},
      {"configs", configs},
      {"versions", versions},
      {"n-shot", n_shot},
      {"higher_is_better", higher},
      {"n-samples", n_samples},
      {"config",
       {{"model", "graft"},
        {"model_args", "base=sha256:" + outcome.base_digest +
                           (adapter_side ? ",adapter=sha256:" + outcome.adapter_digest : "")},
        {"batch_size", settings.batch_size},
        {"bootstrap_iters", settings.bootstrap.resamples}}},
      {"model_name", out.model_name},
      {"model_name_sanitized", LmEvalSanitize(out.model_name)},
      {"date", unix_time},
      {"graft",
       {{"evaluation", outcome.attestation_digest},
        {"adapter", outcome.adapter_digest},
        {"base", outcome.base_digest},
        {"side", adapter_side ? "adapter" : "base"}}},
  };
  return out;
}

}  // namespace graft::evaluator

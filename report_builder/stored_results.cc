#include "report_builder/stored_results.h"

#include <initializer_list>
#include <limits>
#include <string>

namespace graft::report_builder {
namespace {

// The enum value whose name (by `name_of`) is `text`, or an error naming the field.
template <typename Enum, typename NameOf>
Result<Enum> EnumNamed(const std::string& text, std::initializer_list<Enum> values, NameOf name_of,
                       std::string_view field, std::string_view source) {
  for (Enum value : values) {
    if (name_of(value) == text) return value;
  }
  return InvalidInput(std::string(source) + ": " + std::string(field) + ": unknown value \"" +
                      text + "\"");
}

// A number, or +-infinity where ComparisonToJson wrote null for a non-finite one.
double NumberOrInfinity(const Json& json, double infinity) {
  return json.is_null() ? infinity : json.get<double>();
}

stats::Interval IntervalFrom(const Json& json) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  return {NumberOrInfinity(json.at("low"), -kInf), NumberOrInfinity(json.at("high"), kInf)};
}

template <typename T>
std::optional<T> Optional(const Json& object, const char* key) {
  if (!object.contains(key) || object[key].is_null()) return std::nullopt;
  return object[key].get<T>();
}

Result<stats::MetricComparison> ComparisonFrom(const Json& json, std::string_view source) {
  stats::MetricComparison c;
  c.metric = json.at("metric").get<std::string>();
  GRAFT_ASSIGN_OR_RETURN(c.kind,
                         EnumNamed(json.at("kind").get<std::string>(),
                                   {stats::MetricKind::kMean, stats::MetricKind::kRatioOfSums,
                                    stats::MetricKind::kExpRatioOfSums},
                                   stats::MetricKindName, "kind", source));
  c.higher_is_better = json.at("higher_is_better").get<bool>();
  c.slice = json.value("slice", "");
  c.n = json.at("n").get<size_t>();
  c.base = json.at("base").get<double>();
  c.adapter = json.at("adapter").get<double>();
  c.delta = json.at("delta").get<double>();
  c.confidence = json.at("confidence").get<double>();
  c.interval = IntervalFrom(json.at("interval"));
  c.resamples = json.at("resamples").get<int64_t>();
  c.seed = json.at("seed").get<uint64_t>();
  c.standard_error = json.at("standard_error").get<double>();
  c.power = json.at("power").get<double>();
  c.minimum_detectable_effect = NumberOrInfinity(json.at("minimum_detectable_effect"),
                                                 std::numeric_limits<double>::infinity());
  c.interval_method = json.value("interval_method", "");
  if (json.contains("bootstrap_interval")) {
    c.bootstrap_interval = IntervalFrom(json["bootstrap_interval"]);
  }
  c.degrees_of_freedom = json.value("degrees_of_freedom", 0.0);
  c.effective_n = json.value("effective_n", 0.0);
  if (json.contains("mcnemar")) {
    const Json& m = json["mcnemar"];
    c.mcnemar = stats::McNemarResult{m.at("b").get<int64_t>(), m.at("c").get<int64_t>(),
                                     m.at("p_value").get<double>()};
  }
  for (const Json& slice : json.value("slices", Json::array())) {
    GRAFT_ASSIGN_OR_RETURN(stats::MetricComparison s, ComparisonFrom(slice, source));
    c.slices.push_back(std::move(s));
  }
  return c;
}

Result<policies::CriterionResult> CriterionFrom(const Json& json, std::string_view source) {
  policies::CriterionResult c;
  c.name = json.at("name").get<std::string>();
  GRAFT_ASSIGN_OR_RETURN(
      c.kind, EnumNamed(json.at("kind").get<std::string>(),
                        {policies::CriterionKind::kKpi, policies::CriterionKind::kRegression,
                         policies::CriterionKind::kRequirement},
                        policies::CriterionKindName, "kind", source));
  GRAFT_ASSIGN_OR_RETURN(
      c.status,
      EnumNamed(json.at("status").get<std::string>(),
                {policies::CriterionStatus::kPass, policies::CriterionStatus::kFail,
                 policies::CriterionStatus::kInconclusive, policies::CriterionStatus::kPending},
                policies::CriterionStatusName, "status", source));
  c.reason = json.value("reason", "");
  c.suite = json.value("suite", "");
  c.metric = json.value("metric", "");
  c.slice = json.value("slice", "");
  c.higher_is_better = Optional<bool>(json, "higher_is_better");
  c.n = Optional<int64_t>(json, "n");
  c.base = Optional<double>(json, "base");
  c.adapter = Optional<double>(json, "adapter");
  c.delta = Optional<double>(json, "delta");
  c.confidence = Optional<double>(json, "confidence");
  if (json.contains("interval")) c.interval = IntervalFrom(json["interval"]);
  if (json.contains("improvement_interval")) {
    c.improvement_interval = IntervalFrom(json["improvement_interval"]);
  }
  c.threshold = Optional<double>(json, "threshold");
  c.p_value = Optional<double>(json, "p_value");
  c.minimum_detectable_effect = Optional<double>(json, "minimum_detectable_effect");
  c.test = json.value("test", "");
  c.observed = Optional<double>(json, "observed");
  return c;
}

Result<policies::Decision> DecisionFrom(const Json& json, std::string_view source) {
  policies::Decision d;
  d.policy = json.at("policy").get<std::string>();
  d.policy_digest = json.at("policy_digest").get<std::string>();
  GRAFT_ASSIGN_OR_RETURN(
      d.mode, EnumNamed(json.at("mode").get<std::string>(),
                        {policies::DecisionMode::kGate, policies::DecisionMode::kPromote},
                        policies::DecisionModeName, "mode", source));
  d.confidence = json.at("confidence").get<double>();
  d.inconclusive = json.at("inconclusive").get<std::string>();
  d.look = json.value("look", int64_t{1});
  d.max_looks = Optional<int64_t>(json, "max_looks");
  d.alpha_spending = json.value("alpha_spending", "");
  d.candidates = json.value("candidates", int64_t{1});
  d.max_candidates = Optional<int64_t>(json, "max_candidates");
  d.alpha = json.value("alpha", (1 - d.confidence) / 2);
  for (const Json& criterion : json.at("criteria")) {
    GRAFT_ASSIGN_OR_RETURN(policies::CriterionResult c, CriterionFrom(criterion, source));
    d.criteria.push_back(std::move(c));
  }
  GRAFT_ASSIGN_OR_RETURN(d.verdict, EnumNamed(json.at("verdict").get<std::string>(),
                                              {policies::Verdict::kPass, policies::Verdict::kFail,
                                               policies::Verdict::kInconclusive},
                                              policies::VerdictName, "verdict", source));
  d.exit_code = json.at("exit_code").get<int>();
  return d;
}

// Runs a reader, turning a missing key or a wrong type into an error that names `source`.
template <typename T, typename Reader>
Result<T> Read(const Json& json, std::string_view source, std::string_view what, Reader reader) {
  try {
    return reader(json, source);
  } catch (const Json::exception& e) {
    return InvalidInput(std::string(source) + ": malformed " + std::string(what) + ": " + e.what());
  }
}

}  // namespace

Result<stats::MetricComparison> ComparisonFromJson(const Json& json, std::string_view source) {
  return Read<stats::MetricComparison>(json, source, "metric comparison", ComparisonFrom);
}

Result<policies::Decision> DecisionFromJson(const Json& json, std::string_view source) {
  return Read<policies::Decision>(json, source, "decision", DecisionFrom);
}

}  // namespace graft::report_builder

#include "reports/junit_report.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "reports/escape.h"
#include "reports/number_format.h"

namespace graft::reports {
namespace {

constexpr std::string_view kRequirementsSuite = "requirements";

std::string_view SuiteOf(const policies::CriterionResult& c) {
  return c.kind == policies::CriterionKind::kRequirement || c.suite.empty()
             ? kRequirementsSuite
             : std::string_view(c.suite);
}

enum class Outcome { kPassed, kFailure, kSkipped };

Outcome OutcomeOf(const policies::CriterionResult& c, const policies::Decision& d) {
  switch (c.status) {
    case policies::CriterionStatus::kPass:
      return Outcome::kPassed;
    case policies::CriterionStatus::kFail:
      return Outcome::kFailure;
    case policies::CriterionStatus::kInconclusive:
      return d.inconclusive == "hold" ? Outcome::kSkipped : Outcome::kFailure;
    case policies::CriterionStatus::kPending:
      return Outcome::kSkipped;
  }
  return Outcome::kFailure;
}

struct Counts {
  int tests = 0;
  int failures = 0;
  int skipped = 0;

  void Add(Outcome outcome) {
    ++tests;
    failures += outcome == Outcome::kFailure;
    skipped += outcome == Outcome::kSkipped;
  }
  std::string Attributes() const {
    return " tests=\"" + std::to_string(tests) + "\" failures=\"" + std::to_string(failures) +
           "\" errors=\"0\" skipped=\"" + std::to_string(skipped) + "\"";
  }
};

std::string Attribute(std::string_view name, std::string_view value) {
  return " " + std::string(name) + "=\"" + XmlEscapeAttribute(value) + "\"";
}

std::string Property(std::string_view name, std::string_view value) {
  return "      <property" + Attribute("name", name) + Attribute("value", value) + "/>\n";
}

std::string Properties(const GateReportData& gate) {
  const policies::Decision& d = gate.decision;
  return "    <properties>\n" + Property("adapter", gate.adapter.name) +
         Property("adapter.digest", gate.adapter.digest) + Property("base", gate.base.name) +
         Property("base.digest", gate.base.digest) + Property("policy", d.policy) +
         Property("policy.digest", d.policy_digest) +
         Property("mode", policies::DecisionModeName(d.mode)) +
         Property("verdict", policies::VerdictName(d.verdict)) +
         Property("exit_code", std::to_string(d.exit_code)) +
         Property("look", std::to_string(d.look)) +
         Property("candidates", std::to_string(d.candidates)) + "    </properties>\n";
}

std::string Testcase(const policies::CriterionResult& c, const policies::Decision& d) {
  std::string out = "    <testcase" + Attribute("classname", SuiteOf(c)) +
                    Attribute("name", c.name) +
                    Attribute("status", policies::CriterionStatusName(c.status));
  const Outcome outcome = OutcomeOf(c, d);
  if (outcome == Outcome::kPassed) return out + "/>\n";
  out += ">\n";
  const std::string body = XmlEscapeText(CriterionDetails(c));
  if (outcome == Outcome::kFailure) {
    out += "      <failure" + Attribute("message", c.reason) +
           Attribute("type", policies::CriterionStatusName(c.status)) + ">" + body + "</failure>\n";
  } else {
    out += "      <skipped" + Attribute("message", c.reason) + ">" + body + "</skipped>\n";
  }
  return out + "    </testcase>\n";
}

void AddLine(std::string& out, std::string_view key, const std::string& value) {
  if (value.empty()) return;
  out += key;
  out += ": ";
  out += value;
  out += '\n';
}

}  // namespace

std::string CriterionDetails(const policies::CriterionResult& c) {
  std::string out;
  AddLine(out, "status", std::string(policies::CriterionStatusName(c.status)));
  AddLine(out, "kind", std::string(policies::CriterionKindName(c.kind)));
  AddLine(out, "suite", c.suite);
  AddLine(out, "metric", c.metric);
  AddLine(out, "slice", c.slice);
  if (c.n) AddLine(out, "n", std::to_string(*c.n));
  AddLine(out, "base", FormatOptional(c.base));
  AddLine(out, "adapter", FormatOptional(c.adapter));
  if (c.delta) AddLine(out, "delta", FormatSigned(*c.delta));
  AddLine(out, "confidence", c.confidence ? FormatPercent(*c.confidence) : "");
  if (c.interval) AddLine(out, "interval", FormatInterval(*c.interval));
  if (c.improvement_interval) {
    AddLine(out, "improvement interval", FormatInterval(*c.improvement_interval));
  }
  AddLine(out, "threshold", FormatOptional(c.threshold));
  AddLine(out, "test", c.test);
  AddLine(out, "p-value", FormatOptional(c.p_value));
  AddLine(out, "minimum detectable effect", FormatOptional(c.minimum_detectable_effect));
  AddLine(out, "observed", FormatOptional(c.observed));
  AddLine(out, "reason", c.reason);
  return out;
}

std::string RenderJunitReport(const GateReportData& gate) {
  const policies::Decision& d = gate.decision;
  std::vector<std::string_view> suites;
  for (const policies::CriterionResult& c : d.criteria) {
    const std::string_view suite = SuiteOf(c);
    if (std::find(suites.begin(), suites.end(), suite) == suites.end()) suites.push_back(suite);
  }
  Counts total;
  std::string body;
  for (std::string_view suite : suites) {
    Counts counts;
    std::string cases;
    for (const policies::CriterionResult& c : d.criteria) {
      if (SuiteOf(c) != suite) continue;
      counts.Add(OutcomeOf(c, d));
      total.Add(OutcomeOf(c, d));
      cases += Testcase(c, d);
    }
    body += "  <testsuite" + Attribute("name", suite) + counts.Attributes() + ">\n" +
            Properties(gate) + cases + "  </testsuite>\n";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites" +
         Attribute("name", "graft gate " + gate.adapter.name) + total.Attributes() + ">\n" + body +
         "</testsuites>\n";
}

}  // namespace graft::reports

// JSON reports: golden output, schema ids, stability, hostile strings, validation against the
// JSON Schema files.
#include "reports/json_report.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "tests/unit/reports/report_fixtures.h"

namespace graft::reports {
namespace {

using testing::SourcePath;

Json ReadSchema(const std::string& name) {
  std::ifstream in(SourcePath("reports/schema/" + name));
  std::stringstream text;
  text << in.rdbuf();
  Result<Json> schema = ParseJson(text.str(), name);
  EXPECT_TRUE(schema.ok()) << schema.status().ToString();
  return schema.ok() ? *schema : Json();
}

bool HaveJsonSchemaValidator() {
  return std::system("python3 -c 'import jsonschema' >/dev/null 2>&1") == 0;
}

// Validates `document` against the schema its "schema" names, with scripts/validate-report-json
// (Python's jsonschema, Draft 2020-12).
void ExpectValid(const std::string& document) {
  if (!HaveJsonSchemaValidator()) GTEST_SKIP() << "python3-jsonschema not installed";
  const testing::ToolResult result = testing::RunOnFile(
      "'" + SourcePath("scripts/validate-report-json").string() + "'", "report.json", document);
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

TEST(JsonReport, MatchGolden) {
  testing::ExpectGolden("gate.json", RenderJson(GateReportJson(testing::SampleGate())));
  testing::ExpectGolden("adapter.json", RenderJson(AdapterReportJson(testing::SampleAdapter())));
  testing::ExpectGolden("audit.json", RenderJson(AuditReportJson(testing::SampleAudit())));
}

TEST(JsonReport, SchemaIdsMatchTheSchemaFiles) {
  EXPECT_EQ(ReadSchema("gate-decision.v1.json")["$id"], kGateDecisionSchema);
  EXPECT_EQ(ReadSchema("adapter-report.v1.json")["$id"], kAdapterReportSchema);
  EXPECT_EQ(ReadSchema("audit-report.v1.json")["$id"], kAuditReportSchema);
  EXPECT_EQ(GateReportJson(testing::SampleGate())["schema"], kGateDecisionSchema);
  EXPECT_EQ(AdapterReportJson(testing::SampleAdapter())["schema"], kAdapterReportSchema);
  EXPECT_EQ(AuditReportJson(testing::SampleAudit())["schema"], kAuditReportSchema);
}

TEST(JsonReport, ValuesAndStableOrder) {
  const Json gate = GateReportJson(testing::SampleGate());
  EXPECT_EQ(gate["decision"]["verdict"], "fail");
  EXPECT_EQ(gate["decision"]["criteria"][3]["interval"]["low"], -0.07);
  const std::string text = RenderJson(gate);
  EXPECT_EQ(text, RenderJson(GateReportJson(testing::SampleGate())));
  EXPECT_LT(text.find("\"adapter\""), text.find("\"base\""));  // keys sorted
  EXPECT_LT(text.find("\"base\""), text.find("\"decision\""));
  EXPECT_EQ(text.back(), '\n');

  const Json adapter = AdapterReportJson(testing::SampleAdapter());
  EXPECT_EQ(adapter["evaluations"][0]["suites"][1]["metrics"][0]["slices"][1]["slice"], "faq");
  EXPECT_EQ(adapter["training"]["loss"][4]["valid_loss"].is_number(), true);
  EXPECT_EQ(adapter["training"]["loss"][0].contains("valid_loss"), false);
  EXPECT_EQ(adapter["log"][3]["inclusion_verified"], false);

  AdapterReportData untrained = testing::SampleAdapter();
  untrained.training.reset();
  EXPECT_TRUE(AdapterReportJson(untrained)["training"].is_null());

  const Json audit = AuditReportJson(testing::SampleAudit());
  EXPECT_EQ(audit["retirements"], Json::array());
  EXPECT_EQ(audit["checkpoint"]["size"], 214);
}

TEST(JsonReport, NonFiniteNumbersBecomeNull) {
  GateReportData gate = testing::SampleGate();
  gate.decision.criteria[0].delta = std::numeric_limits<double>::quiet_NaN();
  const std::string text = RenderJson(GateReportJson(gate));
  EXPECT_NE(text.find("\"delta\": null"), std::string::npos);
}

TEST(JsonReport, HostileStringsRoundTrip) {
  const std::string text = RenderJson(GateReportJson(testing::HostileGate()));
  Result<Json> parsed = ParseJson(text, "gate.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  // Everything survives but the invalid byte, which becomes U+FFFD.
  std::string expected = "support-bot@3" + testing::kHostile;
  expected.replace(expected.find('\xff'), 1, "\xef\xbf\xbd");
  EXPECT_EQ((*parsed)["adapter"]["name"], expected);
  EXPECT_EQ(text.find('\x01'), std::string::npos);  // control characters are \u escapes
  EXPECT_NE(text.find("\\u0001"), std::string::npos);
}

TEST(JsonReport, ValidAgainstSchemas) {
  ExpectValid(RenderJson(GateReportJson(testing::SampleGate())));
  ExpectValid(RenderJson(AdapterReportJson(testing::SampleAdapter())));
  ExpectValid(RenderJson(AuditReportJson(testing::SampleAudit())));
  ExpectValid(RenderJson(GateReportJson(testing::HostileGate())));
  ExpectValid(RenderJson(AdapterReportJson(testing::HostileAdapter())));
  ExpectValid(RenderJson(AuditReportJson(testing::HostileAudit())));
}

TEST(JsonReport, SchemaRejectsDrift) {
  Json gate = GateReportJson(testing::SampleGate());
  gate["decision"]["criteria"][0]["status"] = "MAYBE";
  if (!HaveJsonSchemaValidator()) GTEST_SKIP() << "python3-jsonschema not installed";
  const testing::ToolResult result =
      testing::RunOnFile("'" + SourcePath("scripts/validate-report-json").string() + "'",
                         "report.json", RenderJson(gate));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.output.find("/decision/criteria/0/status"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace graft::reports

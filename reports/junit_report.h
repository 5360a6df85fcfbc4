// RenderJunitReport: a gate decision as JUnit XML (one testsuite per suite, one testcase per
// criterion) for CI test reporters.
#pragma once

#include <string>

#include "reports/report_model.h"

namespace graft::reports {

// <testsuites> with one <testsuite> per suite in order of first appearance (requirements in
// "requirements"), one <testcase> per criterion (classname = suite, name = criterion name).
// FAIL is a <failure>; INCONCLUSIVE is <skipped> under `inconclusive: hold` and a <failure>
// under `fail`; PENDING is <skipped>. Each testsuite's <properties> name the adapter, base and
// policy with their digests. Valid against tests/data/junit.xsd for any input strings.
std::string RenderJunitReport(const GateReportData& gate);

// The measurements of a criterion, one "key: value" line each (absent values left out); the body
// of a JUnit <failure> or <skipped>.
std::string CriterionDetails(const policies::CriterionResult& criterion);

}  // namespace graft::reports

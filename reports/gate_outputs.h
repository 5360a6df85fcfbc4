// WriteGateOutputs: the files a CI gate leaves behind (JUnit XML, Markdown, JSON, job summary) and
// what it tells GitHub Actions (annotations, step outputs).
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>

#include "core/status.h"
#include "reports/report_model.h"

namespace graft::reports {

// Where the gate writes its reports (an empty path skips that file) and the digest of the signed
// decision it stored.
struct GateOutputFiles {
  std::filesystem::path junit;
  std::filesystem::path markdown;
  std::filesystem::path json;
  std::string decision_digest;
};

// GitHub's workflow-command escaping: data (the message) escapes %, \r and \n; a property (the
// title) also escapes ':' and ','.
std::string EscapeGithubData(std::string_view text);
std::string EscapeGithubProperty(std::string_view text);

// One workflow command per criterion that did not pass: ::error for FAIL, ::warning for
// INCONCLUSIVE, ::notice for PENDING; title = criterion name, message = its reason.
std::string RenderGithubAnnotations(const GateReportData& gate);

// The $GITHUB_OUTPUT lines: verdict, exit-code, adapter-digest, decision-digest and the report
// paths that were written (junit, markdown, json). A value with a line break uses GitHub's
// `name<<DELIMITER` form.
std::string RenderGithubOutputs(const GateReportData& gate, const GateOutputFiles& files);

// Writes the gate's JUnit XML, Markdown and JSON with the reports renderers, and appends the
// Markdown to $GITHUB_STEP_SUMMARY when that variable is set. When GITHUB_ACTIONS is "true" it
// also prints RenderGithubAnnotations to `annotations` and appends RenderGithubOutputs to
// $GITHUB_OUTPUT when that is set.
Status WriteGateOutputs(const GateReportData& gate, const GateOutputFiles& files,
                        std::ostream& annotations);

}  // namespace graft::reports

#include "reports/gate_outputs.h"

#include <cstdlib>
#include <fstream>

#include "core/file_util.h"
#include "core/sha256.h"
#include "reports/json_report.h"
#include "reports/junit_report.h"
#include "reports/markdown_report.h"

namespace graft::reports {
namespace {

std::string Escape(std::string_view text, bool property) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '%':
        out += "%25";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      case ':':
        out += property ? "%3A" : ":";
        break;
      case ',':
        out += property ? "%2C" : ",";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// "name=value\n", or GitHub's multi-line form with a delimiter that is not in the value.
std::string OutputLine(const std::string& name, const std::string& value) {
  if (value.find_first_of("\r\n") == std::string::npos) return name + "=" + value + "\n";
  const std::string delimiter = "ghadelimiter_" + Sha256Hex(value).substr(0, 32);
  return name + "<<" + delimiter + "\n" + value + "\n" + delimiter + "\n";
}

Status AppendTo(const char* variable, const std::string& text) {
  const char* path = std::getenv(variable);
  if (path == nullptr || *path == '\0') return Status::Ok();
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
  out.flush();
  if (!out) return IoError(std::string("cannot append to $") + variable + " " + path);
  return Status::Ok();
}

}  // namespace

std::string EscapeGithubData(std::string_view text) { return Escape(text, false); }
std::string EscapeGithubProperty(std::string_view text) { return Escape(text, true); }

std::string RenderGithubAnnotations(const GateReportData& gate) {
  std::string out;
  for (const policies::CriterionResult& c : gate.decision.criteria) {
    const char* command = nullptr;
    switch (c.status) {
      case policies::CriterionStatus::kPass:
        continue;
      case policies::CriterionStatus::kFail:
        command = "error";
        break;
      case policies::CriterionStatus::kInconclusive:
        command = "warning";
        break;
      case policies::CriterionStatus::kPending:
        command = "notice";
        break;
    }
    out += std::string("::") + command + " title=" + EscapeGithubProperty(c.name) +
           "::" + EscapeGithubData(c.reason) + "\n";
  }
  return out;
}

std::string RenderGithubOutputs(const GateReportData& gate, const GateOutputFiles& files) {
  std::string out =
      OutputLine("verdict", std::string(policies::VerdictName(gate.decision.verdict)));
  out += OutputLine("exit-code", std::to_string(gate.decision.exit_code));
  out += OutputLine("adapter-digest", gate.adapter.digest);
  out += OutputLine("decision-digest", files.decision_digest);
  if (!files.junit.empty()) out += OutputLine("junit", files.junit.string());
  if (!files.markdown.empty()) out += OutputLine("markdown", files.markdown.string());
  if (!files.json.empty()) out += OutputLine("json", files.json.string());
  return out;
}

Status WriteGateOutputs(const GateReportData& gate, const GateOutputFiles& files,
                        std::ostream& annotations) {
  if (!files.junit.empty()) {
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(files.junit, RenderJunitReport(gate)));
  }
  const std::string markdown = RenderGateMarkdown(gate);
  if (!files.markdown.empty()) GRAFT_RETURN_IF_ERROR(WriteFileAtomic(files.markdown, markdown));
  if (!files.json.empty()) {
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(files.json, RenderJson(GateReportJson(gate))));
  }
  GRAFT_RETURN_IF_ERROR(AppendTo("GITHUB_STEP_SUMMARY", markdown + "\n"));
  if (const char* actions = std::getenv("GITHUB_ACTIONS");
      actions && std::string(actions) == "true") {
    annotations << RenderGithubAnnotations(gate);
    annotations.flush();
    GRAFT_RETURN_IF_ERROR(AppendTo("GITHUB_OUTPUT", RenderGithubOutputs(gate, files)));
  }
  return Status::Ok();
}

}  // namespace graft::reports

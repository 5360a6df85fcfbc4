// `graft report ADAPTER` and `graft report audit`: one self-contained report file per adapter or
// per period, as HTML, Markdown or JSON, filled from the registry (re-verified as it is read).
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/common.h"
#include "core/file_util.h"
#include "report_builder/adapter_report_builder.h"
#include "report_builder/audit_report_builder.h"
#include "reports/html_report.h"
#include "reports/json_report.h"
#include "reports/markdown_report.h"

namespace graft::cli {
namespace {
namespace fs = std::filesystem;

enum class ReportFormat { kHtml, kMarkdown, kJson };

Result<ReportFormat> FormatFrom(const po::variables_map& vm) {
  const std::string format = vm["format"].as<std::string>();
  if (format == "html") return ReportFormat::kHtml;
  if (format == "md" || format == "markdown") return ReportFormat::kMarkdown;
  if (format == "json") return ReportFormat::kJson;
  return InvalidInput("--format must be html, md or json, not \"" + format + "\"");
}

// --out FILE, checked before any work so that a bad path fails fast and writes nothing; empty
// for stdout.
Result<fs::path> OutputFrom(const po::variables_map& vm) {
  if (!vm.count("out")) return fs::path();
  const fs::path out = vm["out"].as<std::string>();
  const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  std::error_code error;
  if (out.filename().empty() || fs::is_directory(out, error)) {
    return InvalidInput("--out " + out.string() + ": is a directory, not a file");
  }
  if (!fs::is_directory(parent, error)) {
    return InvalidInput("--out " + out.string() + ": directory " + parent.string() +
                        " does not exist");
  }
  if (::access(parent.c_str(), W_OK) != 0 ||
      (fs::exists(out, error) && ::access(out.c_str(), W_OK) != 0)) {
    return InvalidInput("--out " + out.string() + ": not writable");
  }
  return out;
}

// Writes the report to --out (atomically) or stdout; exit 12 when a check in it failed.
Result<int> Emit(const std::string& text, const fs::path& out, const std::string& failed) {
  if (out.empty()) {
    std::cout << text;
  } else {
    Status written = WriteFileAtomic(out, text);
    if (!written.ok()) return InvalidInput("--out " + out.string() + ": " + written.message());
    std::cout << "wrote " << out.string() << "\n";
  }
  if (failed.empty()) return kExitOk;
  std::cerr << "graft: verification failed: " << failed << " (the report says why)\n";
  return kExitVerificationFailed;
}

Result<int> RunAdapterReport(const po::variables_map& vm) {
  if (!vm.count("adapter")) return InvalidInput("give an adapter REF (or the verb 'audit')");
  GRAFT_ASSIGN_OR_RETURN(ReportFormat format, FormatFrom(vm));
  GRAFT_ASSIGN_OR_RETURN(fs::path out, OutputFrom(vm));
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  AdapterReportBuilder builder(reg);
  GRAFT_ASSIGN_OR_RETURN(AdapterReportData report, builder.Build(vm["adapter"].as<std::string>()));
  std::string failed;
  for (const VerificationRow& row : report.verification) {
    if (!row.ok) failed += (failed.empty() ? "" : ", ") + row.check;
  }
  const std::string text = format == ReportFormat::kHtml ? RenderAdapterHtml(report)
                           : format == ReportFormat::kMarkdown
                               ? RenderAdapterMarkdown(report)
                               : RenderJson(AdapterReportJson(report));
  return Emit(text, out, failed);
}

Result<int> RunAuditReport(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(ReportFormat format, FormatFrom(vm));
  GRAFT_ASSIGN_OR_RETURN(
      AuditPeriod period,
      AuditPeriod::Parse(vm.count("since") ? vm["since"].as<std::string>() : ""));
  GRAFT_ASSIGN_OR_RETURN(fs::path out, OutputFrom(vm));
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  AuditReportBuilder builder(reg);
  GRAFT_ASSIGN_OR_RETURN(AuditReportData audit, builder.Build(period));
  const std::string text = format == ReportFormat::kHtml       ? RenderAuditHtml(audit)
                           : format == ReportFormat::kMarkdown ? RenderAuditMarkdown(audit)
                                                               : RenderJson(AuditReportJson(audit));
  return Emit(text, out, audit.checkpoint.verified ? "" : "log checkpoint");
}

void AddReportOptions(po::options_description& options) {
  options.add_options()("format,f", po::value<std::string>()->default_value("html"),
                        "html, md or json")("out,o", po::value<std::string>(),
                                            "write the report to FILE (default: stdout)");
  AddRegistryOption(options);
}

GroupRegistrar kReportGroup(
    "report",
    "Reports for people and machines: 'graft report ADAPTER' (one adapter) or "
    "'graft report audit' (a period of the log), as HTML, Markdown or JSON");

CommandRegistrar kAdapterReport({
    .group = "report",
    .verb = "",
    .summary = "One adapter: identity, verification (re-checked now), lineage, training, "
               "evaluations, decisions, approvals, log entries with inclusion proofs",
    .usage = "ADAPTER [--format html|md|json] [--out FILE]",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("adapter", po::value<std::string>(),
                                "adapter REF: name@N, name@channel, name, digest or prefix");
          positional.add("adapter", 1);
          AddReportOptions(options);
        },
    .run = RunAdapterReport,
});

CommandRegistrar kAuditReport({
    .group = "report",
    .verb = "audit",
    .summary = "What changed over a period: promotions, rollbacks, retirements, revocations, "
               "failed gates, post-hoc policies, verified against the latest checkpoint",
    .usage = "[--since SEQ|DATE] [--format html|md|json] [--out FILE]",
    .define =
        [](po::options_description& options, po::positional_options_description&) {
          options.add_options()("since", po::value<std::string>(),
                                "first event: a log position (42), a date (2026-11-01) or a UTC "
                                "time (2026-11-01T08:00:00Z); default: the whole log");
          AddReportOptions(options);
        },
    .run = RunAuditReport,
});

}  // namespace
}  // namespace graft::cli

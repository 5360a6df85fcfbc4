// `graft report ADAPTER` and `graft report audit`: one self-contained report file per adapter or
// per period, as HTML, Markdown or JSON, filled from the registry (re-verified as it is read).
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <iostream>

#include "cli/common.h"
#include "cli/output_options.h"
#include "core/file_util.h"
#include "report_builder/adapter_report_builder.h"
#include "report_builder/audit_report_builder.h"
#include "reports/html_report.h"
#include "reports/json_report.h"
#include "reports/markdown_report.h"

namespace graft::cli {
namespace {
namespace fs = std::filesystem;

// The document on stdout: --format html (default) or md.
Result<bool> MarkdownOnStdout(const po::variables_map& vm) {
  const std::string format = vm["format"].as<std::string>();
  if (format == "html") return false;
  if (format == "md" || format == "markdown") return true;
  return InvalidInput("--format must be html or md (JSON: --json), not \"" + format + "\"");
}

// One report file asked for: --html, --markdown or --json-out FILE.
struct ReportFile {
  OutputFile format;
  fs::path path;
};

// The report files, checked before any work so that a bad path fails fast and writes nothing.
Result<std::vector<ReportFile>> FilesFrom(const po::variables_map& vm) {
  std::vector<ReportFile> files;
  for (OutputFile format : {OutputFile::kHtml, OutputFile::kMarkdown, OutputFile::kJson}) {
    const fs::path out = OutputPath(vm, format);
    if (out.empty()) continue;
    const std::string named = OptionName(format) + " " + out.string();
    const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    std::error_code error;
    if (out.filename().empty() || fs::is_directory(out, error)) {
      return InvalidInput(named + ": is a directory, not a file");
    }
    if (!fs::is_directory(parent, error)) {
      return InvalidInput(named + ": directory " + parent.string() + " does not exist");
    }
    if (::access(parent.c_str(), W_OK) != 0 ||
        (fs::exists(out, error) && ::access(out.c_str(), W_OK) != 0)) {
      return InvalidInput(named + ": not writable");
    }
    files.push_back({format, out});
  }
  return files;
}

// A report in the three forms, each rendered only when asked for.
struct ReportRenderers {
  std::function<std::string()> html;
  std::function<std::string()> markdown;
  std::function<std::string()> json;
};

// Writes the files (atomically), then stdout: the JSON with --json, else the --format document
// unless only files were asked for. Exit 12 when a check in the report failed.
Result<int> Emit(const po::variables_map& vm, const std::vector<ReportFile>& files,
                 const ReportRenderers& render, const std::string& failed) {
  GRAFT_ASSIGN_OR_RETURN(bool markdown, MarkdownOnStdout(vm));
  for (const ReportFile& file : files) {
    const std::string text = file.format == OutputFile::kHtml       ? render.html()
                             : file.format == OutputFile::kMarkdown ? render.markdown()
                                                                    : render.json();
    Status written = WriteFileAtomic(file.path, text);
    if (!written.ok()) {
      return InvalidInput(OptionName(file.format) + " " + file.path.string() + ": " +
                          written.message());
    }
    std::cerr << "wrote " << file.path.string() << "\n";
  }
  if (WantsJson(vm)) {
    std::cout << render.json();
  } else if (files.empty() || !vm["format"].defaulted()) {
    std::cout << (markdown ? render.markdown() : render.html());
  }
  if (failed.empty()) return kExitOk;
  std::cerr << "graft: verification failed: " << failed << " (the report says why)\n";
  return kExitVerificationFailed;
}

Result<int> RunAdapterReport(const po::variables_map& vm) {
  if (!vm.count("adapter")) return InvalidInput("give an adapter REF (or the verb 'audit')");
  GRAFT_RETURN_IF_ERROR(MarkdownOnStdout(vm).status());
  GRAFT_ASSIGN_OR_RETURN(std::vector<ReportFile> files, FilesFrom(vm));
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  report_builder::AdapterReportBuilder builder(reg);
  GRAFT_ASSIGN_OR_RETURN(reports::AdapterReportData report,
                         builder.Build(vm["adapter"].as<std::string>()));
  std::string failed;
  for (const reports::VerificationRow& row : report.verification) {
    if (!row.ok) failed += (failed.empty() ? "" : ", ") + row.check;
  }
  return Emit(vm, files,
              {[&] { return reports::RenderAdapterHtml(report); },
               [&] { return reports::RenderAdapterMarkdown(report); },
               [&] { return reports::RenderJson(reports::AdapterReportJson(report)); }},
              failed);
}

Result<int> RunAuditReport(const po::variables_map& vm) {
  GRAFT_RETURN_IF_ERROR(MarkdownOnStdout(vm).status());
  GRAFT_ASSIGN_OR_RETURN(
      report_builder::AuditPeriod period,
      report_builder::AuditPeriod::Parse(vm.count("since") ? vm["since"].as<std::string>() : ""));
  GRAFT_ASSIGN_OR_RETURN(std::vector<ReportFile> files, FilesFrom(vm));
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistrySnapshot(vm));
  report_builder::AuditReportBuilder builder(reg);
  GRAFT_ASSIGN_OR_RETURN(reports::AuditReportData audit, builder.Build(period));
  return Emit(vm, files,
              {[&] { return reports::RenderAuditHtml(audit); },
               [&] { return reports::RenderAuditMarkdown(audit); },
               [&] { return reports::RenderJson(reports::AuditReportJson(audit)); }},
              audit.checkpoint.verified ? "" : "log checkpoint");
}

void AddReportOptions(po::options_description& options) {
  options.add_options()("format,f", po::value<std::string>()->default_value("html"),
                        "html or md: the document on stdout (none when only files are named)");
  AddJsonOption(options);
  AddOutputFileOptions(options, {OutputFile::kHtml, OutputFile::kMarkdown, OutputFile::kJson},
                       "the report");
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
    .usage = "ADAPTER [--format html|md | --json] [--html|--markdown|--json-out FILE]...",
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
    .usage =
        "[--since SEQ|DATE] [--format html|md | --json] [--html|--markdown|--json-out FILE]...",
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

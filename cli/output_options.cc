#include "cli/output_options.h"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string_view>

namespace graft::cli {
namespace {

struct FileOption {
  const char* name;
  const char* parameter;
  const char* format;
};

FileOption FileOptionOf(OutputFile file) {
  switch (file) {
    case OutputFile::kJson:
      return {"json-out", "FILE", "JSON"};
    case OutputFile::kJunit:
      return {"junit", "FILE", "JUnit XML"};
    case OutputFile::kMarkdown:
      return {"markdown", "FILE", "Markdown"};
    case OutputFile::kHtml:
      return {"html", "FILE", "HTML"};
    case OutputFile::kLmEval:
      return {"lm-eval", "DIR", "lm-evaluation-harness files (results and samples)"};
  }
  return {"", "", ""};
}

// Set once the deprecation warnings were printed: graft-model (exec'd by graft) and data-parallel
// workers (exec'd by their launcher) see the same command line and inherit the environment.
constexpr char kWarnedEnv[] = "GRAFT_DEPRECATION_WARNED";

// A --format value of an earlier release and what replaces it.
struct FormatAlias {
  std::string_view value;
  // Its replacement when no --out is given: an option ("--json"), "" to keep `--format VALUE`
  // (still valid), or "drop" when the value was the default and is now meaningless.
  std::string_view to_stdout;
  // The option that replaces `--format VALUE --out FILE`.
  std::string_view to_file;
};

// A command's deprecated spellings.
struct LegacySpellings {
  std::string_view command;
  bool json_file = false;  // `--json FILE` wrote FILE: now --json-out FILE
  char format_short = 0;   // -f, when --format had one
  char out_short = 0;      // -o, when --out had one
  std::vector<FormatAlias> formats{};
  // The format `--out FILE` alone wrote ("" when --out is not deprecated).
  std::string_view default_format{};
};

const std::vector<FormatAlias> kReportFormats = {{"json", "--json", "--json-out"},
                                                 {"html", "", "--html"},
                                                 {"md", "", "--markdown"},
                                                 {"markdown", "", "--markdown"}};

const std::vector<LegacySpellings>& Legacy() {
  static const std::vector<LegacySpellings> legacy = {
      {.command = "gate", .json_file = true},
      {.command = "eval",
       .json_file = true,
       .formats = {{"lm-eval", "--lm-eval", "--lm-eval"}, {"text", "drop", "drop"}}},
      {.command = "lineage", .formats = {{"json", "--json", ""}}},
      {.command = "report",
       .format_short = 'f',
       .out_short = 'o',
       .formats = kReportFormats,
       .default_format = "html"},
      {.command = "report audit",
       .format_short = 'f',
       .out_short = 'o',
       .formats = kReportFormats,
       .default_format = "html"},
  };
  return legacy;
}

// One option in the arguments: its first token and how many tokens it took.
struct Occurrence {
  size_t index = 0;
  size_t tokens = 0;
  std::string value;
};

// The last `--NAME VALUE`, `--NAME=VALUE`, `-S VALUE` or `-SVALUE` before "--". With
// `value_optional`, `--NAME` takes the next token only when it does not start with '-'.
std::optional<Occurrence> Find(const std::vector<std::string>& args, std::string_view name,
                               char short_name, bool value_optional = false) {
  std::optional<Occurrence> found;
  const std::string long_option = "--" + std::string(name);
  for (size_t i = 0; i < args.size() && args[i] != "--"; ++i) {
    const std::string& arg = args[i];
    const bool has_next = i + 1 < args.size() && args[i + 1] != "--";
    if (arg.starts_with(long_option + "=")) {
      found = Occurrence{i, 1, arg.substr(long_option.size() + 1)};
    } else if (arg == long_option && has_next &&
               !(value_optional && args[i + 1].starts_with("-"))) {
      found = Occurrence{i, 2, args[i + 1]};
      ++i;
    } else if (short_name != 0 && arg.size() >= 2 && arg[0] == '-' && arg[1] == short_name) {
      if (arg.size() > 2) {
        found = Occurrence{i, 1, arg.substr(2)};
      } else if (has_next) {
        found = Occurrence{i, 2, args[i + 1]};
        ++i;
      }
    }
  }
  return found;
}

// Replaces the occurrences (erased) with `replacement`, put where the first of them stood.
void Replace(std::vector<std::string>& args, std::vector<Occurrence> occurrences,
             const std::vector<std::string>& replacement) {
  std::sort(occurrences.begin(), occurrences.end(),
            [](const Occurrence& a, const Occurrence& b) { return a.index > b.index; });
  for (const Occurrence& o : occurrences) {
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(o.index),
               args.begin() + static_cast<std::ptrdiff_t>(o.index + o.tokens));
  }
  args.insert(args.begin() + static_cast<std::ptrdiff_t>(occurrences.back().index),
              replacement.begin(), replacement.end());
}

// Rewrites --format VALUE [--out FILE]; returns the warning, or "" when nothing was deprecated.
std::string RewriteFormat(const LegacySpellings& legacy, std::vector<std::string>& args) {
  std::optional<Occurrence> format = Find(args, "format", legacy.format_short);
  std::optional<Occurrence> out = Find(args, "out", legacy.out_short);
  if (!format && !(out && !legacy.default_format.empty())) return "";
  const std::string value = format ? format->value : std::string(legacy.default_format);
  auto alias = std::find_if(legacy.formats.begin(), legacy.formats.end(),
                            [&](const FormatAlias& a) { return a.value == value; });
  if (alias == legacy.formats.end()) return "";  // not deprecated: the command checks it
  const std::string old_format = format ? "--format " + value : "";
  if (out && !alias->to_file.empty()) {
    std::vector<Occurrence> both = {*out};
    if (format) both.push_back(*format);
    if (alias->to_file == "drop") {
      Replace(args, both, {});
      return old_format + " --out DIR is deprecated; leave both out (text is the default)";
    }
    Replace(args, both, {std::string(alias->to_file), out->value});
    const std::string parameter = alias->to_file == "--lm-eval" ? " DIR" : " FILE";
    return (old_format.empty() ? "" : old_format + " ") + "--out" + parameter +
           " is deprecated; use " + std::string(alias->to_file) + parameter;
  }
  if (!format || alias->to_stdout.empty()) return "";
  if (alias->to_stdout == "drop") {
    Replace(args, {*format}, {});
    return old_format + " is deprecated; leave it out (text is the default)";
  }
  Replace(args, {*format}, {std::string(alias->to_stdout)});
  return old_format + " is deprecated; use " + std::string(alias->to_stdout);
}

}  // namespace

void AddOutputFileOptions(po::options_description& options, const std::vector<OutputFile>& files,
                          const std::string& what) {
  for (OutputFile file : files) {
    const FileOption option = FileOptionOf(file);
    options.add_options()(
        option.name, po::value<std::string>()->value_name(option.parameter),
        ("write " + what + " as " + option.format + " to " + option.parameter).c_str());
  }
}

std::string OptionName(OutputFile file) { return std::string("--") + FileOptionOf(file).name; }

std::filesystem::path OutputPath(const po::variables_map& vm, OutputFile file) {
  const char* name = FileOptionOf(file).name;
  return vm.count(name) ? std::filesystem::path(vm[name].as<std::string>())
                        : std::filesystem::path();
}

void RewriteDeprecatedSpellings(const std::string& command, std::vector<std::string>& args,
                                std::ostream& warnings) {
  auto legacy = std::find_if(Legacy().begin(), Legacy().end(),
                             [&](const LegacySpellings& l) { return l.command == command; });
  if (legacy == Legacy().end()) return;
  std::vector<std::string> rewritten;
  if (legacy->json_file) {
    // `--json` alone is the switch; followed by a word that is not an option, the old FILE.
    if (std::optional<Occurrence> json = Find(args, "json", 0, /*value_optional=*/true)) {
      Replace(args, {*json}, {"--json-out", json->value});
      rewritten.push_back("--json FILE is deprecated; use --json-out FILE");
    }
  }
  if (!legacy->formats.empty()) {
    if (std::string warning = RewriteFormat(*legacy, args); !warning.empty()) {
      rewritten.push_back(std::move(warning));
    }
  }
  const char* warned = std::getenv(kWarnedEnv);
  if (rewritten.empty() || (warned != nullptr && *warned != '\0')) return;
  for (const std::string& warning : rewritten) {
    warnings << "graft: warning: graft " << command << ": " << warning
             << " (the old spelling works for one more release)\n";
  }
  ::setenv(kWarnedEnv, "1", 1);
}

}  // namespace graft::cli

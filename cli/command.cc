#include "cli/command.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <set>

#include "cli/command_docs.h"
#include "cli/model_binary.h"
#include "cli/output_options.h"
#include "core/omp_wait_policy.h"

namespace graft::cli {

CommandTable& CommandTable::Get() {
  static CommandTable table;
  return table;
}

void CommandTable::Add(Command command) { commands_.push_back(std::move(command)); }

namespace {

std::map<std::string, CommandRun>& ModelRunners() {
  static std::map<std::string, CommandRun> runners;
  return runners;
}

std::vector<std::pair<std::string, std::string>>& MutableGroupSummaries() {
  static std::vector<std::pair<std::string, std::string>> groups;
  return groups;
}

// Levenshtein distance, for "did you mean" hints.
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Hint(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = 3;
  for (const auto& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

bool quiet = false;

// The shortest "%.Ng" text of `value` that reads back as the same double.
std::string ShortestText(double value) {
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

void PrintTopHelp(std::ostream& out) {
  out << "graft " GRAFT_VERSION
         " - registry and evaluation harness for LoRA adapters\n\n"
         "Usage: graft [--quiet] <group> [<verb>] [options]\n\nCommands:\n";
  for (const auto& g : CommandGroups()) {
    std::string name = g;
    name.resize(std::max<size_t>(name.size(), 12), ' ');
    out << "  " << name << "  " << GroupSummary(g) << "\n";
  }
  out << "\nRun 'graft help <group> [<verb>]' (or 'graft <group> --help') for a group's verbs or "
         "a\n"
         "command's options, 'graft --version' for versions. --quiet: no progress display.\n"
         "Exit codes: 0 ok, 1 internal error, 2 invalid input, 10 gate failed,\n"
         "11 gate inconclusive, 12 verification failed.\n";
}

// A verb-less command of a group is listed by its first positional ("REF", "ADAPTER").
std::string ListedName(const Command& c) {
  return c.verb.empty() ? c.usage.substr(0, c.usage.find(' ')) : c.verb;
}

void PrintGroupHelp(const std::string& group, std::ostream& out) {
  out << "Usage: graft " << group << " <verb> [options]\n";
  for (const Command* c : CommandsOf(group)) {
    if (c->verb.empty()) out << "       graft " << group << " " << c->usage << " [options]\n";
  }
  std::string summary = GroupSummary(group);
  if (!summary.empty()) out << "\n" << summary << "\n";
  out << "\nVerbs:\n";
  for (const Command* c : CommandsOf(group)) {
    std::string name = ListedName(*c);
    name.resize(std::max<size_t>(name.size(), 12), ' ');
    out << "  " << name << "  " << c->summary << "\n";
  }
  out << "\nRun 'graft " << group << " <verb> --help' for its options.\n";
}

std::string FullName(const Command& c) { return "graft " + CommandName(c); }

// Runs `command` on `args` (what follows its group and verb); `argv` is main's, handed to
// graft-model as is when the command runs a model and this executable has no runner for it.
int RunCommand(const Command& command, std::vector<std::string> args, char** argv) {
  RewriteDeprecatedSpellings(CommandName(command), args, std::cerr);
  po::options_description options("Options");
  po::positional_options_description positional;
  DefineOptions(command, options, positional);
  auto print_help = [&](std::ostream& out) {
    out << "Usage: " << FullName(command) << (command.usage.empty() ? "" : " " + command.usage)
        << " [options]\n\n"
        << command.summary << "\n\n"
        << options;
  };
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).positional(positional).run(), vm);
    if (vm.count("help")) {
      print_help(std::cout);
      return kExitOk;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "graft: " << FullName(command) << ": " << e.what() << "\n"
              << "hint: run '" << FullName(command) << " --help'\n";
    return kExitInvalidInput;
  }
  const CommandRun* run = &command.run;
  if (!command.model_runner.empty()) {
    run = FindModelRunner(command.model_runner);
    if (run == nullptr) {
      Status exec_failure = ExecModelBinary(CommandName(command), argv);  // returns on failure
      std::cerr << "graft: " << exec_failure.message() << "\n";
      return kExitInternal;
    }
    RestartWithOmpWaitPolicy(argv);  // graft-model run directly: libgomp is loaded already
  }
  try {
    Result<int> result = (*run)(vm);
    if (!result.ok()) {
      std::cerr << "graft: " << result.status().message() << "\n";
      return ExitCodeFor(result.status().kind());
    }
    return *result;
  } catch (const std::exception& e) {
    std::cerr << "graft: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

}  // namespace

std::vector<const Command*> CommandsOf(const std::string& group) {
  std::vector<const Command*> out;
  for (const Command& c : CommandTable::Get().commands()) {
    if (c.group == group) out.push_back(&c);
  }
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->verb < b->verb; });
  return out;
}

std::vector<std::string> CommandGroups() {
  std::set<std::string> groups;
  for (const Command& c : CommandTable::Get().commands()) groups.insert(c.group);
  return {groups.begin(), groups.end()};
}

std::string GroupSummary(const std::string& group) {
  for (const auto& [name, summary] : GroupSummaries()) {
    if (name == group) return summary;
  }
  auto commands = CommandsOf(group);
  return commands.size() == 1 ? commands.front()->summary : "";
}

std::string CommandName(const Command& c) {
  return c.verb.empty() ? c.group : c.group + " " + c.verb;
}

void DefineOptions(const Command& c, po::options_description& options,
                   po::positional_options_description& positional) {
  options.add_options()("help,h", "show this help");
  if (c.define) c.define(options, positional);
  // Boost prints a double default with 17 digits (0.94999999999999996): give each one the
  // shortest text that reads back as the same value, as it was written in the source.
  for (const auto& option : options.options()) {
    auto* typed = dynamic_cast<const po::typed_value<double>*>(option->semantic().get());
    boost::any value;
    if (typed == nullptr || !typed->apply_default(value)) continue;
    const double d = boost::any_cast<double>(value);
    // The option was made by po::value<double>() (not const): setting its text is safe.
    const_cast<po::typed_value<double>*>(typed)->default_value(d, ShortestText(d));
  }
}

bool Quiet() { return quiet; }

ModelRunnerRegistrar::ModelRunnerRegistrar(std::string name, CommandRun run) {
  ModelRunners().emplace(std::move(name), std::move(run));
}

const CommandRun* FindModelRunner(const std::string& name) {
  auto it = ModelRunners().find(name);
  return it == ModelRunners().end() ? nullptr : &it->second;
}

GroupRegistrar::GroupRegistrar(std::string group, std::string summary) {
  MutableGroupSummaries().emplace_back(std::move(group), std::move(summary));
}

const std::vector<std::pair<std::string, std::string>>& GroupSummaries() {
  return MutableGroupSummaries();
}

int RunMain(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // --quiet is global: taken out wherever it stands (graft-model gets argv as is and does the
  // same). A command's own arguments after "--" are left alone.
  auto end_of_options = std::find(args.begin(), args.end(), "--");
  auto quiet_end = std::remove(args.begin(), end_of_options, "--quiet");
  if (quiet_end != end_of_options) {
    quiet = true;
    args.erase(quiet_end, end_of_options);
  }
  if (!args.empty() && args[0] == "help" && args.size() > 1) {
    // `graft help CMD...` is `graft CMD... --help`.
    args.erase(args.begin());
    args.push_back("--help");
  }
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    PrintTopHelp(args.empty() ? std::cerr : std::cout);
    return args.empty() ? kExitInvalidInput : kExitOk;
  }
  if (args[0] == "--version") return RunVersion(argv);
  if (args[0] == "__man" || args[0] == "__completion") return RunDocsGenerator(args);
  const std::string& group = args[0];
  auto commands = CommandsOf(group);
  if (commands.empty()) {
    std::vector<std::string> groups;
    for (const Command& c : CommandTable::Get().commands()) groups.push_back(c.group);
    std::cerr << "graft: unknown command '" << group << "'" << Hint(group, groups) << "\n"
              << "hint: run 'graft --help' for the list of commands\n";
    return kExitInvalidInput;
  }
  // A group with a single verb-less command takes its arguments directly (`graft gate ...`).
  if (commands.size() == 1 && commands.front()->verb.empty()) {
    return RunCommand(*commands.front(), {args.begin() + 1, args.end()}, argv);
  }
  if (args.size() < 2 || args[1] == "--help" || args[1] == "-h") {
    PrintGroupHelp(group, args.size() < 2 ? std::cerr : std::cout);
    return args.size() < 2 ? kExitInvalidInput : kExitOk;
  }
  const std::string& verb = args[1];
  for (const Command* c : commands) {
    if (c->verb == verb) return RunCommand(*c, {args.begin() + 2, args.end()}, argv);
  }
  // A group may also have a verb-less default command that takes positional arguments
  // (`graft lineage REF` beside `graft lineage ...`).
  for (const Command* c : commands) {
    if (c->verb.empty()) return RunCommand(*c, {args.begin() + 1, args.end()}, argv);
  }
  std::vector<std::string> verbs;
  for (const Command* c : commands) verbs.push_back(c->verb);
  std::cerr << "graft: unknown verb '" << verb << "' for '" << group << "'" << Hint(verb, verbs)
            << "\n"
            << "hint: run 'graft " << group << " --help' for its verbs\n";
  return kExitInvalidInput;
}

}  // namespace graft::cli

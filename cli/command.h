// The graft command table: each cli/*_cmd.cc file registers its commands here at static-init time,
// and each cli/*_run.cc file (graft-model only) the runner of a command that runs a model.
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace graft::cli {

namespace po = boost::program_options;

// Runs a command. Ok(exit code) for outcomes (0, or 10/11 for gates); an error Status is printed
// as "graft: <message>" and exits with ExitCodeFor(kind).
using CommandRun = std::function<Result<int>(const po::variables_map&)>;

// One command: `graft <group> <verb> ...`, or `graft <group> ...` when verb is empty.
struct Command {
  std::string group;
  std::string verb;
  std::string summary;  // one line, shown in --help listings
  std::string usage;    // positional part of the usage line, e.g. "DIR --key FILE"
  // Adds options and positional arguments. May be empty.
  std::function<void(po::options_description&, po::positional_options_description&)> define;
  // Runs the command; empty for a command that runs a model.
  CommandRun run{};
  // Set instead of `run` by a command that runs a model: the name of its runner, which only
  // graft-model links (ModelRunnerRegistrar). graft parses the command's options, then hands
  // the whole command line to graft-model (cli/model_binary.h).
  std::string model_runner{};
};

class CommandTable {
 public:
  static CommandTable& Get();
  void Add(Command command);
  const std::vector<Command>& commands() const { return commands_; }

 private:
  std::vector<Command> commands_;
};

// `static CommandRegistrar kX({...});` in a command file registers a command.
struct CommandRegistrar {
  explicit CommandRegistrar(Command command) { CommandTable::Get().Add(std::move(command)); }
};

// `static ModelRunnerRegistrar kX("name", RunX);` in a cli/*_run.cc file registers the runner a
// Command names in `model_runner`.
struct ModelRunnerRegistrar {
  ModelRunnerRegistrar(std::string name, CommandRun run);
};
// The registered runner called `name`; nullptr in graft, which links none.
const CommandRun* FindModelRunner(const std::string& name);

// Short summaries of the groups, shown by `graft --help`.
struct GroupRegistrar {
  GroupRegistrar(std::string group, std::string summary);
};
const std::vector<std::pair<std::string, std::string>>& GroupSummaries();

// The commands of `group`, sorted by verb; the sorted group names; a group's one-line summary.
std::vector<const Command*> CommandsOf(const std::string& group);
std::vector<std::string> CommandGroups();
std::string GroupSummary(const std::string& group);
// "base init", "train".
std::string CommandName(const Command& c);
// The command's options as its --help shows them (with -h/--help) and its positionals.
void DefineOptions(const Command& c, po::options_description& options,
                   po::positional_options_description& positional);

// Whether --quiet was given (anywhere before "--"): no progress display on stderr, and the gate
// leaves out its Markdown summary on stdout (errors, annotations, JSON and files are unchanged).
bool Quiet();

// `graft --version`: graft's version and those of the libraries it links (cli/version.cc); graft
// hands it to graft-model when that is installed beside it, since only graft-model links libtorch.
// `argv` is main's.
int RunVersion(char** argv);

// Dispatches argv to a command; returns the process exit code.
int RunMain(int argc, char** argv);

}  // namespace graft::cli

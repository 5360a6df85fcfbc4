// The graft command table: each cli/*_cmd.cc file registers its commands here at static-init time.
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "core/status.h"

namespace graft::cli {

namespace po = boost::program_options;

// One command: `graft <group> <verb> ...`, or `graft <group> ...` when verb is empty.
struct Command {
  std::string group;
  std::string verb;
  std::string summary;  // one line, shown in --help listings
  std::string usage;    // positional part of the usage line, e.g. "DIR --key FILE"
  // Adds options and positional arguments. May be empty.
  std::function<void(po::options_description&, po::positional_options_description&)> define;
  // Runs the command. Ok(exit code) for outcomes (0, or 10/11 for gates); an error Status is
  // printed as "graft: <message>" and exits with ExitCodeFor(kind).
  std::function<Result<int>(const po::variables_map&)> run;
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

// Short summaries of the groups, shown by `graft --help`.
struct GroupRegistrar {
  GroupRegistrar(std::string group, std::string summary);
};
const std::vector<std::pair<std::string, std::string>>& GroupSummaries();

// Prints graft's version and those of the libraries it links (cli/version.cc).
void PrintVersions(std::ostream& out);

// Dispatches argv to a command; returns the process exit code.
int RunMain(int argc, char** argv);

}  // namespace graft::cli

// `graft base register|list|show|export`: base models in the registry (`init`, which runs a
// model: cli/base_init_cmd.cc).
#include "cli/common.h"
#include "cli/object_commands.h"
#include "core/file_names.h"
#include "models/tokenizer/tokenizer.h"
#include "registry/vocabulary.h"

namespace graft::cli {
namespace {

// The staged copy's tokenizer.json must load: graft evaluates and trains with it.
Status CheckTokenizer(const std::filesystem::path& staged, const std::filesystem::path& source) {
  std::error_code error;
  if (!std::filesystem::exists(staged / kTokenizerFile, error)) {
    return InvalidInput(source.string() +
                        " has no tokenizer.json (graft evaluates and trains with it)");
  }
  Result<tokenizer::Tokenizer> tokenizer = tokenizer::Tokenizer::Load(staged / kTokenizerFile);
  if (!tokenizer.ok()) {
    return InvalidInput("the base's tokenizer does not load: " + tokenizer.status().message());
  }
  return Status::Ok();
}

Result<int> RunRegister(const po::variables_map& vm) {
  GRAFT_ASSIGN_OR_RETURN(registry::Registry reg, OpenRegistry(vm));
  GRAFT_ASSIGN_OR_RETURN(
      registry::ObjectRecord record,
      reg.RegisterBase(vm["dir"].as<std::string>(), vm["name"].as<std::string>(), CheckTokenizer));
  return PrintRegistered(vm, record);
}

GroupRegistrar kBaseGroup("base", "base models: create, register, list, show, export");

CommandRegistrar kRegister({
    .group = "base",
    .verb = "register",
    .summary = "Register a base model directory (config.json, safetensors, tokenizer)",
    .usage = "DIR --name NAME",
    .define =
        [](po::options_description& options, po::positional_options_description& positional) {
          options.add_options()("dir", po::value<std::string>()->required(), "model directory")(
              "name", po::value<std::string>()->required(), "name; versions are name@1, @2, ...");
          positional.add("dir", 1);
          AddRegistryOption(options);
          AddSigningKeyOption(options, registry::kCuratorRole);
          AddJsonOption(options);
        },
    .run = RunRegister,
});

CommandRegistrar kList(ListObjectsCommand("base", "base", "List registered base models"));

CommandRegistrar kShow(ShowObjectCommand("base", "base", "Show a registered base model"));

CommandRegistrar kExport(ExportObjectCommand(
    "base", "base", "Write a base model's files to a directory, re-verifying every digest"));

}  // namespace
}  // namespace graft::cli

#include "models/peft_io.h"

#include "core/file_util.h"
#include "core/json.h"
#include "models/causal_lm.h"
#include "models/torch_safetensors.h"

namespace graft::models {
namespace fs = std::filesystem;

namespace {

// "it was probably made for 'gpt2-medium'", from base_model_name_or_path.
std::string MadeFor(const LoraConfig& config) {
  if (config.base_model_name_or_path.empty()) {
    return "its adapter_config.json does not name the base it was made for";
  }
  return "it was probably made for '" + config.base_model_name_or_path + "'";
}

Status Misfit(const fs::path& dir, const CausalLM& model, const LoraConfig& config,
              const Status& problem) {
  return Status(problem.kind() == ErrorKind::kInternal ? problem.kind() : ErrorKind::kInvalidInput,
                "adapter " + dir.string() + " does not fit the " + model.Describe() + " (" +
                    MadeFor(config) + "): " + problem.message());
}

}  // namespace

Status SavePeftAdapter(const CausalLM& model, const std::string& name, const fs::path& dir) {
  GRAFT_ASSIGN_OR_RETURN(LoraConfig config, model.adapters().Config(name));
  GRAFT_ASSIGN_OR_RETURN(NamedTensors params, model.adapters().Parameters(name));
  std::string weights;
  try {
    GRAFT_ASSIGN_OR_RETURN(weights, SerializeTorchTensors(params, DType::kF32, {{"format", "pt"}}));
  } catch (const std::exception& e) {
    return InternalError("saving adapter '" + name + "': libtorch: " + e.what());
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(dir / kAdapterWeightsFile, weights));
  // As PEFT: json.dumps(config, indent=2, sort_keys=True).
  return WriteFileAtomic(dir / kAdapterConfigFile, config.ToPeftJson().dump(2));
}

Result<LoraConfig> ReadPeftConfig(const fs::path& dir) {
  const fs::path path = dir / kAdapterConfigFile;
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 16 << 20));
  GRAFT_ASSIGN_OR_RETURN(Json json, ParseJson(text, path.string()));
  return LoraConfig::FromPeftJson(json, path.string());
}

Result<LoadedAdapter> LoadPeftAdapter(CausalLM& model, const fs::path& dir,
                                      const std::string& name) {
  GRAFT_ASSIGN_OR_RETURN(LoraConfig config, ReadPeftConfig(dir));
  std::map<std::string, torch::Tensor> tensors;
  try {
    GRAFT_ASSIGN_OR_RETURN(tensors, ReadSafetensorsAsF32(dir / kAdapterWeightsFile));
  } catch (const std::exception& e) {
    return InternalError("reading " + (dir / kAdapterWeightsFile).string() + ": " + e.what());
  }
  LoadedAdapter loaded;
  for (const std::string& key : config.UnknownKeys()) {
    loaded.warnings.push_back(std::string(kAdapterConfigFile) + ": unknown key \"" + key +
                              "\" kept as is");
  }
  Result<LoraConfig> added = InternalError("not added");
  try {
    added = model.adapters().Add(name, config, /*seed=*/0);
    if (!added.ok()) {
      if (added.status().kind() == ErrorKind::kConflict) return added.status();
      return Misfit(dir, model, config, added.status());
    }
    Status set = model.adapters().SetWeights(name, tensors);
    if (!set.ok()) {
      (void)model.adapters().Remove(name);
      return Misfit(dir, model, config, set);
    }
  } catch (const std::exception& e) {
    if (model.adapters().Has(name)) (void)model.adapters().Remove(name);
    return InternalError("loading adapter " + dir.string() + ": libtorch: " + e.what());
  }
  if (added->fan_in_fan_out != config.fan_in_fan_out) {
    loaded.warnings.push_back(std::string(kAdapterConfigFile) + ": fan_in_fan_out set to " +
                              (added->fan_in_fan_out ? "true" : "false") +
                              " to match the base's layers (as PEFT does)");
  }
  loaded.config = *std::move(added);
  return loaded;
}

}  // namespace graft::models

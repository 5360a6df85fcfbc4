#include "registry/adapter_spec.h"

#include <regex>
#include <set>

#include "core/file_util.h"
#include "core/safetensors.h"

namespace graft::registry {
namespace fs = std::filesystem;

namespace {

const std::set<std::string, std::less<>>& KnownLoraKeys() {
  static const std::set<std::string, std::less<>> keys = {"peft_type",
                                                          "r",
                                                          "lora_alpha",
                                                          "lora_dropout",
                                                          "target_modules",
                                                          "fan_in_fan_out",
                                                          "bias",
                                                          "use_rslora",
                                                          "base_model_name_or_path",
                                                          "task_type",
                                                          "revision",
                                                          "inference_mode",
                                                          "modules_to_save",
                                                          "init_lora_weights",
                                                          "layers_to_transform",
                                                          "layers_pattern",
                                                          "rank_pattern",
                                                          "alpha_pattern",
                                                          "megatron_config",
                                                          "megatron_core",
                                                          "loftq_config",
                                                          "use_dora",
                                                          "layer_replication",
                                                          "auto_mapping",
                                                          "runtime_config",
                                                          "lora_bias",
                                                          "exclude_modules",
                                                          "eva_config",
                                                          "corda_config",
                                                          "trainable_token_indices"};
  return keys;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

bool Targeted(const Json& target_modules, const std::string& module) {
  if (target_modules.is_string()) {
    const std::string pattern = target_modules.get<std::string>();
    if (pattern == "all-linear") return true;
    try {
      return std::regex_match(module, std::regex(pattern));
    } catch (const std::regex_error&) {
      return false;
    }
  }
  for (const Json& t : target_modules) {
    const std::string name = t.get<std::string>();
    if (module == name || module.ends_with("." + name)) return true;
  }
  return false;
}

}  // namespace

Result<AdapterSpec> AdapterSpec::Read(const fs::path& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) return InvalidInput(dir.string() + " is not a directory");
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    if (name != kAdapterConfigFile && name != kAdapterWeightsFile &&
        name != kAdapterSignatureFile && name != kAdapterProvenanceFile &&
        name != kAdapterReadmeFile) {
      return InvalidInput(dir.string() + ": unexpected file \"" + name +
                          "\" in a PEFT adapter directory (allowed: adapter_config.json, "
                          "adapter_model.safetensors, model.sig, provenance.intoto.jsonl, "
                          "README.md)");
    }
    if (!entry.is_regular_file() || entry.is_symlink()) {
      return InvalidInput(dir.string() + ": \"" + name + "\" is not a regular file");
    }
  }
  for (std::string_view required : {kAdapterConfigFile, kAdapterWeightsFile}) {
    if (!fs::exists(dir / required, error)) {
      return InvalidInput(dir.string() + ": missing " + std::string(required));
    }
  }
  AdapterSpec spec;
  spec.dir = dir;
  std::string source = (dir / kAdapterConfigFile).string();
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(dir / kAdapterConfigFile, 16 << 20));
  GRAFT_ASSIGN_OR_RETURN(spec.config, ParseJson(text, source));
  if (!spec.config.is_object()) return InvalidInput(source + ": expected a JSON object");
  auto bad = [&](const std::string& why) { return InvalidInput(source + ": " + why); };
  GRAFT_ASSIGN_OR_RETURN(std::string peft_type, JsonString(spec.config, "peft_type", source));
  if (peft_type != "LORA") return bad("peft_type is \"" + peft_type + "\", expected \"LORA\"");
  GRAFT_ASSIGN_OR_RETURN(const Json* r, JsonField(spec.config, "r", source));
  if (!r->is_number_integer() || r->get<int64_t>() <= 0 || r->get<int64_t>() > 65536) {
    return bad("\"r\" must be a positive integer");
  }
  spec.r = r->get<int64_t>();
  GRAFT_ASSIGN_OR_RETURN(const Json* alpha, JsonField(spec.config, "lora_alpha", source));
  if (!alpha->is_number() || alpha->get<double>() <= 0) {
    return bad("\"lora_alpha\" must be a positive number");
  }
  spec.lora_alpha = alpha->get<double>();
  GRAFT_ASSIGN_OR_RETURN(const Json* targets, JsonField(spec.config, "target_modules", source));
  bool list_ok = targets->is_array() && !targets->empty();
  for (const Json& t : *targets) list_ok = list_ok && t.is_string();
  if (!list_ok && !targets->is_string()) {
    return bad("\"target_modules\" must be a non-empty list of module names or a regex string");
  }
  if (auto it = spec.config.find("base_model_name_or_path");
      it != spec.config.end() && it->is_string()) {
    spec.base_model_name_or_path = it->get<std::string>();
  }
  for (const auto& [key, value] : spec.config.items()) {
    if (!KnownLoraKeys().contains(key)) spec.unknown_config_keys.push_back(key);
  }
  return spec;
}

Result<AdapterSpec::Fit> AdapterSpec::CheckAgainst(const ModelArchitecture& base,
                                                   std::string_view base_label) const {
  fs::path weights = dir / kAdapterWeightsFile;
  GRAFT_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(weights));
  const std::string prefix = "base_model.model.";
  std::map<std::string, int> halves;  // module -> bit 1 lora_A, bit 2 lora_B
  Fit fit;
  for (const TensorView& tensor : file.tensors()) {
    auto fail = [&](const std::string& why) {
      return InvalidInput(weights.string() + ": tensor \"" + tensor.name + "\" " + why);
    };
    bool is_a = tensor.name.ends_with(".lora_A.weight");
    bool is_b = tensor.name.ends_with(".lora_B.weight");
    if (!tensor.name.starts_with(prefix) || (!is_a && !is_b)) {
      return fail("is not a PEFT LoRA tensor (base_model.model.<module>.lora_{A,B}.weight)");
    }
    std::string module = tensor.name.substr(
        prefix.size(), tensor.name.size() - prefix.size() - std::string(".lora_A.weight").size());
    auto it = base.modules.find(module);
    if (it == base.modules.end()) {
      return fail("targets module \"" + module + "\", which base " + std::string(base_label) +
                  " (" + base.model_type + ") does not have");
    }
    if (!Targeted(config["target_modules"], module)) {
      return fail("adapts \"" + module + "\", which target_modules does not select");
    }
    std::vector<int64_t> expected =
        is_a ? std::vector<int64_t>{r, it->second.in} : std::vector<int64_t>{it->second.out, r};
    if (tensor.shape != expected) {
      return fail("has shape " + ShapeText(tensor.shape) + " but base " + std::string(base_label) +
                  " needs " + ShapeText(expected) + " (" +
                  (is_a ? "lora_A is [r, in]" : "lora_B is [out, r]") + ")");
    }
    halves[module] |= is_a ? 1 : 2;
    fit.parameters += tensor.NumElements();
  }
  for (const auto& [module, bits] : halves) {
    if (bits != 3) {
      return InvalidInput(weights.string() + ": module \"" + module + "\" has only " +
                          (bits == 1 ? "lora_A" : "lora_B"));
    }
  }
  if (halves.empty()) {
    return InvalidInput(weights.string() + ": the adapter adapts no module of base " +
                        std::string(base_label));
  }
  fit.modules = static_cast<int64_t>(halves.size());
  return fit;
}

Json AdapterSpec::Summary(const Fit& fit) const {
  return {{"adapter_config", config},          {"r", r},
          {"lora_alpha", lora_alpha},          {"lora_modules", fit.modules},
          {"lora_parameters", fit.parameters}, {"unknown_config_keys", unknown_config_keys}};
}

}  // namespace graft::registry

#include "registry/adapter_spec.h"

#include <algorithm>
#include <iterator>
#include <map>

#include "core/file_util.h"
#include "core/safetensors.h"

namespace graft::registry {
namespace fs = std::filesystem;

namespace {

// Files an adapter directory may hold; any other file is refused.
constexpr std::string_view kAllowedFiles[] = {kAdapterConfigFile, kAdapterWeightsFile,
                                              kSignatureFile, kProvenanceFile, kModelCardFile};

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

}  // namespace

Result<AdapterSpec> AdapterSpec::Read(const fs::path& dir) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) return InvalidInput(dir.string() + " is not a directory");
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    if (std::find(std::begin(kAllowedFiles), std::end(kAllowedFiles), name) ==
        std::end(kAllowedFiles)) {
      std::string allowed;
      for (std::string_view file : kAllowedFiles)
        allowed += (allowed.empty() ? "" : ", ") + std::string(file);
      return InvalidInput(dir.string() + ": unexpected file \"" + name +
                          "\" in a PEFT adapter directory (allowed: " + allowed + ")");
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
  GRAFT_ASSIGN_OR_RETURN(spec.lora, formats::LoraConfig::FromPeftJson(spec.config, source));
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
    if (!lora.target_modules.Matches(module)) {
      return fail("adapts \"" + module + "\", which target_modules does not select");
    }
    std::vector<int64_t> expected = is_a ? std::vector<int64_t>{lora.r, it->second.in}
                                         : std::vector<int64_t>{it->second.out, lora.r};
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
  return {{"adapter_config", config},          {"r", lora.r},
          {"lora_alpha", lora.lora_alpha},     {"lora_modules", fit.modules},
          {"lora_parameters", fit.parameters}, {"unknown_config_keys", lora.UnknownKeys()}};
}

}  // namespace graft::registry

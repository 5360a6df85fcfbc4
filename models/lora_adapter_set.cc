#include "models/lora_adapter_set.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace graft::models {
namespace {

constexpr char kPeftPrefix[] = "base_model.model.";

std::string PeftKey(const std::string& module, const char* which) {
  return kPeftPrefix + module + "." + which + ".weight";
}

// Kaiming-uniform with a = sqrt(5), as torch.nn.init and PEFT use: bound 1 / sqrt(fan_in).
torch::Tensor KaimingUniform(int64_t rows, int64_t fan_in, at::Generator& generator) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return torch::empty({rows, fan_in}, torch::kFloat).uniform_(-bound, bound, generator);
}

LoraWeights InitialWeights(const LoraConfig& config, const LoraLinear& layer,
                           at::Generator& generator) {
  const int64_t in = layer.in_features();
  const int64_t out = layer.out_features();
  LoraWeights w;
  switch (config.init_lora_weights) {
    case LoraInit::kDefault:
      w.a = KaimingUniform(config.r, in, generator);
      w.b = torch::zeros({out, config.r}, torch::kFloat);
      break;
    case LoraInit::kGaussian:
      w.a = at::normal(0.0, 1.0 / static_cast<double>(config.r), {config.r, in}, generator,
                       torch::kFloat);
      w.b = torch::zeros({out, config.r}, torch::kFloat);
      break;
    case LoraInit::kRandom:
      w.a = KaimingUniform(config.r, in, generator);
      w.b = KaimingUniform(out, config.r, generator);
      break;
  }
  w.a.set_requires_grad(true);
  w.b.set_requires_grad(true);
  w.scaling = config.Scaling();
  w.dropout = config.lora_dropout;
  return w;
}

// "c_attn, c_fc, c_proj": the last name components of the modules, for error messages.
std::string ModuleSuffixes(const std::vector<LoraLinear*>& modules) {
  std::set<std::string> suffixes;
  for (const LoraLinear* module : modules) {
    suffixes.insert(module->name().substr(module->name().rfind('.') + 1));
  }
  std::string list;
  for (const std::string& suffix : suffixes) list += (list.empty() ? "" : ", ") + suffix;
  return list;
}

}  // namespace

LoraAdapterSet::LoraAdapterSet(std::vector<LoraLinear*> modules, std::string base_description)
    : modules_(std::move(modules)), base_description_(std::move(base_description)) {}

Result<LoraConfig> LoraAdapterSet::Add(const std::string& name, LoraConfig config, uint64_t seed) {
  if (name.empty()) return InvalidInput("an adapter needs a name");
  if (Has(name)) return Conflict("adapter '" + name + "' is already loaded");
  GRAFT_RETURN_IF_ERROR(config.Validate());
  std::vector<LoraLinear*> targets;
  for (LoraLinear* module : modules_) {
    if (config.target_modules.Matches(module->name())) targets.push_back(module);
  }
  if (targets.empty()) {
    return InvalidInput("LoRA target_modules match no module of the " + base_description_ +
                        " (its adaptable modules end in: " + ModuleSuffixes(modules_) + ")");
  }
  // PEFT forces fan_in_fan_out to match the layer type (Conv1D: true, Linear: false).
  config.fan_in_fan_out = targets.front()->conv1d();
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::NoGradGuard no_grad;
  for (LoraLinear* module : targets) {
    GRAFT_RETURN_IF_ERROR(module->AddAdapter(name, InitialWeights(config, *module, generator)));
  }
  configs_.emplace(name, config);
  return config;
}

Status LoraAdapterSet::Remove(const std::string& name) {
  if (!Has(name)) return NotFound("no adapter named '" + name + "'");
  if (merged_ == name) return Conflict("adapter '" + name + "' is merged; unmerge it first");
  if (active_ == name) GRAFT_RETURN_IF_ERROR(SetActive(std::nullopt));
  for (LoraLinear* module : modules_) module->RemoveAdapter(name);
  configs_.erase(name);
  return Status::Ok();
}

std::vector<std::string> LoraAdapterSet::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, config] : configs_) names.push_back(name);
  return names;
}

Result<LoraConfig> LoraAdapterSet::Config(const std::string& name) const {
  auto it = configs_.find(name);
  if (it == configs_.end()) return NotFound("no adapter named '" + name + "'");
  return it->second;
}

Status LoraAdapterSet::SetActive(std::optional<std::string> name) {
  if (name && !Has(*name)) return NotFound("no adapter named '" + *name + "'");
  if (merged_ && name != merged_) {
    return Conflict("adapter '" + *merged_ + "' is merged into the base; unmerge it first");
  }
  active_ = name;
  for (LoraLinear* module : modules_) module->SetActive(name);
  return Status::Ok();
}

Result<NamedTensors> LoraAdapterSet::Parameters(const std::string& name) const {
  if (!Has(name)) return NotFound("no adapter named '" + name + "'");
  NamedTensors params;
  for (const LoraLinear* module : modules_) {
    if (const LoraWeights* w = module->Adapter(name)) {
      params.emplace_back(PeftKey(module->name(), "lora_A"), w->a);
      params.emplace_back(PeftKey(module->name(), "lora_B"), w->b);
    }
  }
  std::sort(params.begin(), params.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return params;
}

Status LoraAdapterSet::SetWeights(const std::string& name,
                                  const std::map<std::string, torch::Tensor>& tensors) {
  if (!Has(name)) return NotFound("no adapter named '" + name + "'");
  std::map<std::string, std::pair<LoraLinear*, bool>> expected;  // key → (module, is A)
  for (LoraLinear* module : modules_) {
    if (module->Adapter(name) == nullptr) continue;
    expected[PeftKey(module->name(), "lora_A")] = {module, true};
    expected[PeftKey(module->name(), "lora_B")] = {module, false};
  }
  for (const auto& [key, tensor] : tensors) {
    if (!expected.count(key)) {
      return InvalidInput("tensor \"" + key + "\" has no LoRA layer in the " + base_description_);
    }
  }
  for (const auto& [key, target] : expected) {
    if (!tensors.count(key)) return InvalidInput("missing tensor \"" + key + "\"");
  }
  for (LoraLinear* module : modules_) {
    if (module->Adapter(name) == nullptr) continue;
    GRAFT_RETURN_IF_ERROR(module->SetAdapterValues(name,
                                                   tensors.at(PeftKey(module->name(), "lora_A")),
                                                   tensors.at(PeftKey(module->name(), "lora_B"))));
  }
  return Status::Ok();
}

Status LoraAdapterSet::Merge(const std::string& name) {
  if (!Has(name)) return NotFound("no adapter named '" + name + "'");
  if (merged_) return Conflict("adapter '" + *merged_ + "' is already merged; unmerge it first");
  if (active_ != name)
    return Conflict("only the active adapter can be merged; activate '" + name + "' first");
  for (LoraLinear* module : modules_) GRAFT_RETURN_IF_ERROR(module->Merge(name));
  merged_ = name;
  return Status::Ok();
}

Status LoraAdapterSet::Unmerge() {
  if (!merged_) return Conflict("no adapter is merged");
  for (LoraLinear* module : modules_) module->Unmerge();
  merged_.reset();
  return Status::Ok();
}

std::vector<std::string> LoraAdapterSet::ModuleNames() const {
  std::vector<std::string> names;
  for (const LoraLinear* module : modules_) names.push_back(module->name());
  return names;
}

}  // namespace graft::models

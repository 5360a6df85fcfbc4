#include "formats/lora_config.h"

#include <algorithm>
#include <cmath>
#include <regex>
#include <set>

namespace graft::formats {
namespace {

// The keys of PEFT's LoraConfig (as of PEFT 0.11-0.13) that graft does not model, with the
// value that means "feature not used". Anything else there is a setting graft cannot honour.
const Json& PeftDefaults() {
  static const Json defaults = {
      {"alpha_pattern", Json::object()},
      {"auto_mapping", nullptr},
      {"layer_replication", nullptr},
      {"layers_pattern", nullptr},
      {"layers_to_transform", nullptr},
      {"loftq_config", Json::object()},
      {"megatron_config", nullptr},
      {"megatron_core", "megatron.core"},
      {"modules_to_save", nullptr},
      {"rank_pattern", Json::object()},
      {"revision", nullptr},
      {"use_dora", false},
  };
  return defaults;
}

// PEFT keys that may hold anything without changing what the adapter computes.
const std::set<std::string>& PeftInertKeys() {
  static const std::set<std::string> keys = {"auto_mapping", "megatron_core", "revision",
                                             "runtime_config"};
  return keys;
}

// Further PEFT keys (newer versions) that are fine at an "unused" value.
const std::set<std::string>& PeftOptionalKeys() {
  static const std::set<std::string> keys = {"exclude_modules",
                                             "lora_bias",
                                             "eva_config",
                                             "corda_config",
                                             "use_qalora",
                                             "qalora_group_size",
                                             "trainable_token_indices",
                                             "runtime_config",
                                             "target_parameters",
                                             "alora_invocation_tokens"};
  return keys;
}

bool IsUnused(const Json& value) {
  return value.is_null() || (value.is_boolean() && !value.get<bool>()) ||
         (value.is_object() && value.empty()) || (value.is_array() && value.empty());
}

const std::set<std::string>& ModeledKeys() {
  static const std::set<std::string> keys = {"peft_type",
                                             "task_type",
                                             "r",
                                             "lora_alpha",
                                             "lora_dropout",
                                             "target_modules",
                                             "fan_in_fan_out",
                                             "bias",
                                             "use_rslora",
                                             "init_lora_weights",
                                             "base_model_name_or_path",
                                             "inference_mode"};
  return keys;
}

Json NumberJson(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    return static_cast<int64_t>(value);
  }
  return value;
}

Status FieldError(std::string_view source, std::string_view field, std::string_view problem) {
  return InvalidInput(std::string(source) + ": field \"" + std::string(field) + "\" " +
                      std::string(problem));
}

}  // namespace

TargetModules TargetModules::Names(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  TargetModules t;
  t.kind = Kind::kNames;
  t.names = std::move(names);
  return t;
}

TargetModules TargetModules::Regex(std::string regex) {
  TargetModules t;
  t.kind = Kind::kRegex;
  t.regex = std::move(regex);
  return t;
}

TargetModules TargetModules::AllLinear() {
  TargetModules t;
  t.kind = Kind::kAllLinear;
  return t;
}

bool TargetModules::Matches(std::string_view module_name) const {
  switch (kind) {
    case Kind::kAllLinear:
      return true;
    case Kind::kRegex:
      try {
        return std::regex_match(module_name.begin(), module_name.end(), std::regex(regex));
      } catch (const std::regex_error&) {
        return false;
      }
    case Kind::kNames:
      for (const std::string& name : names) {
        if (module_name == name) return true;
        if (module_name.size() > name.size() &&
            module_name.substr(module_name.size() - name.size()) == name &&
            module_name[module_name.size() - name.size() - 1] == '.') {
          return true;
        }
      }
      return false;
  }
  return false;
}

double LoraConfig::Scaling() const {
  return use_rslora ? lora_alpha / std::sqrt(static_cast<double>(r))
                    : lora_alpha / static_cast<double>(r);
}

Status LoraConfig::Validate() const {
  if (r <= 0 || r > 65536)
    return InvalidInput("LoRA r must be in [1, 65536], got " + std::to_string(r));
  if (!std::isfinite(lora_alpha)) return InvalidInput("LoRA lora_alpha must be finite");
  if (!(lora_dropout >= 0.0 && lora_dropout < 1.0)) {
    return InvalidInput("LoRA lora_dropout must be in [0, 1), got " + std::to_string(lora_dropout));
  }
  switch (target_modules.kind) {
    case TargetModules::Kind::kNames:
      if (target_modules.names.empty()) return InvalidInput("LoRA target_modules is empty");
      for (const auto& name : target_modules.names) {
        if (name.empty()) return InvalidInput("LoRA target_modules has an empty name");
      }
      break;
    case TargetModules::Kind::kRegex:
      try {
        std::regex check(target_modules.regex);
      } catch (const std::regex_error& e) {
        return InvalidInput("LoRA target_modules regex '" + target_modules.regex +
                            "' is invalid: " + e.what());
      }
      break;
    case TargetModules::Kind::kAllLinear:
      break;
  }
  return Status::Ok();
}

Result<LoraConfig> LoraConfig::FromPeftJson(const Json& json, std::string_view source) {
  if (!json.is_object()) return InvalidInput(std::string(source) + ": expected a JSON object");
  GRAFT_ASSIGN_OR_RETURN(std::string peft_type, JsonString(json, "peft_type", source));
  if (peft_type != "LORA") {
    return FieldError(source, "peft_type", "is \"" + peft_type + "\"; graft supports LORA only");
  }
  if (auto it = json.find("task_type"); it != json.end() && !it->is_null() && *it != "CAUSAL_LM") {
    return FieldError(source, "task_type", "is " + it->dump() + "; graft supports CAUSAL_LM only");
  }
  LoraConfig c;
  GRAFT_ASSIGN_OR_RETURN(const Json* r, JsonField(json, "r", source));
  if (!r->is_number_integer()) return FieldError(source, "r", "must be an integer");
  c.r = r->get<int64_t>();
  if (auto it = json.find("lora_alpha"); it != json.end()) {
    if (!it->is_number()) return FieldError(source, "lora_alpha", "must be a number");
    c.lora_alpha = it->get<double>();
  }
  if (auto it = json.find("lora_dropout"); it != json.end()) {
    if (!it->is_number()) return FieldError(source, "lora_dropout", "must be a number");
    c.lora_dropout = it->get<double>();
  }
  GRAFT_ASSIGN_OR_RETURN(const Json* targets, JsonField(json, "target_modules", source));
  if (targets->is_string()) {
    std::string value = targets->get<std::string>();
    c.target_modules =
        value == "all-linear" ? TargetModules::AllLinear() : TargetModules::Regex(value);
  } else if (targets->is_array()) {
    std::vector<std::string> names;
    for (const Json& name : *targets) {
      if (!name.is_string()) return FieldError(source, "target_modules", "must list strings");
      names.push_back(name.get<std::string>());
    }
    c.target_modules = TargetModules::Names(std::move(names));
  } else {
    return FieldError(source, "target_modules", "must be a list of names or a regex string");
  }
  for (const char* key : {"fan_in_fan_out", "use_rslora"}) {
    auto it = json.find(key);
    if (it == json.end() || it->is_null()) continue;
    if (!it->is_boolean()) return FieldError(source, key, "must be true or false");
    bool value = it->get<bool>();
    if (std::string_view(key) == "fan_in_fan_out") c.fan_in_fan_out = value;
    if (std::string_view(key) == "use_rslora") c.use_rslora = value;
  }
  if (auto it = json.find("bias"); it != json.end() && !it->is_null() && *it != "none") {
    return FieldError(source, "bias", "is " + it->dump() + "; graft supports \"none\" only");
  }
  if (auto it = json.find("init_lora_weights"); it != json.end()) {
    if (*it == true) {
      c.init_lora_weights = LoraInit::kDefault;
    } else if (*it == false) {
      c.init_lora_weights = LoraInit::kRandom;
    } else if (*it == "gaussian") {
      c.init_lora_weights = LoraInit::kGaussian;
    } else {
      return FieldError(source, "init_lora_weights",
                        "is " + it->dump() + "; graft supports true, false and \"gaussian\"");
    }
  }
  if (auto it = json.find("base_model_name_or_path"); it != json.end() && it->is_string()) {
    c.base_model_name_or_path = it->get<std::string>();
  }
  for (const auto& [key, value] : json.items()) {
    if (ModeledKeys().count(key)) continue;
    const Json& defaults = PeftDefaults();
    bool inert = PeftInertKeys().count(key) > 0;
    if (!inert && defaults.contains(key) && value != defaults[key] && !IsUnused(value)) {
      return FieldError(source, key, "is " + value.dump() + "; graft does not support it");
    }
    if (!inert && PeftOptionalKeys().count(key) && !IsUnused(value)) {
      return FieldError(source, key, "is " + value.dump() + "; graft does not support it");
    }
    c.other_keys[key] = value;
  }
  GRAFT_RETURN_IF_ERROR(c.Validate().WithContext(source));
  return c;
}

Json LoraConfig::ToPeftJson() const {
  Json json = PeftDefaults();
  json.update(other_keys);
  json["peft_type"] = "LORA";
  json["task_type"] = "CAUSAL_LM";
  json["r"] = r;
  json["lora_alpha"] = NumberJson(lora_alpha);
  json["lora_dropout"] = lora_dropout;
  switch (target_modules.kind) {
    case TargetModules::Kind::kNames:
      json["target_modules"] = target_modules.names;
      break;
    case TargetModules::Kind::kRegex:
      json["target_modules"] = target_modules.regex;
      break;
    case TargetModules::Kind::kAllLinear:
      json["target_modules"] = "all-linear";
      break;
  }
  json["fan_in_fan_out"] = fan_in_fan_out;
  json["bias"] = "none";
  json["use_rslora"] = use_rslora;
  switch (init_lora_weights) {
    case LoraInit::kDefault:
      json["init_lora_weights"] = true;
      break;
    case LoraInit::kGaussian:
      json["init_lora_weights"] = "gaussian";
      break;
    case LoraInit::kRandom:
      json["init_lora_weights"] = false;
      break;
  }
  json["base_model_name_or_path"] =
      base_model_name_or_path.empty() ? Json(nullptr) : Json(base_model_name_or_path);
  json["inference_mode"] = true;  // as PEFT's save_pretrained writes it
  return json;
}

std::vector<std::string> LoraConfig::UnknownKeys() const {
  std::vector<std::string> unknown;
  for (const auto& [key, value] : other_keys.items()) {
    if (!PeftDefaults().contains(key) && !PeftOptionalKeys().count(key)) unknown.push_back(key);
  }
  return unknown;
}

}  // namespace graft::formats

#include "trainer/train_config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <functional>
#include <map>
#include <regex>
#include <set>

#include "core/file_util.h"

namespace graft::trainer {
namespace {

// Reads one YAML mapping strictly: each key is claimed by a handler; anything left is unknown.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string prefix, std::string_view source)
      : node_(node), prefix_(std::move(prefix)), source_(source) {}

  Status Error(const YAML::Node& at, std::string_view key, std::string_view problem) const {
    std::string where(source_);
    if (at.Mark().line >= 0) where += ":" + std::to_string(at.Mark().line + 1);
    std::string name = prefix_ + std::string(key);
    if (key.empty() && !name.empty()) name.pop_back();  // "lora." → "lora"
    if (!name.empty()) where += ": " + name;
    return InvalidInput(where + ": " + std::string(problem));
  }

  // Runs `handler` on each entry whose key is in `handlers`; rejects duplicates and unknown keys.
  Status Read(const std::map<std::string, std::function<Status(const YAML::Node&)>>& handlers) {
    if (!node_.IsMap()) return Error(node_, "", "expected a mapping");
    std::set<std::string> seen;
    for (const auto& entry : node_) {
      if (!entry.first.IsScalar()) return Error(entry.first, "", "keys must be plain strings");
      const std::string key = entry.first.Scalar();
      if (!seen.insert(key).second) return Error(entry.first, key, "duplicate key");
      auto it = handlers.find(key);
      if (it == handlers.end()) return Error(entry.first, key, "unknown key");
      GRAFT_RETURN_IF_ERROR(it->second(entry.second));
    }
    return Status::Ok();
  }

  // A plain (unquoted) scalar: quoted "8" is a string, not a number.
  Result<std::string> Plain(const YAML::Node& value, std::string_view key,
                            std::string_view expected) const {
    if (!value.IsScalar() || value.Tag() == "!") return Error(value, key, std::string(expected));
    return value.Scalar();
  }

  Status Int(const YAML::Node& value, std::string_view key, int64_t min, int64_t* out) const {
    const std::string expected = "expected an integer ≥ " + std::to_string(min);
    GRAFT_ASSIGN_OR_RETURN(std::string text, Plain(value, key, expected));
    int64_t parsed = 0;
    if (!YAML::convert<int64_t>::decode(value, parsed) || parsed < min) {
      return Error(value, key, expected + ", got '" + text + "'");
    }
    *out = parsed;
    return Status::Ok();
  }

  Status Double(const YAML::Node& value, std::string_view key, double min, double max,
                bool max_inclusive, double* out) const {
    const std::string expected =
        "expected a number in [" + Format(min) + ", " + Format(max) + (max_inclusive ? "]" : ")");
    GRAFT_ASSIGN_OR_RETURN(std::string text, Plain(value, key, expected));
    double parsed = 0;
    if (!YAML::convert<double>::decode(value, parsed) || !std::isfinite(parsed) || parsed < min ||
        parsed > max || (!max_inclusive && parsed == max)) {
      return Error(value, key, expected + ", got '" + text + "'");
    }
    *out = parsed;
    return Status::Ok();
  }

  Status Bool(const YAML::Node& value, std::string_view key, bool* out) const {
    GRAFT_ASSIGN_OR_RETURN(std::string text, Plain(value, key, "expected true or false"));
    if (text != "true" && text != "false") {
      return Error(value, key, "expected true or false, got '" + text + "'");
    }
    *out = text == "true";
    return Status::Ok();
  }

  Status String(const YAML::Node& value, std::string_view key, std::string* out) const {
    if (!value.IsScalar()) return Error(value, key, "expected a string");
    *out = value.Scalar();
    return Status::Ok();
  }

 private:
  static std::string Format(double v) {
    if (std::isinf(v)) return "inf";
    std::string s = std::to_string(v);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
  }

  const YAML::Node& node_;
  std::string prefix_;
  std::string_view source_;
};

constexpr double kInf = HUGE_VAL;

// Module names and regexes go into adapter_config.json and the provenance (JSON: UTF-8 only).
bool ValidUtf8(const std::string& text) { return CanonicalJson(Json(text)).ok(); }

Status ParseTargetModules(const MapReader& reader, const YAML::Node& value, TargetModules* out) {
  constexpr std::string_view kKey = "target_modules";
  if (value.IsSequence()) {
    std::vector<std::string> names;
    for (const auto& item : value) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        return reader.Error(item, kKey, "expected a list of module names");
      }
      if (!ValidUtf8(item.Scalar())) return reader.Error(item, kKey, "not valid UTF-8");
      names.push_back(item.Scalar());
    }
    if (names.empty()) return reader.Error(value, kKey, "the list is empty");
    *out = TargetModules::Names(std::move(names));
    return Status::Ok();
  }
  if (!value.IsScalar() || value.Scalar().empty()) {
    return reader.Error(value, kKey, "expected a list of names, a regex string or \"all-linear\"");
  }
  if (!ValidUtf8(value.Scalar())) return reader.Error(value, kKey, "not valid UTF-8");
  if (value.Scalar() == "all-linear") {
    *out = TargetModules::AllLinear();
    return Status::Ok();
  }
  try {
    std::regex check(value.Scalar());
  } catch (const std::regex_error& e) {
    return reader.Error(value, kKey, std::string("invalid regex: ") + e.what());
  }
  *out = TargetModules::Regex(value.Scalar());
  return Status::Ok();
}

Status ParseLora(const YAML::Node& node, std::string_view source, LoraConfig* lora) {
  MapReader r(node, "lora.", source);
  GRAFT_RETURN_IF_ERROR(r.Read({
      {"r", [&](const YAML::Node& v) { return r.Int(v, "r", 1, &lora->r); }},
      {"lora_alpha",
       [&](const YAML::Node& v) {
         return r.Double(v, "lora_alpha", 0, kInf, false, &lora->lora_alpha);
       }},
      {"lora_dropout",
       [&](const YAML::Node& v) {
         return r.Double(v, "lora_dropout", 0, 1, false, &lora->lora_dropout);
       }},
      {"target_modules",
       [&](const YAML::Node& v) { return ParseTargetModules(r, v, &lora->target_modules); }},
      {"use_rslora",
       [&](const YAML::Node& v) { return r.Bool(v, "use_rslora", &lora->use_rslora); }},
      {"init_lora_weights",
       [&](const YAML::Node& v) {
         std::string init;
         GRAFT_RETURN_IF_ERROR(r.String(v, "init_lora_weights", &init));
         if (init == "true") {
           lora->init_lora_weights = LoraInit::kDefault;
         } else if (init == "false") {
           lora->init_lora_weights = LoraInit::kRandom;
         } else if (init == "gaussian") {
           lora->init_lora_weights = LoraInit::kGaussian;
         } else {
           return r.Error(v, "init_lora_weights",
                          "expected true, false or \"gaussian\", got '" + init + "'");
         }
         return Status::Ok();
       }},
  }));
  return lora->Validate().WithContext(std::string(source) + ": lora");
}

Status ParseOptimizer(const YAML::Node& node, std::string_view source, OptimizerSettings* opt) {
  MapReader r(node, "optimizer.", source);
  return r.Read({
      {"lr", [&](const YAML::Node& v) { return r.Double(v, "lr", 0, kInf, false, &opt->lr); }},
      {"betas",
       [&](const YAML::Node& v) {
         if (!v.IsSequence() || v.size() != 2) {
           return r.Error(v, "betas", "expected a list of two numbers in [0, 1)");
         }
         GRAFT_RETURN_IF_ERROR(r.Double(v[0], "betas[0]", 0, 1, false, &opt->beta1));
         return r.Double(v[1], "betas[1]", 0, 1, false, &opt->beta2);
       }},
      {"weight_decay",
       [&](const YAML::Node& v) {
         return r.Double(v, "weight_decay", 0, kInf, false, &opt->weight_decay);
       }},
      {"eps", [&](const YAML::Node& v) { return r.Double(v, "eps", 0, 1, false, &opt->eps); }},
  });
}

Status ParseSchedule(const YAML::Node& node, std::string_view source, ScheduleSettings* schedule) {
  MapReader r(node, "schedule.", source);
  return r.Read({
      {"warmup_steps",
       [&](const YAML::Node& v) { return r.Int(v, "warmup_steps", 0, &schedule->warmup_steps); }},
      {"kind",
       [&](const YAML::Node& v) {
         std::string kind;
         GRAFT_RETURN_IF_ERROR(r.String(v, "kind", &kind));
         for (ScheduleKind k :
              {ScheduleKind::kCosine, ScheduleKind::kLinear, ScheduleKind::kConstant}) {
           if (kind == ScheduleKindName(k)) {
             schedule->kind = k;
             return Status::Ok();
           }
         }
         return r.Error(v, "kind", "expected cosine, linear or constant, got '" + kind + "'");
       }},
  });
}

}  // namespace

std::string_view ScheduleKindName(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::kCosine:
      return "cosine";
    case ScheduleKind::kLinear:
      return "linear";
    case ScheduleKind::kConstant:
      return "constant";
  }
  return "cosine";
}

Json TrainConfig::ToJson() const {
  Json out = {
      {"optimizer",
       {{"lr", optimizer.lr},
        {"betas", {optimizer.beta1, optimizer.beta2}},
        {"weight_decay", optimizer.weight_decay},
        {"eps", optimizer.eps}}},
      {"schedule",
       {{"warmup_steps", schedule.warmup_steps}, {"kind", ScheduleKindName(schedule.kind)}}},
      {"batch_size", batch_size},
      {"grad_accum", grad_accum},
      {"max_seq_len", max_seq_len},
      {"packing", packing},
      {"checkpointing", checkpointing},
      {"grad_clip", grad_clip},
      {"eval_every", eval_every},
      {"checkpoint_every", checkpoint_every},
      {"seed", seed},
      {"threads", threads},
  };
  if (max_steps) out["max_steps"] = *max_steps;
  if (epochs) out["epochs"] = *epochs;
  if (lora) {
    const Json peft = lora->ToPeftJson();
    for (const char* key :
         {"r", "lora_alpha", "lora_dropout", "target_modules", "use_rslora", "init_lora_weights"}) {
      out["lora"][key] = peft.at(key);
    }
  }
  return out;
}

Status TrainConfig::CheckMode(bool full, std::string_view source) const {
  if (!full && !lora) {
    return InvalidInput(std::string(source) +
                        ": missing key 'lora' (required for a LoRA run; --full trains every "
                        "parameter without it)");
  }
  return Status::Ok();
}

Result<TrainConfig> ParseTrainConfig(std::string_view text, std::string_view source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return InvalidInput(std::string(source) + ":" + std::to_string(e.mark.line + 1) +
                        ": not valid YAML: " + e.msg);
  }
  TrainConfig config;
  if (root.IsNull()) {
    config.epochs = 1;
    return config;
  }
  MapReader r(root, "", source);
  try {
    GRAFT_RETURN_IF_ERROR(r.Read({
        {"lora",
         [&](const YAML::Node& v) {
           config.lora.emplace();
           return ParseLora(v, source, &*config.lora);
         }},
        {"optimizer",
         [&](const YAML::Node& v) { return ParseOptimizer(v, source, &config.optimizer); }},
        {"schedule",
         [&](const YAML::Node& v) { return ParseSchedule(v, source, &config.schedule); }},
        {"batch_size",
         [&](const YAML::Node& v) { return r.Int(v, "batch_size", 1, &config.batch_size); }},
        {"grad_accum",
         [&](const YAML::Node& v) { return r.Int(v, "grad_accum", 1, &config.grad_accum); }},
        {"max_seq_len",
         [&](const YAML::Node& v) { return r.Int(v, "max_seq_len", 2, &config.max_seq_len); }},
        {"packing", [&](const YAML::Node& v) { return r.Bool(v, "packing", &config.packing); }},
        {"checkpointing",
         [&](const YAML::Node& v) { return r.Bool(v, "checkpointing", &config.checkpointing); }},
        {"max_steps",
         [&](const YAML::Node& v) {
           return r.Int(v, "max_steps", 1, &config.max_steps.emplace());
         }},
        {"epochs",
         [&](const YAML::Node& v) { return r.Int(v, "epochs", 1, &config.epochs.emplace()); }},
        {"grad_clip",
         [&](const YAML::Node& v) {
           return r.Double(v, "grad_clip", 0, kInf, false, &config.grad_clip);
         }},
        {"eval_every",
         [&](const YAML::Node& v) { return r.Int(v, "eval_every", 0, &config.eval_every); }},
        {"checkpoint_every",
         [&](const YAML::Node& v) {
           return r.Int(v, "checkpoint_every", 0, &config.checkpoint_every);
         }},
        {"seed",
         [&](const YAML::Node& v) {
           int64_t seed = 0;
           GRAFT_RETURN_IF_ERROR(r.Int(v, "seed", 0, &seed));
           config.seed = static_cast<uint64_t>(seed);
           return Status::Ok();
         }},
        {"threads", [&](const YAML::Node& v) { return r.Int(v, "threads", 1, &config.threads); }},
    }));
  } catch (const YAML::Exception& e) {
    return InvalidInput(std::string(source) + ": " + e.what());
  }
  if (config.max_steps && config.epochs) {
    return InvalidInput(std::string(source) + ": max_steps and epochs: give one, not both");
  }
  if (!config.max_steps && !config.epochs) config.epochs = 1;
  return config;
}

Result<TrainConfig> LoadTrainConfig(const std::filesystem::path& path) {
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 1 << 20));
  return ParseTrainConfig(text, path.string());
}

}  // namespace graft::trainer

#include "trainer/train_config.h"

#include <cmath>
#include <regex>
#include <set>

#include "core/file_util.h"
#include "core/yaml_reader.h"

namespace graft::trainer {
namespace {

// A plain number in [min, max] (or [min, max) unless `max_inclusive`).
Status ReadNumber(const YamlReader& r, const YAML::Node& value, const std::string& path, double min,
                  double max, bool max_inclusive, double* out) {
  auto format = [](double v) {
    if (std::isinf(v)) return std::string("inf");
    std::string text = std::to_string(v);
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
    return text;
  };
  GRAFT_ASSIGN_OR_RETURN(double parsed, r.Number(value, path));
  if (parsed < min || parsed > max || (!max_inclusive && parsed == max)) {
    return r.Error(value, path,
                   "expected a number in [" + format(min) + ", " + format(max) +
                       (max_inclusive ? "]" : ")") + ", got " + value.Scalar());
  }
  *out = parsed;
  return Status::Ok();
}

// A plain integer of at least `min`.
Status ReadInt(const YamlReader& r, const YAML::Node& value, const std::string& path, int64_t min,
               int64_t* out) {
  GRAFT_ASSIGN_OR_RETURN(*out, r.Integer(value, path, min, INT64_MAX));
  return Status::Ok();
}

Status ReadBool(const YamlReader& r, const YAML::Node& value, const std::string& path, bool* out) {
  GRAFT_ASSIGN_OR_RETURN(*out, r.Bool(value, path));
  return Status::Ok();
}

constexpr double kInf = HUGE_VAL;

// Module names and regexes go into adapter_config.json and the provenance (JSON: UTF-8 only).
bool ValidUtf8(const std::string& text) { return CanonicalJson(Json(text)).ok(); }

Status ParseTargetModules(const YamlReader& reader, const YAML::Node& value,
                          formats::TargetModules* out) {
  const std::string path = "lora.target_modules";
  if (value.IsSequence()) {
    std::vector<std::string> names;
    for (const auto& item : value) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        return reader.Error(item, path, "expected a list of module names");
      }
      if (!ValidUtf8(item.Scalar())) return reader.Error(item, path, "not valid UTF-8");
      names.push_back(item.Scalar());
    }
    if (names.empty()) return reader.Error(value, path, "the list is empty");
    *out = formats::TargetModules::Names(std::move(names));
    return Status::Ok();
  }
  if (!value.IsScalar() || value.Scalar().empty()) {
    return reader.Error(value, path, "expected a list of names, a regex string or \"all-linear\"");
  }
  if (!ValidUtf8(value.Scalar())) return reader.Error(value, path, "not valid UTF-8");
  if (value.Scalar() == "all-linear") {
    *out = formats::TargetModules::AllLinear();
    return Status::Ok();
  }
  try {
    std::regex check(value.Scalar());
  } catch (const std::regex_error& e) {
    return reader.Error(value, path, std::string("invalid regex: ") + e.what());
  }
  *out = formats::TargetModules::Regex(value.Scalar());
  return Status::Ok();
}

Status ParseLora(const YamlReader& r, const YAML::Node& node, formats::LoraConfig* lora) {
  return r.ReadMap(
      node, "lora",
      {
          {"r", [&](const YAML::Node& v) { return ReadInt(r, v, "lora.r", 1, &lora->r); }},
          {"lora_alpha",
           [&](const YAML::Node& v) {
             return ReadNumber(r, v, "lora.lora_alpha", 0, kInf, false, &lora->lora_alpha);
           }},
          {"lora_dropout",
           [&](const YAML::Node& v) {
             return ReadNumber(r, v, "lora.lora_dropout", 0, 1, false, &lora->lora_dropout);
           }},
          {"target_modules",
           [&](const YAML::Node& v) { return ParseTargetModules(r, v, &lora->target_modules); }},
          {"use_rslora",
           [&](const YAML::Node& v) {
             return ReadBool(r, v, "lora.use_rslora", &lora->use_rslora);
           }},
          {"init_lora_weights",
           [&](const YAML::Node& v) {
             GRAFT_ASSIGN_OR_RETURN(std::string init, r.String(v, "lora.init_lora_weights"));
             if (init == "true") {
               lora->init_lora_weights = formats::LoraInit::kDefault;
             } else if (init == "false") {
               lora->init_lora_weights = formats::LoraInit::kRandom;
             } else if (init == "gaussian") {
               lora->init_lora_weights = formats::LoraInit::kGaussian;
             } else {
               return r.Error(v, "lora.init_lora_weights",
                              "expected true, false or \"gaussian\", got \"" + init + "\"");
             }
             return Status::Ok();
           }},
      });
}

Status ParseOptimizer(const YamlReader& r, const YAML::Node& node, OptimizerSettings* opt) {
  return r.ReadMap(
      node, "optimizer",
      {
          {"lr",
           [&](const YAML::Node& v) {
             return ReadNumber(r, v, "optimizer.lr", 0, kInf, false, &opt->lr);
           }},
          {"betas",
           [&](const YAML::Node& v) {
             if (!v.IsSequence() || v.size() != 2) {
               return r.Error(v, "optimizer.betas", "expected a list of two numbers in [0, 1)");
             }
             GRAFT_RETURN_IF_ERROR(
                 ReadNumber(r, v[0], "optimizer.betas[0]", 0, 1, false, &opt->beta1));
             return ReadNumber(r, v[1], "optimizer.betas[1]", 0, 1, false, &opt->beta2);
           }},
          {"weight_decay",
           [&](const YAML::Node& v) {
             return ReadNumber(r, v, "optimizer.weight_decay", 0, kInf, false, &opt->weight_decay);
           }},
          {"eps",
           [&](const YAML::Node& v) {
             return ReadNumber(r, v, "optimizer.eps", 0, 1, false, &opt->eps);
           }},
      });
}

Status ParseSchedule(const YamlReader& r, const YAML::Node& node, ScheduleSettings* schedule) {
  return r.ReadMap(
      node, "schedule",
      {
          {"warmup_steps",
           [&](const YAML::Node& v) {
             return ReadInt(r, v, "schedule.warmup_steps", 0, &schedule->warmup_steps);
           }},
          {"kind",
           [&](const YAML::Node& v) {
             GRAFT_ASSIGN_OR_RETURN(std::string kind, r.String(v, "schedule.kind"));
             for (ScheduleKind k :
                  {ScheduleKind::kCosine, ScheduleKind::kLinear, ScheduleKind::kConstant}) {
               if (kind == ScheduleKindName(k)) {
                 schedule->kind = k;
                 return Status::Ok();
               }
             }
             return r.Error(v, "schedule.kind",
                            "expected cosine, linear or constant, got \"" + kind + "\"");
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
  const YamlReader r(source);
  GRAFT_ASSIGN_OR_RETURN(YAML::Node root, r.Parse(text));
  TrainConfig config;
  if (root.IsNull()) {
    config.epochs = 1;
    return config;
  }
  try {
    GRAFT_RETURN_IF_ERROR(r.ReadMap(
        root, "",
        {
            {"lora",
             [&](const YAML::Node& v) {
               config.lora.emplace();
               GRAFT_RETURN_IF_ERROR(ParseLora(r, v, &*config.lora));
               Status valid = config.lora->Validate();
               return valid.ok() ? valid : r.Error(v, "lora", valid.message());
             }},
            {"optimizer",
             [&](const YAML::Node& v) { return ParseOptimizer(r, v, &config.optimizer); }},
            {"schedule",
             [&](const YAML::Node& v) { return ParseSchedule(r, v, &config.schedule); }},
            {"batch_size",
             [&](const YAML::Node& v) {
               return ReadInt(r, v, "batch_size", 1, &config.batch_size);
             }},
            {"grad_accum",
             [&](const YAML::Node& v) {
               return ReadInt(r, v, "grad_accum", 1, &config.grad_accum);
             }},
            {"max_seq_len",
             [&](const YAML::Node& v) {
               return ReadInt(r, v, "max_seq_len", 2, &config.max_seq_len);
             }},
            {"packing",
             [&](const YAML::Node& v) { return ReadBool(r, v, "packing", &config.packing); }},
            {"checkpointing",
             [&](const YAML::Node& v) {
               return ReadBool(r, v, "checkpointing", &config.checkpointing);
             }},
            {"max_steps",
             [&](const YAML::Node& v) {
               return ReadInt(r, v, "max_steps", 1, &config.max_steps.emplace());
             }},
            {"epochs",
             [&](const YAML::Node& v) {
               return ReadInt(r, v, "epochs", 1, &config.epochs.emplace());
             }},
            {"grad_clip",
             [&](const YAML::Node& v) {
               return ReadNumber(r, v, "grad_clip", 0, kInf, false, &config.grad_clip);
             }},
            {"eval_every",
             [&](const YAML::Node& v) {
               return ReadInt(r, v, "eval_every", 0, &config.eval_every);
             }},
            {"checkpoint_every",
             [&](const YAML::Node& v) {
               return ReadInt(r, v, "checkpoint_every", 0, &config.checkpoint_every);
             }},
            {"seed",
             [&](const YAML::Node& v) {
               int64_t seed = 0;
               GRAFT_RETURN_IF_ERROR(ReadInt(r, v, "seed", 0, &seed));
               config.seed = static_cast<uint64_t>(seed);
               return Status::Ok();
             }},
            {"threads",
             [&](const YAML::Node& v) { return ReadInt(r, v, "threads", 1, &config.threads); }},
        }));
  } catch (const YAML::Exception& e) {
    return InvalidInput(std::string(source) + ": " + e.what());
  }
  if (config.max_steps && config.epochs) {
    return r.Error(root["epochs"], "", "max_steps and epochs: give one, not both");
  }
  if (!config.max_steps && !config.epochs) config.epochs = 1;
  return config;
}

Result<TrainConfig> LoadTrainConfig(const std::filesystem::path& path) {
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(path, 1 << 20));
  return ParseTrainConfig(text, path.string());
}

}  // namespace graft::trainer

// libFuzzer target: training config YAML (trainer/train_config, with models/lora_config; both are
// plain C++ built into this target, so it needs no libtorch).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "trainer/train_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  graft::Result<graft::trainer::TrainConfig> config =
      graft::trainer::ParseTrainConfig(text, "fuzz.yaml");
  if (!config.ok()) return 0;
  // Exactly one of max_steps and epochs; provenance hashes the effective config canonically.
  if (config->max_steps.has_value() == config->epochs.has_value()) std::abort();
  if (!graft::CanonicalJson(config->ToJson()).ok()) std::abort();
  if (config->lora) {
    // The LoRA section becomes the adapter's adapter_config.json, which must read back the same.
    if (!config->lora->Validate().ok()) std::abort();
    graft::Json peft = config->lora->ToPeftJson();
    graft::Result<graft::formats::LoraConfig> again =
        graft::formats::LoraConfig::FromPeftJson(peft, "fuzz");
    if (!again.ok() || again->ToPeftJson() != peft) std::abort();
  }
  return 0;
}

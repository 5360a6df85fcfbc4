// libFuzzer target: PEFT adapter_config.json through graft's one reader of it,
// formats::LoraConfig::FromPeftJson (formats/lora_config), which the registry's adapter intake
// and the models' adapter loading both use.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "formats/lora_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  graft::Result<graft::Json> json = graft::ParseJson(text, "adapter_config.json");
  if (!json.ok()) return 0;
  using graft::formats::LoraConfig;
  graft::Result<LoraConfig> config = LoraConfig::FromPeftJson(*json, "fuzz");
  if (!config.ok()) return 0;
  if (!config->Validate().ok()) std::abort();
  if (config->r < 1 || config->r > 65536 || !std::isfinite(config->lora_alpha)) std::abort();
  // What graft writes back (adapter_config.json of a trained or merged adapter) reads the same.
  graft::Json peft = config->ToPeftJson();
  graft::Result<LoraConfig> again = LoraConfig::FromPeftJson(peft, "fuzz");
  if (!again.ok() || again->ToPeftJson() != peft) std::abort();
  (void)config->UnknownKeys();
  return 0;
}

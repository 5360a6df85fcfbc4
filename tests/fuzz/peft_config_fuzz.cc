// libFuzzer target: PEFT adapter_config.json, read by both of graft's readers: LoraConfig (models/
// lora_config, plain C++ built into this target) and AdapterSpec::Read (registry/adapter_spec).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/json.h"
#include "models/lora_config.h"
#include "registry/adapter_spec.h"

namespace fs = std::filesystem;

namespace {

// An adapter directory in /tmp holding the input as adapter_config.json (AdapterSpec reads a
// directory); the weights file only has to exist for Read. Removed at exit.
class AdapterDir {
 public:
  AdapterDir() : dir_(fs::temp_directory_path() / ("graft-peft-fuzz-" + std::to_string(getpid()))) {
    fs::create_directories(dir_);
    std::ofstream(dir_ / graft::registry::kAdapterWeightsFile).flush();
  }
  ~AdapterDir() {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  const fs::path& Write(std::string_view config) {
    std::ofstream out(dir_ / graft::registry::kAdapterConfigFile,
                      std::ios::binary | std::ios::trunc);
    out.write(config.data(), static_cast<std::streamsize>(config.size()));
    if (!out.flush()) std::abort();
    return dir_;
  }

 private:
  fs::path dir_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static AdapterDir dir;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  graft::Result<graft::registry::AdapterSpec> spec =
      graft::registry::AdapterSpec::Read(dir.Write(text));
  if (spec.ok()) {
    if (spec->r < 1 || spec->r > 65536 || !(spec->lora_alpha > 0)) std::abort();
    if (!spec->config.is_object()) std::abort();
  }

  graft::Result<graft::Json> json = graft::ParseJson(text, "adapter_config.json");
  if (!json.ok()) {
    if (spec.ok()) std::abort();  // both readers parse JSON the same way
    return 0;
  }
  graft::Result<graft::LoraConfig> config = graft::LoraConfig::FromPeftJson(*json, "fuzz");
  if (!config.ok()) return 0;
  if (!config->Validate().ok()) std::abort();
  if (spec.ok() && spec->r != config->r) std::abort();
  // What graft writes back (adapter_config.json of a trained or merged adapter) reads the same.
  graft::Json peft = config->ToPeftJson();
  graft::Result<graft::LoraConfig> again = graft::LoraConfig::FromPeftJson(peft, "fuzz");
  if (!again.ok() || again->ToPeftJson() != peft) std::abort();
  (void)config->UnknownKeys();
  return 0;
}

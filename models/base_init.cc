#include "models/base_init.h"

#include "models/causal_lm.h"

namespace graft {
namespace fs = std::filesystem;

Result<ModelConfig> WriteRandomBase(Arch arch, std::string_view preset, uint64_t seed,
                                    const fs::path& out_dir) {
  GRAFT_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::Preset(arch, preset));
  std::error_code ec;
  if (fs::exists(out_dir, ec) && !(fs::is_directory(out_dir, ec) && fs::is_empty(out_dir, ec))) {
    return Conflict(out_dir.string() + " exists and is not an empty directory");
  }
  GRAFT_ASSIGN_OR_RETURN(std::unique_ptr<CausalLM> model, CausalLM::CreateRandom(config, seed));
  GRAFT_RETURN_IF_ERROR(model->SaveHf(out_dir));
  return config;
}

}  // namespace graft

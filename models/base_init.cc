#include "models/base_init.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/file_names.h"
#include "core/file_util.h"
#include "models/causal_lm.h"
#include "models/hf_weights.h"
#include "models/tokenizer/tokenizer.h"

namespace graft {
namespace fs = std::filesystem;

Result<ModelConfig> WriteRandomBase(Arch arch, std::string_view preset, uint64_t seed,
                                    const fs::path& out_dir, DType dtype,
                                    uint64_t max_shard_bytes) {
  GRAFT_ASSIGN_OR_RETURN(ModelConfig config, ModelConfig::Preset(arch, preset));
  std::error_code ec;
  if (fs::exists(out_dir, ec) && !(fs::is_directory(out_dir, ec) && fs::is_empty(out_dir, ec))) {
    return Conflict(out_dir.string() + " exists and is not an empty directory");
  }
  const std::vector<WeightSpec> specs = CausalLM::Specs(config);
  std::vector<TensorShape> shapes;
  uint64_t total_bytes = 0;
  for (const WeightSpec& spec : specs) {
    shapes.push_back({spec.name, spec.shape});
    uint64_t elements = 1;
    for (int64_t d : spec.shape) elements *= static_cast<uint64_t>(d);
    total_bytes += elements * DTypeSize(dtype);
  }
  try {
    // Drawn in spec order from one generator, as CreateRandom draws them.
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
    GRAFT_RETURN_IF_ERROR(WriteHfWeightsStreamed(
        out_dir, shapes, dtype, total_bytes > max_shard_bytes ? max_shard_bytes : 0,
        [&](size_t i) { return InitWeight(specs[i], generator); }));
  } catch (const std::exception& e) {
    std::string message = e.what();
    return InternalError("writing " + out_dir.string() +
                         ": libtorch: " + message.substr(0, message.find('\n')));
  }
  Json json = config.hf_json;
  json["torch_dtype"] = CausalLM::TorchDtypeName(dtype);
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(out_dir / kHfConfigFile, json.dump(2) + "\n"));
  GRAFT_RETURN_IF_ERROR(WriteFileAtomic(out_dir / kTokenizerFile, MakeByteLevelTokenizerJson()));
  return config;
}

}  // namespace graft

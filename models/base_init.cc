#include "models/base_init.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/file_names.h"
#include "core/file_util.h"
#include "models/causal_lm.h"
#include "models/hf_weights.h"
#include "models/tokenizer/tokenizer.h"

namespace graft::models {
namespace fs = std::filesystem;

std::string FullVocabularyTokenizerJson(int64_t vocab_size) {
  const std::string byte_level = tokenizer::MakeByteLevelTokenizerJson();
  Json json = Json::parse(byte_level);
  Json& vocab = json["model"]["vocab"];
  const int64_t first = static_cast<int64_t>(vocab.size());
  if (vocab_size <= first) return byte_level;
  std::vector<std::string> bytes(256);
  for (const auto& [token, id] : vocab.items()) {
    if (id.get<int64_t>() < 256) bytes[id.get<size_t>()] = token;
  }
  Json& merges = json["model"]["merges"];
  const int64_t last = std::min<int64_t>(vocab_size, first + 256 * 256);
  for (int64_t id = first; id < last; ++id) {
    const std::string& left = bytes[static_cast<size_t>((id - first) / 256)];
    const std::string& right = bytes[static_cast<size_t>((id - first) % 256)];
    vocab[left + right] = id;
    merges.push_back(Json::array({left, right}));
  }
  return json.dump(2) + "\n";
}

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
  GRAFT_RETURN_IF_ERROR(
      WriteFileAtomic(out_dir / kTokenizerFile, FullVocabularyTokenizerJson(config.vocab_size)));
  return config;
}

}  // namespace graft::models

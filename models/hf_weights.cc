#include "models/hf_weights.h"

#include <cstdio>
#include <set>

#include "core/file_util.h"
#include "core/json.h"
#include "models/torch_safetensors.h"

namespace graft {
namespace fs = std::filesystem;

namespace {

const std::map<std::string, std::string>& PtMetadata() {
  static const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  return metadata;
}

std::string ShardName(size_t index, size_t count) {
  char name[64];
  std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", index, count);
  return name;
}

Result<std::map<std::string, torch::Tensor>> ReadShards(const fs::path& dir) {
  const fs::path index_path = dir / kHfWeightsIndexFile;
  const std::string source = index_path.string();
  GRAFT_ASSIGN_OR_RETURN(std::string text, ReadFile(index_path, 64 << 20));
  GRAFT_ASSIGN_OR_RETURN(Json index, ParseJson(text, source));
  GRAFT_ASSIGN_OR_RETURN(const Json* weight_map, JsonField(index, "weight_map", source));
  if (!weight_map->is_object() || weight_map->empty()) {
    return InvalidInput(source + ": \"weight_map\" must be a non-empty object");
  }
  std::map<std::string, std::set<std::string>> names_by_shard;
  for (const auto& [name, shard] : weight_map->items()) {
    if (!shard.is_string()) {
      return InvalidInput(source + ": weight_map[\"" + name + "\"] must be a file name");
    }
    const std::string file = shard.get<std::string>();
    GRAFT_RETURN_IF_ERROR(
        CheckSafeRelativePath(file).WithContext(source + ": weight_map[\"" + name + "\"]"));
    names_by_shard[file].insert(name);
  }
  std::map<std::string, torch::Tensor> weights;
  for (const auto& [file, names] : names_by_shard) {
    GRAFT_ASSIGN_OR_RETURN(auto shard, ReadSafetensorsAsF32(dir / file));
    for (auto& [name, tensor] : shard) {
      if (!names.count(name)) {
        return InvalidInput(file + ": tensor \"" + name + "\" is not mapped to this shard by " +
                            std::string(kHfWeightsIndexFile));
      }
      weights[name] = std::move(tensor);
    }
    for (const std::string& name : names) {
      if (!weights.count(name)) {
        return InvalidInput(file + ": missing tensor \"" + name + "\" (" +
                            std::string(kHfWeightsIndexFile) + " maps it to this shard)");
      }
    }
  }
  return weights;
}

}  // namespace

Result<std::map<std::string, torch::Tensor>> ReadHfWeights(const fs::path& dir) {
  const fs::path single = dir / kHfWeightsFile;
  const fs::path index = dir / kHfWeightsIndexFile;
  std::error_code ec;
  const bool has_single = fs::exists(single, ec);
  const bool has_index = fs::exists(index, ec);
  if (has_single && has_index) {
    return InvalidInput(dir.string() + ": both " + kHfWeightsFile + " and " + kHfWeightsIndexFile +
                        " exist; which weights to use is ambiguous");
  }
  if (has_index) return ReadShards(dir);
  if (!has_single) {
    return NotFound(dir.string() + ": no " + kHfWeightsFile + " or " + kHfWeightsIndexFile +
                    " (graft reads safetensors weights only)");
  }
  return ReadSafetensorsAsF32(single);
}

Status WriteHfWeights(const fs::path& dir, const NamedTensors& tensors, DType dtype,
                      uint64_t max_shard_bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  if (max_shard_bytes == 0) {
    GRAFT_ASSIGN_OR_RETURN(std::string bytes, SerializeTorchTensors(tensors, dtype, PtMetadata()));
    return WriteFileAtomic(dir / kHfWeightsFile, bytes);
  }
  // Greedy split in name order, as HF's shard_checkpoint does in state-dict order.
  NamedTensors sorted = tensors;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<NamedTensors> shards(1);
  uint64_t shard_bytes = 0;
  uint64_t total_bytes = 0;
  for (const auto& [name, tensor] : sorted) {
    const uint64_t bytes = tensor.numel() * DTypeSize(dtype);
    if (!shards.back().empty() && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().emplace_back(name, tensor);
    shard_bytes += bytes;
    total_bytes += bytes;
  }
  Json weight_map = Json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string file = ShardName(i + 1, shards.size());
    GRAFT_ASSIGN_OR_RETURN(std::string bytes,
                           SerializeTorchTensors(shards[i], dtype, PtMetadata()));
    GRAFT_RETURN_IF_ERROR(WriteFileAtomic(dir / file, bytes));
    for (const auto& [name, tensor] : shards[i]) weight_map[name] = file;
  }
  Json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
  return WriteFileAtomic(dir / kHfWeightsIndexFile, index.dump(2) + "\n");
}

}  // namespace graft

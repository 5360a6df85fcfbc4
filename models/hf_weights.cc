#include "models/hf_weights.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>

#include "core/file_util.h"
#include "core/json.h"
#include "models/mapped_file.h"
#include "models/q8_weights.h"
#include "models/torch_safetensors.h"

namespace graft::models {
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

// TorchType with an error naming `what`.
Result<torch::ScalarType> NamedTorchType(DType dtype, const std::string& what) {
  auto type = graft::models::TorchType(dtype);
  if (!type.ok()) {
    return InvalidInput(what + " has dtype " + std::string(DTypeName(dtype)) +
                        "; expected F32, F16 or BF16");
  }
  return type;
}

using InputsFirst = std::function<bool(const std::string&)>;

// Every tensor of one safetensors file: views of its mapping where the dtype is kept (and the
// bytes are aligned for it), converted copies otherwise.
Result<std::map<std::string, torch::Tensor>> ReadMapped(const fs::path& path, DType matrix_dtype,
                                                        const InputsFirst& inputs_first) {
  GRAFT_ASSIGN_OR_RETURN(std::shared_ptr<MappedFile> mapping, MappedFile::Open(path));
  GRAFT_ASSIGN_OR_RETURN(SafetensorsFile file,
                         SafetensorsFile::FromBuffer(mapping->bytes(), path.string()));
  std::map<std::string, torch::Tensor> tensors;
  for (const TensorView& view : file.tensors()) {
    GRAFT_ASSIGN_OR_RETURN(
        torch::ScalarType stored,
        NamedTorchType(view.dtype, path.string() + ": tensor \"" + view.name + "\""));
    const bool q8 = matrix_dtype == DType::kI8 && view.shape.size() == 2;
    const bool matrix = view.shape.size() >= 2 && matrix_dtype != DType::kI8;
    GRAFT_ASSIGN_OR_RETURN(
        torch::ScalarType kept,
        NamedTorchType(matrix ? matrix_dtype : DType::kF32, "the requested base dtype"));
    void* data = const_cast<uint8_t*>(view.data.data());
    const bool aligned = reinterpret_cast<uintptr_t>(data) % DTypeSize(view.dtype) == 0;
    if (view.data.empty()) {
      tensors[view.name] = torch::empty(view.shape, kept);
    } else if (stored == kept && aligned && !q8) {
      tensors[view.name] = torch::from_blob(
          data, view.shape, [mapping](void*) {}, torch::TensorOptions().dtype(kept));
    } else {
      // Unaligned bytes are copied first (rare: writers align the data section).
      torch::Tensor source =
          aligned ? torch::from_blob(data, view.shape, torch::TensorOptions().dtype(stored))
                  : torch::empty(view.shape, stored);
      if (!aligned) std::memcpy(source.data_ptr(), data, view.data.size());
      if (q8) {
        const int64_t input_dim = inputs_first && inputs_first(view.name) ? 0 : 1;
        // Rows of a [N, K] matrix are consecutive bytes of the file: released as they are done.
        const size_t row_bytes = view.data.size() / static_cast<size_t>(view.shape[0]);
        const auto release = [&](int64_t begin, int64_t end) {
          mapping->Release(view.data.subspan(static_cast<size_t>(begin) * row_bytes,
                                             static_cast<size_t>(end - begin) * row_bytes));
        };
        GRAFT_ASSIGN_OR_RETURN(
            tensors[view.name],
            QuantizeQ8(source, input_dim, path.string() + ": tensor \"" + view.name + "\"",
                       input_dim == 1 ? release : std::function<void(int64_t, int64_t)>()));
      } else {
        tensors[view.name] = source.to(kept);
      }
      mapping->Release(view.data);
    }
  }
  return tensors;
}

Result<std::map<std::string, torch::Tensor>> ReadShards(const fs::path& dir, DType matrix_dtype,
                                                        const InputsFirst& inputs_first) {
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
    GRAFT_ASSIGN_OR_RETURN(auto shard, ReadMapped(dir / file, matrix_dtype, inputs_first));
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

using File = std::unique_ptr<FILE, int (*)(FILE*)>;

// One output file: the tensors it holds (indices into the caller's list), its safetensors plan
// and the open temporary file.
struct Shard {
  std::string name;
  std::vector<size_t> members;
  SafetensorsPlan plan;
  fs::path temp;
  File file{nullptr, &std::fclose};
};

Status WriteAt(Shard& shard, uint64_t offset, const void* data, size_t size) {
  if (::fseeko(shard.file.get(), static_cast<off_t>(offset), SEEK_SET) != 0 ||
      std::fwrite(data, 1, size, shard.file.get()) != size) {
    return IoError("cannot write " + shard.temp.string() + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

Result<std::map<std::string, torch::Tensor>> ReadHfWeights(const fs::path& dir, DType matrix_dtype,
                                                           const InputsFirst& inputs_first) {
  const fs::path single = dir / kHfWeightsFile;
  const fs::path index = dir / kHfWeightsIndexFile;
  std::error_code ec;
  const bool has_single = fs::exists(single, ec);
  const bool has_index = fs::exists(index, ec);
  if (has_single && has_index) {
    return InvalidInput(dir.string() + ": both " + kHfWeightsFile + " and " + kHfWeightsIndexFile +
                        " exist; which weights to use is ambiguous");
  }
  if (has_index) return ReadShards(dir, matrix_dtype, inputs_first);
  if (!has_single) {
    return NotFound(dir.string() + ": no " + kHfWeightsFile + " or " + kHfWeightsIndexFile +
                    " (graft reads safetensors weights only)");
  }
  return ReadMapped(single, matrix_dtype, inputs_first);
}

Status WriteHfWeightsStreamed(const fs::path& dir, const std::vector<TensorShape>& tensors,
                              DType dtype, uint64_t max_shard_bytes,
                              const std::function<torch::Tensor(size_t)>& produce) {
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16) {
    return InvalidInput("graft writes weights as F32, F16 or BF16");
  }
  GRAFT_ASSIGN_OR_RETURN(torch::ScalarType type, NamedTorchType(dtype, "the output"));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  // Greedy split in name order, as HF's shard_checkpoint does in state-dict order.
  std::vector<size_t> by_name(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) by_name[i] = i;
  std::sort(by_name.begin(), by_name.end(),
            [&](size_t a, size_t b) { return tensors[a].name < tensors[b].name; });
  std::vector<Shard> shards(1);
  std::vector<size_t> shard_of(tensors.size());
  uint64_t shard_bytes = 0;
  uint64_t total_bytes = 0;
  for (size_t i : by_name) {
    int64_t elements = 1;
    for (int64_t d : tensors[i].shape) elements *= d;
    const uint64_t bytes = static_cast<uint64_t>(elements) * DTypeSize(dtype);
    if (max_shard_bytes > 0 && !shards.back().members.empty() &&
        shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shard_of[i] = shards.size() - 1;
    shards.back().members.push_back(i);
    shard_bytes += bytes;
    total_bytes += bytes;
  }
  // Headers first (they only need names, dtypes and shapes), then the data as it is produced.
  std::vector<uint64_t> offset_in_shard(tensors.size());
  for (size_t s = 0; s < shards.size(); ++s) {
    Shard& shard = shards[s];
    shard.name = max_shard_bytes == 0 ? kHfWeightsFile : ShardName(s + 1, shards.size());
    std::vector<TensorToWrite> layout;
    for (size_t i : shard.members) layout.push_back({tensors[i].name, dtype, tensors[i].shape, {}});
    GRAFT_ASSIGN_OR_RETURN(shard.plan, PlanSafetensors(layout, PtMetadata(), false));
    for (size_t k = 0; k < shard.members.size(); ++k) {
      offset_in_shard[shard.members[k]] = shard.plan.prefix.size() + shard.plan.offsets[k];
    }
    shard.temp = dir / ("." + shard.name + ".partial");
    shard.file.reset(std::fopen(shard.temp.c_str(), "wb"));
    if (!shard.file) {
      return IoError("cannot create " + shard.temp.string() + ": " + std::strerror(errno));
    }
    GRAFT_RETURN_IF_ERROR(WriteAt(shard, 0, shard.plan.prefix.data(), shard.plan.prefix.size()));
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    const torch::Tensor values = produce(i).detach().to(torch::kCPU).to(type).contiguous();
    if (values.sizes() != c10::IntArrayRef(tensors[i].shape)) {
      return InternalError("tensor \"" + tensors[i].name + "\" was produced with another shape");
    }
    GRAFT_RETURN_IF_ERROR(
        WriteAt(shards[shard_of[i]], offset_in_shard[i], values.data_ptr(), values.nbytes()));
  }
  Json weight_map = Json::object();
  for (Shard& shard : shards) {
    FILE* file = shard.file.get();
    if (std::fflush(file) != 0 || ::fsync(::fileno(file)) != 0 ||
        std::fclose(shard.file.release()) != 0) {
      return IoError("cannot write " + shard.temp.string() + ": " + std::strerror(errno));
    }
    fs::rename(shard.temp, dir / shard.name, ec);
    if (ec) return IoError("cannot rename " + shard.temp.string() + ": " + ec.message());
    for (size_t i : shard.members) weight_map[tensors[i].name] = shard.name;
  }
  GRAFT_RETURN_IF_ERROR(SyncDirectory(dir));
  if (max_shard_bytes == 0) return Status::Ok();
  Json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
  return WriteFileAtomic(dir / kHfWeightsIndexFile, index.dump(2) + "\n");
}

Status WriteHfWeights(const fs::path& dir, const NamedTensors& tensors, DType dtype,
                      uint64_t max_shard_bytes) {
  std::vector<TensorShape> shapes;
  for (const auto& [name, tensor] : tensors) shapes.push_back({name, tensor.sizes().vec()});
  return WriteHfWeightsStreamed(dir, shapes, dtype, max_shard_bytes,
                                [&](size_t i) { return tensors[i].second; });
}

}  // namespace graft::models

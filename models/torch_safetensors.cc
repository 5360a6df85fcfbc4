#include "models/torch_safetensors.h"

#include <cstring>

namespace graft::models {

Result<torch::ScalarType> TorchType(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return torch::kFloat;
    case DType::kF16:
      return torch::kHalf;
    case DType::kBF16:
      return torch::kBFloat16;
    case DType::kF64:
      return torch::kDouble;
    default:
      return InvalidInput("dtype " + std::string(DTypeName(dtype)) + " is not a floating type");
  }
}

Result<torch::Tensor> TensorFromView(const TensorView& view, std::string_view source) {
  auto type = TorchType(view.dtype);
  if (!type.ok()) {
    return InvalidInput(std::string(source) + ": tensor \"" + view.name + "\" has dtype " +
                        std::string(DTypeName(view.dtype)) + "; expected F32, F16 or BF16");
  }
  torch::Tensor out = torch::empty(view.shape, torch::kFloat);
  if (out.numel() == 0) return out;
  // Copy first: the view's bytes need not be aligned for the dtype, and are read-only.
  torch::Tensor raw = torch::empty(view.shape, *type);
  std::memcpy(raw.data_ptr(), view.data.data(), view.data.size());
  out.copy_(raw);
  return out;
}

Result<std::map<std::string, torch::Tensor>> ReadSafetensorsAsF32(
    const std::filesystem::path& path) {
  GRAFT_ASSIGN_OR_RETURN(SafetensorsFile file, SafetensorsFile::Open(path));
  std::map<std::string, torch::Tensor> tensors;
  for (const TensorView& view : file.tensors()) {
    GRAFT_ASSIGN_OR_RETURN(tensors[view.name], TensorFromView(view, path.string()));
  }
  return tensors;
}

Result<std::string> SerializeTorchTensors(const NamedTensors& tensors, DType dtype,
                                          const std::map<std::string, std::string>& metadata) {
  GRAFT_ASSIGN_OR_RETURN(torch::ScalarType type, TorchType(dtype));
  if (dtype == DType::kF64) return InvalidInput("graft writes weights as F32, F16 or BF16");
  std::vector<torch::Tensor> converted;
  std::vector<TensorToWrite> to_write;
  converted.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    converted.push_back(tensor.detach().to(torch::kCPU).to(type).contiguous());
    const torch::Tensor& t = converted.back();
    to_write.push_back(TensorToWrite{
        name, dtype, t.sizes().vec(),
        std::span<const uint8_t>(static_cast<const uint8_t*>(t.data_ptr()), t.nbytes())});
  }
  return SerializeSafetensors(to_write, metadata);
}

}  // namespace graft::models

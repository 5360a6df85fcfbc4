// Conversions between safetensors tensors (core/safetensors.h) and F32 torch tensors.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

#include "core/safetensors.h"
#include "core/status.h"
#include "models/named_tensors.h"

namespace graft::models {

// The torch dtype of a floating safetensors dtype (F32, F16, BF16, F64); others are an error.
Result<torch::ScalarType> TorchType(DType dtype);

// An F32 CPU tensor copied from a view (F32, F16, BF16 and F64 floating-point only; other
// dtypes are an error naming the tensor and `source`).
Result<torch::Tensor> TensorFromView(const TensorView& view, std::string_view source);

// Reads every tensor of a safetensors file as F32.
Result<std::map<std::string, torch::Tensor>> ReadSafetensorsAsF32(
    const std::filesystem::path& path);

// Safetensors bytes of `tensors` converted to `dtype` (F32, F16 or BF16), deterministic.
Result<std::string> SerializeTorchTensors(const NamedTensors& tensors, DType dtype,
                                          const std::map<std::string, std::string>& metadata);

}  // namespace graft::models

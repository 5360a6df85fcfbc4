// Safetensors files: a memory-mapped, bounds-checked reader with zero-copy views, and a writer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace graft {

enum class DType { kF32, kF16, kBF16, kF64, kI64, kI32, kI8, kU8, kBool };

std::string_view DTypeName(DType dtype);  // "F32", "BF16", ...
Result<DType> ParseDType(std::string_view name);
size_t DTypeSize(DType dtype);
// How a model's weights are kept or written, as options name it: "f32", "bf16", "f16", or
// "q8_0" (kI8: llama.cpp's Q8_0 groups of int8 with a scale each, for keeping a base only).
Result<DType> ParseBaseDType(std::string_view name);
std::string_view BaseDTypeName(DType dtype);  // "f32", "bf16", "f16", "q8_0"

struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::span<const uint8_t> data;  // row-major bytes, valid while the file is open

  int64_t NumElements() const;
};

// Limits a reader enforces on hostile input.
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;

class SafetensorsFile {
 public:
  // Maps the file (read-only, private; the mapping lives as long as this object, so the file
  // must not be truncated meanwhile) and validates the header: size ≤ 100 MB, valid JSON object,
  // known dtypes, non-negative shapes whose byte size matches data_offsets, offsets inside the data
  // section, aligned to the dtype size, no two tensors overlapping, no duplicate keys, every data
  // byte covered. Errors name the file and tensor.
  static Result<SafetensorsFile> Open(const std::filesystem::path& path);
  // Same validation over a buffer the caller keeps alive (used by tests and fuzzing).
  static Result<SafetensorsFile> FromBuffer(std::span<const uint8_t> bytes,
                                            std::string_view source);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::vector<TensorView>& tensors() const { return tensors_; }  // sorted by name
  const TensorView* Find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile();
  struct Mapping;
  std::unique_ptr<Mapping> mapping_;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// A tensor to write: the bytes must be row-major and match dtype and shape.
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::span<const uint8_t> data;
};

// Where SerializeSafetensors puts each tensor, for writers that stream the data: `prefix` (the
// 8-byte length and the padded header) comes first, then tensors[order[0]], tensors[order[1]],
// ...; tensors[i]'s data starts at prefix.size() + offsets[i]. With check_data false the data
// spans are not looked at (sizes come from dtype and shape).
struct SafetensorsPlan {
  std::string prefix;
  std::vector<size_t> order;
  std::vector<uint64_t> offsets;
  uint64_t data_bytes = 0;
};
Result<SafetensorsPlan> PlanSafetensors(const std::vector<TensorToWrite>& tensors,
                                        const std::map<std::string, std::string>& metadata = {},
                                        bool check_data = true);

// Serialises tensors into safetensors bytes. Deterministic: the same input gives the same bytes.
// The header is canonical JSON (keys sorted by name) padded with spaces to a multiple of 8 bytes,
// as the reference implementation pads it. Data is contiguous, larger dtypes first and then by
// name (the reference also puts larger dtypes first), so every tensor is aligned to its dtype
// size without padding; a pure name order could misalign an F32 after an odd-sized U8 tensor.
// Rejects duplicate or reserved ("__metadata__") names and data whose size does not match.
Result<std::string> SerializeSafetensors(const std::vector<TensorToWrite>& tensors,
                                         const std::map<std::string, std::string>& metadata = {});
// SerializeSafetensors + WriteFileAtomic.
Status WriteSafetensors(const std::filesystem::path& path,
                        const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace graft

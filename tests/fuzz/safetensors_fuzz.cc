// libFuzzer entry: SafetensorsFile::FromBuffer on arbitrary bytes must return a Status, never
// crash, and every view it accepts must lie inside the buffer.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  auto file = graft::SafetensorsFile::FromBuffer(bytes, "fuzz.safetensors");
  if (!file.ok()) return 0;
  for (const graft::TensorView& t : file->tensors()) {
    if (t.data.data() < data || t.data.data() + t.data.size() > data + size) std::abort();
    if (static_cast<uint64_t>(t.NumElements()) * graft::DTypeSize(t.dtype) != t.data.size()) {
      std::abort();
    }
    if (file->Find(t.name) != &t) std::abort();
  }
  return 0;
}

// libFuzzer target: core/json's hostile-input parser and canonical serialisation.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  graft::Result<graft::Json> value = graft::ParseJson(text, "fuzz.json");
  if (!value.ok()) return 0;
  // Refusing (invalid UTF-8, a non-finite number) is allowed; what is written must read back to
  // the same value and be a fixed point of canonicalisation.
  graft::Result<std::string> canonical = graft::CanonicalJson(*value);
  if (!canonical.ok()) return 0;
  graft::Result<graft::Json> again = graft::ParseJson(*canonical, "canonical");
  if (!again.ok() || *again != *value) std::abort();
  graft::Result<std::string> twice = graft::CanonicalJson(*again);
  if (!twice.ok() || *twice != *canonical) std::abort();
  return 0;
}

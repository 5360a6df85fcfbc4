// libFuzzer target: DSSE envelopes and Sigstore bundles (model.sig) from hostile bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/dsse.h"
#include "core/intoto.h"
#include "core/oms_signature.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto envelope = graft::DsseEnvelope::Parse(text, "fuzz"); envelope.ok()) {
    // A parsed envelope must survive its own serialisation.
    auto again = graft::DsseEnvelope::Parse(envelope->Serialize(), "fuzz");
    if (!again.ok() || again->payload != envelope->payload) __builtin_trap();
    (void)graft::InTotoStatement::Parse(envelope->payload, "fuzz payload");
  }
  if (auto bundle = graft::OmsBundle::Parse(text, "fuzz"); bundle.ok()) {
    auto again = graft::OmsBundle::Parse(bundle->ToJson().dump(), "fuzz");
    if (!again.ok() || again->envelope.signatures.size() != bundle->envelope.signatures.size()) {
      __builtin_trap();
    }
    (void)graft::InTotoStatement::Parse(bundle->envelope.payload, "fuzz payload");
  }
  return 0;
}

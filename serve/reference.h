// Strict reference parsing for requests: a REF from a URL becomes a registry object or a clean
// InvalidInput / NotFound, never an exception, a file path or an ambiguous lookup.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "registry/registry.h"

namespace graft::serve {

// Checks REF's form: name@N (N up to 18 digits), name@channel, name, sha256:<hex> or a hex
// digest prefix (4 to 64 digits); names and channels start with a letter or digit and hold
// letters, digits and . _ - + : / (no ".."); at most 256 bytes. InvalidInput names the problem.
Status CheckReference(std::string_view ref);

// CheckReference, then Registry::Resolve restricted to `kind` ("" for any).
Result<registry::ObjectRecord> ResolveReference(registry::Registry& registry, std::string_view kind,
                                                const std::string& ref);

// "support-bot@production": the same form rules as a name@channel reference.
Status CheckChannelName(std::string_view channel);

// An unsigned decimal in [0, max] ("" and anything else: InvalidInput naming `what`).
Result<uint64_t> ParseCount(std::string_view text, std::string_view what, uint64_t max);

// The HTTP status for an error: 400 bad input, 404 not found, 409 conflict (e.g. revoked), 422 a
// verification failed, 500 otherwise.
int HttpStatusFor(const Status& status);

}  // namespace graft::serve

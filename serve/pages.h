// Pages: the server-rendered HTML pages of `graft serve` (docs/serve.md, "Pages"): adapters,
// one adapter (the adapter report plus links), bases, datasets, suites, policies, keys, channels,
// the log with inclusion proofs, the checkpoint and the audit. No JavaScript, no external
// resources.
#pragma once

#include <optional>
#include <stop_token>

#include "serve/serve_context.h"

namespace graft::serve {

class Pages {
 public:
  explicit Pages(ServeContext& context) : context_(context) {}

  // Any path outside /api/: an unknown one is a 404 page, bad parameters a 400 page. Builds the
  // page unless the PageCache has it (or `?verify=1` forces a re-verification), and keeps it.
  HttpResponse Handle(const HttpRequest& request);
  // The answer when it needs no build: the page from the cache, or an error page (a bad
  // reference); nullopt when it must be built (Handle).
  std::optional<HttpResponse> Cached(const HttpRequest& request);
  // Builds and keeps the pages of the `count` adapters the newest log events name (at most the
  // last 10,000 events read), newest first, one at a time, until `stop`; returns how many.
  Result<size_t> WarmUp(size_t count, std::stop_token stop);

 private:
  // Handle (build) and Cached (!build); nullopt only when !build.
  std::optional<HttpResponse> Serve(const HttpRequest& request, bool build);
  Result<std::optional<HttpResponse>> Serve(const HttpRequest& request,
                                            registry::Registry& registry, bool build);
  // Each returns a whole HTML document. Adapter, Object and Channel add to `topics` what they
  // show beyond their path's fixed topics (PageKey::topics): objects, channels.
  Result<std::string> Route(const HttpRequest& request, registry::Registry& registry,
                            std::vector<std::string>& topics);
  Result<std::string> Home(registry::Registry& registry);
  Result<std::string> Adapters(const HttpRequest& request, registry::Registry& registry);
  Result<std::string> Adapter(const std::string& ref, registry::Registry& registry,
                              std::vector<std::string>& topics);
  Result<std::string> Objects(const std::string& kind, registry::Registry& registry);
  Result<std::string> Object(const std::string& ref, registry::Registry& registry,
                             std::vector<std::string>& topics);
  Result<std::string> Keys(registry::Registry& registry);
  Result<std::string> Channels(registry::Registry& registry);
  Result<std::string> Channel(const std::string& name, registry::Registry& registry,
                              std::vector<std::string>& topics);
  Result<std::string> Log(const HttpRequest& request, registry::Registry& registry);
  Result<std::string> Event(const std::string& seq, registry::Registry& registry);
  Result<std::string> Checkpoint(registry::Registry& registry);
  Result<std::string> Audit(const HttpRequest& request);

  ServeContext& context_;
};

}  // namespace graft::serve

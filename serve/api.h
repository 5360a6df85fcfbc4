// Api: the JSON API under /api/v1/ (docs/openapi.yaml): references, adapters, lineage, decisions,
// checkpoint, inclusion and consistency proofs, the log, audit and verified exports.
#pragma once

#include "serve/serve_context.h"

namespace graft::serve {

class Api {
 public:
  explicit Api(ServeContext& context) : context_(context) {}

  // `request.path` starts with "/api/v1/". Unknown routes are 404, bad parameters 400, never an
  // exception.
  HttpResponse Handle(const HttpRequest& request);

 private:
  Result<HttpResponse> Route(const HttpRequest& request, registry::Registry& registry);
  Result<HttpResponse> Adapter(const std::string& ref, const std::string& what,
                               const HttpRequest& request, registry::Registry& registry);
  ServeContext& context_;
};

}  // namespace graft::serve

#include "serve/site.h"

namespace graft::serve {

HttpResponse Site::Handle(const HttpRequest& request) {
  if (request.path.starts_with("/api/v1/")) return api_.Handle(request);
  if (request.path == "/api" || request.path.starts_with("/api/")) {
    return ErrorResponse(NotFound("no API route " + request.path + " (the API is /api/v1/)"));
  }
  return pages_.Handle(request);
}

}  // namespace graft::serve

#include "serve/site.h"

namespace graft::serve {
namespace {

// API routes that read more than a few rows or hash files.
bool HeavyApiRoute(const std::string& path) {
  return path == "/api/v1/audit" || path.ends_with("/export") || path.ends_with("/lineage");
}

}  // namespace

std::optional<HttpResponse> Site::Fast(const HttpRequest& request) {
  if (request.path == "/api" || request.path.starts_with("/api/")) {
    if (HeavyApiRoute(request.path)) return std::nullopt;
    return Handle(request);
  }
  return pages_.Cached(request);
}

bool Site::Light(const HttpRequest& request) {
  const std::string& path = request.path;
  if (path == "/api" || path.starts_with("/api/")) return !HeavyApiRoute(path);
  return !(path == "/audit" || path.starts_with("/adapters/") || path.starts_with("/objects/"));
}

HttpResponse Site::Handle(const HttpRequest& request) {
  if (request.path.starts_with("/api/v1/")) return api_.Handle(request);
  if (request.path == "/api" || request.path.starts_with("/api/")) {
    return ErrorResponse(NotFound("no API route " + request.path + " (the API is /api/v1/)"));
  }
  return pages_.Handle(request);
}

}  // namespace graft::serve

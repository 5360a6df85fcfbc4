// Site: `graft serve`'s request handler: /api/v1/ to the JSON API, everything else to the pages;
// what needs more than a lookup to the light or the heavy worker pool.
#pragma once

#include <optional>

#include "serve/api.h"
#include "serve/pages.h"

namespace graft::serve {

class Site {
 public:
  explicit Site(ServeContext& context) : api_(context), pages_(context) {}

  // The answer when it takes no heavy work (API lookups, proofs, cached pages, errors); nullopt
  // when Handle must run on a worker.
  std::optional<HttpResponse> Fast(const HttpRequest& request);
  HttpResponse Handle(const HttpRequest& request);
  // Whether Handle's work for `request` is light (lists, keys, channels, the log, proofs: a few
  // rows read), so it runs apart from the heavy work (verifying an adapter or object page, an
  // export, a lineage, an audit) and never waits behind it.
  static bool Light(const HttpRequest& request);
  // Pages::WarmUp.
  Result<size_t> WarmUp(size_t count, std::stop_token stop) { return pages_.WarmUp(count, stop); }

 private:
  Api api_;
  Pages pages_;
};

}  // namespace graft::serve

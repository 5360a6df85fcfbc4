// Site: `graft serve`'s request handler: /api/v1/ to the JSON API, everything else to the pages.
#pragma once

#include "serve/api.h"
#include "serve/pages.h"

namespace graft::serve {

class Site {
 public:
  explicit Site(ServeContext& context) : api_(context), pages_(context) {}

  HttpResponse Handle(const HttpRequest& request);

 private:
  Api api_;
  Pages pages_;
};

}  // namespace graft::serve

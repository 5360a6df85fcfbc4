// AdapterQuery: the adapters list's search, filters and pagination (page and API share it).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/status.h"
#include "registry/registry.h"

namespace graft::serve {

struct AdapterRow {
  std::string digest;
  std::string label;  // latest "name@N"
  std::string base;   // digest
  std::string base_label;
  std::string stage;
  std::vector<std::string> channels;
  std::string verdict;                      // of the latest gate or promote decision; "" for none
  std::map<std::string, std::string> tags;  // `graft adapter tag`
  uint64_t created_seq = 0;
  bool revoked = false;

  Json ToJson() const;
};

struct AdapterPage {
  std::vector<AdapterRow> rows;
  uint64_t total = 0;  // matching adapters
  uint64_t page = 1;
  uint64_t per_page = 50;
};

struct AdapterQuery {
  std::string q;        // substring of a label or digest
  std::string name;     // exact name
  std::string base;     // a base REF
  std::string stage;    // candidate, staging, production, retired, rejected, revoked
  std::string channel;  // a channel ("support-bot@production") or its last part ("production")
  std::string verdict;  // pass, fail, inconclusive, none
  std::string tag;      // KEY (the tag exists) or KEY=VALUE (registry::TagFilter)
  uint64_t page = 1;
  uint64_t per_page = 50;

  // From query parameters (q, name, base, stage, channel, verdict, tag, page, per_page); bad values
  // are InvalidInput naming the parameter. per_page is 1 to 500.
  static Result<AdapterQuery> FromParameters(const std::map<std::string, std::string>& params);
  // The same parameters back, for links (`page` replaced by `page_override` when non-zero).
  std::string ToQueryString(uint64_t page_override = 0) const;

  // Newest first. A base that does not resolve is NotFound.
  Result<AdapterPage> Run(registry::Registry& registry) const;
};

// The verdict of the adapter's latest decision ("" none).
Result<std::string> LatestVerdict(registry::Registry& registry, const std::string& digest);

// Percent-encodes everything but unreserved characters (RFC 3986), for URLs the pages build.
std::string UrlEncode(std::string_view text);

}  // namespace graft::serve

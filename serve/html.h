// HTML building blocks of the served pages: the layout (navigation, stylesheet), tables, links.
// Every piece of registry data goes through Text() or Attr() (reports/escape.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace graft::serve {

std::string Text(std::string_view text);  // escaped character data
std::string Attr(std::string_view text);  // escaped attribute value (without quotes)
// <a href="HREF">TEXT</a>, both escaped.
std::string Link(std::string_view href, std::string_view text);
// <span class="badge status-...">verdict</span>; "" renders as "none".
std::string VerdictBadge(std::string_view verdict);
// A table: headers are escaped, cells are HTML already.
std::string Table(const std::vector<std::string>& headers,
                  const std::vector<std::vector<std::string>>& rows, std::string_view id = "");
// The site navigation bar (<nav>), also put on top of the adapter report.
std::string Navigation();
// The stylesheet of Navigation(), for pages with a stylesheet of their own (the adapter report).
std::string NavigationStyle();
// A whole page: title, stylesheet, navigation and `body` (HTML).
std::string Page(std::string_view title, const std::string& body);

// "/adapters/sha256:<hex>", "/objects/sha256:<hex>", "/log/N": links between pages.
std::string AdapterHref(std::string_view digest);
std::string ObjectHref(std::string_view digest);
std::string EventHref(uint64_t seq);
// "sha256:<first 12 hex>".
std::string Short(std::string_view digest);

}  // namespace graft::serve

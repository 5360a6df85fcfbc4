#include "serve/html.h"

#include "reports/escape.h"
#include "serve/adapter_query.h"

namespace graft::serve {
namespace {

constexpr std::string_view kStyle = R"css(
body { margin: 0; background: #f1f5f9; color: #0f172a;
  font: 14px/1.45 system-ui, "DejaVu Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 32px 40px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 2px solid #e2e8f0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0 14px; }
th, td { padding: 4px 8px; border-bottom: 1px solid #e2e8f0; text-align: left; vertical-align: top; }
th { background: #f8fafc; }
.mono, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all; }
pre { background: #f8fafc; border: 1px solid #e2e8f0; padding: 8px 12px; white-space: pre-wrap; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 8px 0; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: #475569; }
.badge { padding: 0 8px; border-radius: 9px; font-size: 12px; font-weight: 600; }
.status-pass { background: #dcfce7; color: #166534; }
.status-fail { background: #fee2e2; color: #991b1b; }
.status-inconclusive { background: #fef3c7; color: #92400e; }
.status-none { background: #f1f5f9; color: #475569; }
.ok { color: #166534; font-weight: 600; }
.failed { color: #991b1b; font-weight: 600; }
p.pages a { margin-right: 12px; }
)css";

}  // namespace

std::string Text(std::string_view text) { return reports::XmlEscapeText(text); }
std::string Attr(std::string_view text) { return reports::XmlEscapeAttribute(text); }

std::string Link(std::string_view href, std::string_view text) {
  return "<a href=\"" + Attr(href) + "\">" + Text(text) + "</a>";
}

std::string VerdictBadge(std::string_view verdict) {
  const std::string_view shown = verdict.empty() ? "none" : verdict;
  return "<span class=\"badge status-" + Attr(shown) + "\">" + Text(shown) + "</span>";
}

std::string Table(const std::vector<std::string>& headers,
                  const std::vector<std::vector<std::string>>& rows, std::string_view id) {
  std::string out = id.empty() ? "<table>" : "<table id=\"" + Attr(id) + "\">";
  out += "<thead><tr>";
  for (const std::string& h : headers) out += "<th>" + Text(h) + "</th>";
  out += "</tr></thead><tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (const std::string& cell : row) out += "<td>" + cell + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody></table>\n";
}

std::string Navigation() {
  std::string out = "<nav class=\"site\">";
  for (const auto& [href, text] :
       std::vector<std::pair<std::string, std::string>>{{"/", "graft"},
                                                        {"/adapters", "Adapters"},
                                                        {"/bases", "Bases"},
                                                        {"/datasets", "Datasets"},
                                                        {"/suites", "Suites"},
                                                        {"/policies", "Policies"},
                                                        {"/keys", "Keys"},
                                                        {"/channels", "Channels"},
                                                        {"/log", "Log"},
                                                        {"/checkpoint", "Checkpoint"},
                                                        {"/audit", "Audit"}}) {
    out += Link(href, text);
  }
  return out + "</nav>\n";
}

std::string NavigationStyle() {
  return "nav.site { background: #0f172a; padding: 8px 24px; font: 14px system-ui, sans-serif; }\n"
         "nav.site a { color: #e2e8f0; margin-right: 16px; text-decoration: none; "
         "font-weight: 600; }\n";
}

std::string Page(std::string_view title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>" +
         Text(title) + " · graft</title>\n<style>" + NavigationStyle() + std::string(kStyle) +
         "</style>\n</head>\n<body>\n" + Navigation() + "<main>\n<h1>" + Text(title) + "</h1>\n" +
         body + "</main>\n</body>\n</html>\n";
}

std::string AdapterHref(std::string_view digest) {
  return "/adapters/" + UrlEncode("sha256:" + std::string(digest));
}
std::string ObjectHref(std::string_view digest) {
  return "/objects/" + UrlEncode("sha256:" + std::string(digest));
}
std::string EventHref(uint64_t seq) { return "/log/" + std::to_string(seq); }
std::string Short(std::string_view digest) { return "sha256:" + std::string(digest.substr(0, 12)); }

}  // namespace graft::serve

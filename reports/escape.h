// Text escaping for the report formats: UTF-8 sanitising, XML/HTML, Markdown and DOT strings.
#pragma once

#include <string>
#include <string_view>

namespace graft::reports {

// Valid UTF-8 holding only characters legal in XML 1.0 and not C1/DEL controls: invalid byte
// sequences become U+FFFD; NUL, other C0 controls (but tab, LF, CR), DEL, C1 controls, U+FFFE
// and U+FFFF are dropped. Every other function here sanitises first.
std::string SanitizeText(std::string_view text);

// XML (and HTML) character data: & < > " ' as entities, so it is also safe inside attributes
// in either quote style. Newlines stay as they are.
std::string XmlEscapeText(std::string_view text);
// An attribute value: as XmlEscapeText, plus tab, LF and CR as character references so parsers
// keep them instead of normalising them to spaces.
std::string XmlEscapeAttribute(std::string_view text);

// One line of Markdown (a table cell, a heading): Markdown punctuation backslash-escaped, & < >
// as entities (GitHub renders inline HTML), line breaks as <br>.
std::string MarkdownInline(std::string_view text);

// A Graphviz DOT double-quoted string, quotes included: \ and " escaped, line breaks as \n.
std::string DotQuote(std::string_view text);

}  // namespace graft::reports

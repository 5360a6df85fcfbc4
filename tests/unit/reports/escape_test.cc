// Escaping and sanitising for every report format.
#include "reports/escape.h"

#include <gtest/gtest.h>

#include <string>

namespace graft::reports {
namespace {

TEST(SanitizeText, KeepsValidUtf8AndWhitespace) {
  EXPECT_EQ(SanitizeText("héllo\t🌱\nworld\r"), "héllo\t🌱\nworld\r");
}

TEST(SanitizeText, DropsControlCharactersIllegalInXml) {
  EXPECT_EQ(SanitizeText(std::string("a\0b", 3)), "ab");
  EXPECT_EQ(SanitizeText("a\x01\x08\x0b\x0c\x1b\x1f"
                         "b"),
            "ab");
  EXPECT_EQ(SanitizeText("a\x7f"
                         "b"),
            "ab");  // DEL
  EXPECT_EQ(SanitizeText("a\xc2\x85"
                         "b"),
            "ab");  // U+0085, a C1 control
  EXPECT_EQ(SanitizeText("a\xef\xbf\xbe"
                         "b"),
            "ab");  // U+FFFE
  EXPECT_EQ(SanitizeText("a\xef\xbf\xbf"
                         "b"),
            "ab");  // U+FFFF
}

TEST(SanitizeText, ReplacesInvalidUtf8) {
  const std::string r = "\xef\xbf\xbd";  // U+FFFD
  EXPECT_EQ(SanitizeText("a\xff"
                         "b"),
            "a" + r + "b");
  EXPECT_EQ(SanitizeText("a\xc3"), "a" + r);                        // truncated
  EXPECT_EQ(SanitizeText("\xc0\x80"), r + r);                       // overlong NUL
  EXPECT_EQ(SanitizeText("\xed\xa0\x80"), r + r + r);               // surrogate
  EXPECT_EQ(SanitizeText("\xf4\x90\x80\x80"), r + r + r + r);       // beyond U+10FFFF
  EXPECT_EQ(SanitizeText("\xf0\x9f\x8c\xb1"), "\xf0\x9f\x8c\xb1");  // U+1F331 is fine
}

TEST(XmlEscape, EscapesMarkupAndQuotes) {
  EXPECT_EQ(XmlEscapeText("<a href=\"x\">'&'</a> ]]>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; ]]&gt;");
  EXPECT_EQ(XmlEscapeText("line\nnext\ttab"), "line\nnext\ttab");
  EXPECT_EQ(XmlEscapeAttribute("line\nnext\ttab\r"), "line&#10;next&#9;tab&#13;");
  EXPECT_EQ(XmlEscapeText("a\x01"
                          "b"),
            "ab");
}

TEST(MarkdownInline, EscapesTableBreakersAndMarkup) {
  EXPECT_EQ(MarkdownInline("a|b"), "a\\|b");
  EXPECT_EQ(MarkdownInline("a\nb\r\nc"), "a<br>b<br>c");
  EXPECT_EQ(MarkdownInline("<script>&"), "&lt;script&gt;&amp;");
  EXPECT_EQ(MarkdownInline("*x* _y_ `z` [l](u) #h \\"),
            "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\#h \\\\");
  EXPECT_EQ(MarkdownInline("✅ 0.05"), "✅ 0.05");
}

TEST(DotQuote, QuotesAndEscapes) {
  EXPECT_EQ(DotQuote("plain"), "\"plain\"");
  EXPECT_EQ(DotQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(DotQuote("a\nb\r\nc"), "\"a\\nb\\nc\"");
  EXPECT_EQ(DotQuote("a\x01\x7f"
                     "b"),
            "\"ab\"");
}

}  // namespace
}  // namespace graft::reports

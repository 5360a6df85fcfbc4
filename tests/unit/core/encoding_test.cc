#include "core/encoding.h"

#include <gtest/gtest.h>

#include "core/sha256.h"

namespace graft {
namespace {

TEST(Hex, RoundTripsAndRejectsBadDigits) {
  EXPECT_EQ(HexEncode(std::string_view("\x00\xff\x10", 3)), "00ff10");
  auto decoded = HexDecode("00FF10");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, (std::vector<uint8_t>{0x00, 0xff, 0x10}));
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_EQ(Base64Encode("\xfb\xff"), "+/8=");
}

TEST(Base64, DecodesStandardAndUrlSafePaddedOrNot) {
  for (std::string_view text : {"+/8=", "+/8", "-_8", "-_8="}) {
    auto decoded = Base64Decode(text);
    ASSERT_TRUE(decoded.ok()) << text;
    EXPECT_EQ(*decoded, "\xfb\xff") << text;
  }
  EXPECT_EQ(*Base64Decode("Zm9vYmFy"), "foobar");
}

TEST(Base64, RejectsMalformedInput) {
  EXPECT_FALSE(Base64Decode("Zm9v!").ok());  // bad character
  EXPECT_FALSE(Base64Decode("Z").ok());      // impossible length
  EXPECT_FALSE(Base64Decode("Zg===").ok());  // too much padding
  EXPECT_FALSE(Base64Decode("Zh==").ok());   // non-zero trailing bits
  EXPECT_FALSE(Base64Decode("+-8=").ok());   // mixed alphabets
  EXPECT_FALSE(Base64Decode("Zg=").ok());    // padding does not complete the group
}

TEST(Sha256, MatchesKnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 streaming;
  streaming.Update(std::string_view("a"));
  streaming.Update(std::string_view("bc"));
  EXPECT_EQ(DigestHex(streaming.Finish()), Sha256Hex("abc"));
}

TEST(Sha256, ParsesHexDigestsWithOrWithoutPrefix) {
  std::string hex = Sha256Hex("abc");
  auto plain = ParseDigestHex(hex);
  auto prefixed = ParseDigestHex("sha256:" + hex);
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(prefixed.ok());
  EXPECT_EQ(*plain, *prefixed);
  EXPECT_FALSE(ParseDigestHex("abc").ok());
  EXPECT_FALSE(ParseDigestHex(std::string(64, 'g')).ok());
}

}  // namespace
}  // namespace graft

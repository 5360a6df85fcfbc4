#include "core/dsse.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace graft {
namespace {

TEST(DssePae, MatchesThePublishedVector) {
  EXPECT_EQ(DssePae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(DssePae("", ""), "DSSEv1 0  0 ");
}

struct Keys {
  PrivateKey a = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  PrivateKey b = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP256);
  PrivateKey c = *PrivateKey::Generate(KeyAlgorithm::kEcdsaP384);
};

TEST(Dsse, SignsAndVerifiesWithEachAlgorithm) {
  Keys k;
  for (const PrivateKey* key : {&k.a, &k.b, &k.c}) {
    auto envelope = DsseSign(kInTotoPayloadType, "{}", {key});
    ASSERT_TRUE(envelope.ok());
    ASSERT_EQ(envelope->signatures.size(), 1u);
    EXPECT_EQ(envelope->signatures[0].keyid, key->key_id());
    auto verified = DsseVerify(*envelope, {key->public_key()});
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_EQ(*verified, std::vector<std::string>{key->key_id()});
    // The signature covers PAE, not the bare payload.
    EXPECT_TRUE(
        key->public_key().Verify(DssePae(kInTotoPayloadType, "{}"), envelope->signatures[0].sig));
  }
}

TEST(Dsse, RejectsWrongKeysAndTampering) {
  Keys k;
  auto envelope = DsseSign("text/plain", "payload", {&k.a});
  ASSERT_TRUE(envelope.ok());
  auto wrong = DsseVerify(*envelope, {k.b.public_key()});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().kind(), ErrorKind::kVerification);

  DsseEnvelope payload_changed = *envelope;
  payload_changed.payload = "payloae";
  EXPECT_FALSE(DsseVerify(payload_changed, {k.a.public_key()}).ok());
  DsseEnvelope type_changed = *envelope;
  type_changed.payload_type = "text/plaim";
  EXPECT_FALSE(DsseVerify(type_changed, {k.a.public_key()}).ok());
  DsseEnvelope sig_changed = *envelope;
  sig_changed.signatures[0].sig[5] ^= 0x20;
  EXPECT_FALSE(DsseVerify(sig_changed, {k.a.public_key()}).ok());
  EXPECT_FALSE(DsseVerify(*envelope, {}).ok());
  EXPECT_FALSE(DsseVerify(*envelope, {k.a.public_key()}, 0).ok());
}

TEST(Dsse, SignRefusesNoKeysAndPayloadTypesJsonCannotHold) {
  Keys k;
  EXPECT_EQ(DsseSign("t", "x", {}).status().kind(), ErrorKind::kInvalidInput);
  EXPECT_EQ(DsseSign("\xff", "x", {&k.a}).status().kind(), ErrorKind::kInvalidInput);
  // Binary payloads are fine: they travel as base64.
  EXPECT_TRUE(DsseSign("t", std::string("\xff\0", 2), {&k.a}).ok());
}

TEST(Dsse, ThresholdCountsDistinctKeysOnly) {
  Keys k;
  auto envelope = DsseSign(kInTotoPayloadType, "{\"x\":1}", {&k.a, &k.b});
  ASSERT_TRUE(envelope.ok());
  std::vector<PublicKey> trusted = {k.a.public_key(), k.b.public_key(), k.c.public_key()};
  auto two = DsseVerify(*envelope, trusted, 2);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_EQ(two->size(), 2u);
  EXPECT_FALSE(DsseVerify(*envelope, trusted, 3).ok());

  // Three copies of one key's signature (with and without its keyid) still count once.
  auto single = DsseSign(kInTotoPayloadType, "{}", {&k.a});
  ASSERT_TRUE(single.ok());
  DsseEnvelope duplicated = *single;
  duplicated.signatures.push_back(single->signatures[0]);
  duplicated.signatures.push_back({"", single->signatures[0].sig});
  auto once = DsseVerify(duplicated, trusted, 1);
  ASSERT_TRUE(once.ok());
  EXPECT_EQ(*once, std::vector<std::string>{k.a.key_id()});
  auto twice = DsseVerify(duplicated, trusted, 2);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("1 distinct trusted key(s) verified, 2 required"),
            std::string::npos)
      << twice.status().message();
  // The same trusted key listed twice does not count twice either.
  EXPECT_FALSE(DsseVerify(duplicated, {k.a.public_key(), k.a.public_key()}, 2).ok());
}

TEST(Dsse, KeyidSelectsTheKeyAndEmptyKeyidTriesAll) {
  Keys k;
  auto envelope = DsseSign(kInTotoPayloadType, "{}", {&k.b});
  ASSERT_TRUE(envelope.ok());
  DsseEnvelope anonymous = *envelope;
  anonymous.signatures[0].keyid.clear();
  auto verified = DsseVerify(anonymous, {k.a.public_key(), k.b.public_key()});
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->front(), k.b.key_id());
  DsseEnvelope misnamed = *envelope;
  misnamed.signatures[0].keyid = k.a.key_id();
  EXPECT_FALSE(DsseVerify(misnamed, {k.a.public_key(), k.b.public_key()}).ok());
}

TEST(Dsse, JsonRoundTripUsesStandardBase64) {
  Keys k;
  // Bytes that encode to '+' and '/' in standard base64.
  auto envelope = DsseSign(kInTotoPayloadType, "\xfb\xff\xfe", {&k.a});
  ASSERT_TRUE(envelope.ok());
  Json json = envelope->ToJson();
  EXPECT_EQ(json["payload"], "+//+");
  EXPECT_EQ(json["payloadType"], kInTotoPayloadType);
  EXPECT_EQ(json["signatures"][0]["keyid"], k.a.key_id());
  std::string text = envelope->Serialize();
  EXPECT_EQ(text.find(' '), std::string::npos);
  auto parsed = DsseEnvelope::Parse(text, "env.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->payload, envelope->payload);
  EXPECT_EQ(parsed->signatures[0].sig, envelope->signatures[0].sig);
  EXPECT_TRUE(DsseVerify(*parsed, {k.a.public_key()}).ok());
}

TEST(Dsse, AcceptsUrlSafeAndUnpaddedBase64) {
  Keys k;
  auto envelope = DsseSign(kInTotoPayloadType, "\xfb\xff", {&k.a});
  ASSERT_TRUE(envelope.ok());
  Json json = envelope->ToJson();
  json["payload"] = Base64UrlEncode(envelope->payload);  // "-_8", no padding
  json["signatures"][0]["sig"] = Base64UrlEncode(envelope->signatures[0].sig);
  json["signatures"][0]["keyid"] = nullptr;  // as OMS v1.0 writes it
  auto parsed = DsseEnvelope::FromJson(json, "env");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->payload, "\xfb\xff");
  EXPECT_EQ(parsed->signatures[0].keyid, "");
  EXPECT_TRUE(DsseVerify(*parsed, {k.a.public_key()}).ok());
  std::string unpadded = Base64Encode(envelope->payload);
  unpadded.pop_back();  // "+/8"
  json["payload"] = unpadded;
  auto parsed2 = DsseEnvelope::FromJson(json, "env");
  ASSERT_TRUE(parsed2.ok());
  EXPECT_EQ(parsed2->payload, "\xfb\xff");
}

TEST(Dsse, RejectsMalformedEnvelopes) {
  const char* cases[] = {
      "[]",
      "{}",
      R"({"payload":"e30=","payloadType":"t"})",
      R"({"payload":"e30=","payloadType":"t","signatures":[]})",
      R"({"payload":"e30=","payloadType":"t","signatures":{}})",
      R"({"payload":"e30=","payloadType":"t","signatures":["x"]})",
      R"({"payload":"e30=","payloadType":"t","signatures":[{"keyid":"k"}]})",
      R"({"payload":"e30=","payloadType":"t","signatures":[{"sig":""}]})",
      R"({"payload":"e30=","payloadType":"t","signatures":[{"sig":"!!"}]})",
      R"({"payload":"e30=","payloadType":"t","signatures":[{"sig":"AA==","keyid":7}]})",
      R"({"payload":"e30","payloadType":7,"signatures":[{"sig":"AA=="}]})",
      R"({"payload":"e3-/","payloadType":"t","signatures":[{"sig":"AA=="}]})",
      R"({"payload":"e30=","payloadType":"","signatures":[{"sig":"AA=="}]})",
      R"({"payload":"e30=","payload":"e30=","payloadType":"t","signatures":[{"sig":"AA=="}]})",
      R"({"payload":"e30=","payloadType":"t","signatures":[{"sig":"AA=="}]} trailing)",
  };
  for (const char* text : cases) {
    auto parsed = DsseEnvelope::Parse(text, "bad.json");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.status().kind(), ErrorKind::kInvalidInput) << text;
    EXPECT_NE(parsed.status().message().find("bad.json"), std::string::npos)
        << parsed.status().message();
  }
  auto good = DsseEnvelope::Parse(
      R"({"payload":"e30=","payloadType":"t","signatures":[{"sig":"AA=="}]})", "good.json");
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  EXPECT_EQ(good->payload, "{}");
}

}  // namespace
}  // namespace graft

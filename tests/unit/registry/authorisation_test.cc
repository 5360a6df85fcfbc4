#include "registry/authorisation.h"

#include <gtest/gtest.h>

#include "core/dsse.h"
#include "core/encoding.h"

namespace graft::registry {
namespace {

TEST(Authorisation, RolesForEachChange) {
  using Roles = std::vector<std::string_view>;
  EXPECT_EQ(RolesFor("key.trust", Json::object()), Roles{"admin"});
  EXPECT_EQ(RolesFor("key.revoke", Json::object()), Roles{"admin"});
  EXPECT_EQ(RolesFor("channel.set", Json::object()), Roles{"release"});
  EXPECT_EQ(RolesFor("stage.set", Json::object()), Roles{"release"});
  EXPECT_EQ(RolesFor("policy.register", Json::object()), Roles{"curator"});
  EXPECT_EQ(RolesFor("dataset.revoke", Json::object()), Roles{"curator"});
  EXPECT_EQ(RolesFor("scores.register", Json::object()), Roles{"evaluator"});
  EXPECT_EQ(RolesFor("adapter.tag", Json::object()), (Roles{"curator", "trainer", "release"}));
  EXPECT_EQ(RolesFor("adapter.describe", Json::object()), (Roles{"curator", "trainer", "release"}));
  EXPECT_TRUE(RolesFor("adapter.register", {{"attested", 1}}).empty());
  EXPECT_EQ(RolesFor("adapter.register", {{"attested", 0}}), (Roles{"trainer", "curator"}));
  EXPECT_TRUE(RolesFor("attestation.add", Json::object()).empty());
  EXPECT_TRUE(RolesFor("adapter.promote", Json::object()).empty());
  EXPECT_EQ(AttestationRole("decision"), "evaluator");
  EXPECT_EQ(AttestationRole("approval"), "approver");
}

TEST(Authorisation, EventSignatureCoversTheCanonicalBodyWithoutItself) {
  PrivateKey key = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  Json event = {{"seq", 5},
                {"time", "2026-12-03T00:00:00.000Z"},
                {"actor", key.key_id()},
                {"action", "channel.set"},
                {"details", {{"channel", "bot@production"}, {"digest", "ab"}}}};
  const std::string unsigned_body = *CanonicalJson(event);
  ASSERT_TRUE(SignEvent(event, key).ok());
  EXPECT_EQ(**EventSigner(event), key.key_id());
  EXPECT_TRUE(VerifyEventSignature(event, key.public_key()));
  // Anyone can re-verify: the signature is over DSSE PAE(type, canonical body without it).
  std::string sig = *Base64Decode(event["signature"]["sig"].get<std::string>());
  EXPECT_TRUE(key.public_key().Verify(DssePae(kEventPayloadType, unsigned_body), sig));

  Json edited = event;
  edited["details"]["digest"] = "cd";
  EXPECT_FALSE(VerifyEventSignature(edited, key.public_key()));
  PrivateKey other = *PrivateKey::Generate(KeyAlgorithm::kEd25519);
  EXPECT_FALSE(VerifyEventSignature(event, other.public_key()));
  Json unsigned_event = {{"seq", 1}};
  EXPECT_FALSE(EventSigner(unsigned_event)->has_value());
  Json malformed = {{"signature", "x"}};
  EXPECT_FALSE(EventSigner(malformed).ok());
}

}  // namespace
}  // namespace graft::registry

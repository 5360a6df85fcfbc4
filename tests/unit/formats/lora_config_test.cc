// formats::LoraConfig::FromPeftJson, graft's one reader of adapter_config.json (registry intake
// and graft-model alike): PEFT's reading of lora_alpha and of unknown keys.
#include "formats/lora_config.h"

#include <gtest/gtest.h>

namespace graft::formats {
namespace {

Json Minimal() { return {{"peft_type", "LORA"}, {"r", 4}, {"target_modules", {"c_attn"}}}; }

TEST(LoraConfig, LoraAlphaIsPeftsDefaultWhenAbsentAndAnyNumberWhenPresent) {
  Result<LoraConfig> absent = LoraConfig::FromPeftJson(Minimal(), "adapter_config.json");
  ASSERT_TRUE(absent.ok()) << absent.status().ToString();
  EXPECT_EQ(absent->lora_alpha, 8.0);  // PEFT's LoraConfig default
  EXPECT_EQ(absent->Scaling(), 2.0);   // alpha / r
  EXPECT_EQ(absent->ToPeftJson()["lora_alpha"], 8);

  Json config = Minimal();
  config["lora_alpha"] = 16.5;
  EXPECT_EQ(LoraConfig::FromPeftJson(config, "c")->lora_alpha, 16.5);
  config["lora_alpha"] = -8;  // PEFT does not restrict the sign: scaling -2
  EXPECT_EQ(LoraConfig::FromPeftJson(config, "c")->Scaling(), -2.0);
  config["use_rslora"] = true;  // alpha / sqrt(r)
  EXPECT_EQ(LoraConfig::FromPeftJson(config, "c")->Scaling(), -4.0);

  for (const Json& bad : {Json("16"), Json(nullptr), Json(true)}) {
    config["lora_alpha"] = bad;
    Result<LoraConfig> refused = LoraConfig::FromPeftJson(config, "dir/adapter_config.json");
    ASSERT_FALSE(refused.ok()) << bad.dump();
    EXPECT_EQ(refused.status().message(),
              "dir/adapter_config.json: field \"lora_alpha\" must be a number");
  }
}

TEST(LoraConfig, UnknownKeysAreKeptSortedAndPeftKeysAreNotUnknown) {
  Json config = Minimal();
  config["zeta_key"] = 1;
  config["alpha_key"] = "x";
  config["use_dora"] = false;           // a PEFT key at its unused value
  config["exclude_modules"] = nullptr;  // a newer PEFT key, unused
  Result<LoraConfig> read = LoraConfig::FromPeftJson(config, "c");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->UnknownKeys(), (std::vector<std::string>{"alpha_key", "zeta_key"}));
  config["use_dora"] = true;
  EXPECT_FALSE(LoraConfig::FromPeftJson(config, "c").ok());
}

}  // namespace
}  // namespace graft::formats

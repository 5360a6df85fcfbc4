#include "tests/unit/trainer/toy_helpers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace graft::trainer::testing {

std::unique_ptr<models::CausalLM> TinyModel(uint64_t seed) {
  auto config = formats::ModelConfig::Preset(formats::Arch::kGpt2, "tiny");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  auto model = models::CausalLM::CreateRandom(*config, seed);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(model).value();
}

std::string ToyCorpus(int lines, int offset) {
  static const char* kWords[] = {"red fox", "blue owl", "green frog", "pale moth"};
  std::string out;
  for (int i = 0; i < lines; ++i) {
    const std::string word = kWords[(i + offset) % 4];
    out += "{\"text\": \"the " + word + " sees the " + word + ". the " + word + " sees the " +
           word + ".\"}\n";
  }
  return out;
}

Dataset ToyDataset(const models::CausalLM& model, int lines, int offset) {
  auto encoder = TextEncoder::For(model.tokenizer(), model.config().eos_token_id);
  EXPECT_TRUE(encoder.ok()) << encoder.status().ToString();
  auto data = Dataset::Parse(ToyCorpus(lines, offset), "toy.jsonl", *encoder);
  EXPECT_TRUE(data.ok()) << data.status().ToString();
  return std::move(data).value();
}

TrainConfig ToyConfig(const std::string& extra) {
  auto config = ParseTrainConfig(
      "lora: {r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: all-linear}\n"
      "optimizer: {lr: 1.0e-2}\n"
      "schedule: {warmup_steps: 2, kind: cosine}\n"
      "batch_size: 4\nmax_seq_len: 32\nthreads: 1\nseed: 5\n" +
          extra,
      "toy.yaml");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return std::move(config).value();
}

void WriteText(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace graft::trainer::testing

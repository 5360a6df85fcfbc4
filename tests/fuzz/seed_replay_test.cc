// Runs a fuzz target's entry function (LLVMFuzzerTestOneInput, compiled as a plain function) over
// its seed corpus in the normal build: the target's own checks abort on a violation.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

TEST(SeedReplay, EverySeedRunsCleanly) {
  namespace fs = std::filesystem;
  int seeds = 0;
  for (const auto& entry : fs::directory_iterator(GRAFT_FUZZ_CORPUS)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(entry.path().string());
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0);
    ++seeds;
  }
  EXPECT_GE(seeds, 2) << "seed corpus " << GRAFT_FUZZ_CORPUS;
}

}  // namespace

// Test helper: builds small directory trees for manifest and signature tests.
#pragma once

#include <filesystem>
#include <string_view>

namespace graft::testing {

// Writes `contents` to root/relative, creating parent directories; fails the test on error.
void PutFile(const std::filesystem::path& root, std::string_view relative,
             std::string_view contents);

}  // namespace graft::testing

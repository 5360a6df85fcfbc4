#include "tests/unit/core/tree_helpers.h"

#include <gtest/gtest.h>

#include "core/file_util.h"

namespace graft::testing {

void PutFile(const std::filesystem::path& root, std::string_view relative,
             std::string_view contents) {
  std::filesystem::path path = root / relative;
  std::filesystem::create_directories(path.parent_path());
  Status status = WriteFileAtomic(path, contents);
  ASSERT_TRUE(status.ok()) << status.ToString();
}

}  // namespace graft::testing

// The merge table of a BPE model and the merging of a word's symbols by rank.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace graft::tokenizer {

class BpeMerges {
 public:
  // Adds the merge of `left` and `right` into `result`; ranks are given in increasing order.
  void Add(int32_t left, int32_t right, int32_t result, int32_t rank);

  // Merges `symbols` in place: repeatedly the adjacent pair of lowest rank, leftmost first on
  // ties, as Hugging Face's BPE does.
  void Apply(std::vector<int32_t>& symbols) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t Key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(left) << 32) | static_cast<uint32_t>(right);
  }

  std::unordered_map<uint64_t, Merge> merges_;  // (left id, right id) -> merge
};

}  // namespace graft::tokenizer

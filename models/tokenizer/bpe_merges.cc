#include "models/tokenizer/bpe_merges.h"

#include <functional>
#include <queue>
#include <tuple>

namespace graft::tokenizer {

void BpeMerges::Add(int32_t left, int32_t right, int32_t result, int32_t rank) {
  merges_.emplace(Key(left, right), Merge{rank, result});
}

void BpeMerges::Apply(std::vector<int32_t>& symbols) const {
  if (symbols.size() < 2 || merges_.empty()) return;
  struct Symbol {
    int32_t id;
    int prev;
    int next;
  };
  std::vector<Symbol> list;
  list.reserve(symbols.size());
  for (size_t i = 0; i < symbols.size(); ++i) {
    list.push_back({symbols[i], static_cast<int>(i) - 1,
                    i + 1 < symbols.size() ? static_cast<int>(i) + 1 : -1});
  }
  using Candidate = std::tuple<int32_t, int, int32_t, int32_t>;  // rank, left, left id, right id
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int left) {
    if (left < 0 || list[left].next < 0) return;
    int32_t a = list[left].id, b = list[list[left].next].id;
    auto it = merges_.find(Key(a, b));
    if (it != merges_.end()) queue.emplace(it->second.rank, left, a, b);
  };
  for (size_t i = 0; i + 1 < list.size(); ++i) consider(static_cast<int>(i));
  std::vector<bool> dead(list.size(), false);
  while (!queue.empty()) {
    auto [rank, left, a, b] = queue.top();
    queue.pop();
    int right = list[left].next;
    if (dead[left] || right < 0 || list[left].id != a || list[right].id != b) continue;
    list[left].id = merges_.at(Key(a, b)).result;
    dead[right] = true;
    list[left].next = list[right].next;
    if (list[left].next >= 0) list[list[left].next].prev = left;
    consider(list[left].prev);
    consider(left);
  }
  symbols.clear();
  for (int i = 0; i >= 0; i = list[i].next) symbols.push_back(list[i].id);
}

}  // namespace graft::tokenizer

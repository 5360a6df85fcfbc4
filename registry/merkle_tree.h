// MerkleTree: RFC 6962 / RFC 9162 tree hashes, inclusion and consistency proofs, and their checks.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "core/sha256.h"
#include "core/status.h"

namespace graft::registry {

// SHA-256(0x00 || data).
Digest MerkleLeafHash(std::string_view data);
// SHA-256(0x01 || left || right).
Digest MerkleNodeHash(const Digest& left, const Digest& right);
// The hash of the empty tree: SHA-256("").
Digest MerkleEmptyRoot();

// Computes tree hashes and proofs over any store of *perfect* subtree hashes: `subtree(level,
// index)` is the hash of leaves [index * 2^level, (index + 1) * 2^level). RFC 6962's split
// (largest power of two smaller than n) only ever needs such aligned subtrees, so a store that
// keeps them answers any root or proof with O(log n) lookups.
class MerkleTree {
 public:
  using SubtreeFn = std::function<Result<Digest>(int level, uint64_t index)>;
  explicit MerkleTree(SubtreeFn subtree) : subtree_(std::move(subtree)) {}

  // MTH(D[0:size]).
  Result<Digest> RootHash(uint64_t size) const;
  // PATH(index, D[0:size]) (RFC 6962 2.1.1).
  Result<std::vector<Digest>> InclusionProof(uint64_t index, uint64_t size) const;
  // PROOF(old_size, D[0:new_size]) (RFC 6962 2.1.2).
  Result<std::vector<Digest>> ConsistencyProof(uint64_t old_size, uint64_t new_size) const;

 private:
  // MTH(D[start:start+size]) where start is a multiple of the largest power of two ≤ size.
  Result<Digest> RangeHash(uint64_t start, uint64_t size) const;
  Status Path(uint64_t index, uint64_t start, uint64_t size, std::vector<Digest>& out) const;
  Status SubProof(uint64_t m, uint64_t start, uint64_t size, bool complete,
                  std::vector<Digest>& out) const;
  SubtreeFn subtree_;
};

// Builds every level of a tree in memory from its leaf hashes (for tests and audits).
class InMemoryMerkleTree {
 public:
  void Append(const Digest& leaf_hash);
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  // The perfect subtree hash at (level, index), if that subtree is complete.
  Result<Digest> Subtree(int level, uint64_t index) const;
  // A tree over these levels; valid while this object lives.
  MerkleTree Tree() const;

 private:
  std::vector<std::vector<Digest>> levels_;
};

// RFC 9162 2.1.3.2: true when `proof` shows `leaf_hash` at `index` in the tree of `size` with
// root `root`.
bool VerifyInclusion(const Digest& leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<Digest>& proof, const Digest& root);
// RFC 9162 2.1.4.2: true when `proof` shows the tree of `old_size` with root `old_root` is a
// prefix of the tree of `new_size` with root `new_root`.
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Digest& old_root,
                       const Digest& new_root, const std::vector<Digest>& proof);

}  // namespace graft::registry

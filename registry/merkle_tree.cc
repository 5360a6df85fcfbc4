#include "registry/merkle_tree.h"

#include <bit>

namespace graft::registry {

namespace {

// The largest power of two strictly smaller than n (n ≥ 2).
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

}  // namespace

Digest MerkleLeafHash(std::string_view data) {
  Sha256 hasher;
  hasher.Update(std::string_view("\0", 1));
  hasher.Update(data);
  return hasher.Finish();
}

Digest MerkleNodeHash(const Digest& left, const Digest& right) {
  Sha256 hasher;
  hasher.Update(std::string_view("\1", 1));
  hasher.Update(std::span<const uint8_t>(left));
  hasher.Update(std::span<const uint8_t>(right));
  return hasher.Finish();
}

Digest MerkleEmptyRoot() { return Sha256::Of(std::string_view()); }

Result<Digest> MerkleTree::RangeHash(uint64_t start, uint64_t size) const {
  if (std::has_single_bit(size)) return subtree_(std::countr_zero(size), start / size);
  uint64_t k = SplitPoint(size);
  GRAFT_ASSIGN_OR_RETURN(Digest left, subtree_(std::countr_zero(k), start / k));
  GRAFT_ASSIGN_OR_RETURN(Digest right, RangeHash(start + k, size - k));
  return MerkleNodeHash(left, right);
}

Result<Digest> MerkleTree::RootHash(uint64_t size) const {
  if (size == 0) return MerkleEmptyRoot();
  return RangeHash(0, size);
}

Status MerkleTree::Path(uint64_t index, uint64_t start, uint64_t size,
                        std::vector<Digest>& out) const {
  if (size <= 1) return Status::Ok();
  uint64_t k = SplitPoint(size);
  if (index < k) {
    GRAFT_RETURN_IF_ERROR(Path(index, start, k, out));
    GRAFT_ASSIGN_OR_RETURN(Digest right, RangeHash(start + k, size - k));
    out.push_back(right);
  } else {
    GRAFT_RETURN_IF_ERROR(Path(index - k, start + k, size - k, out));
    GRAFT_ASSIGN_OR_RETURN(Digest left, RangeHash(start, k));
    out.push_back(left);
  }
  return Status::Ok();
}

Result<std::vector<Digest>> MerkleTree::InclusionProof(uint64_t index, uint64_t size) const {
  if (index >= size) {
    return InvalidInput("leaf " + std::to_string(index) + " is not in a tree of size " +
                        std::to_string(size));
  }
  std::vector<Digest> out;
  GRAFT_RETURN_IF_ERROR(Path(index, 0, size, out));
  return out;
}

Status MerkleTree::SubProof(uint64_t m, uint64_t start, uint64_t size, bool complete,
                            std::vector<Digest>& out) const {
  if (m == size) {
    if (!complete) {
      GRAFT_ASSIGN_OR_RETURN(Digest hash, RangeHash(start, size));
      out.push_back(hash);
    }
    return Status::Ok();
  }
  uint64_t k = SplitPoint(size);
  if (m <= k) {
    GRAFT_RETURN_IF_ERROR(SubProof(m, start, k, complete, out));
    GRAFT_ASSIGN_OR_RETURN(Digest right, RangeHash(start + k, size - k));
    out.push_back(right);
  } else {
    GRAFT_RETURN_IF_ERROR(SubProof(m - k, start + k, size - k, false, out));
    GRAFT_ASSIGN_OR_RETURN(Digest left, RangeHash(start, k));
    out.push_back(left);
  }
  return Status::Ok();
}

Result<std::vector<Digest>> MerkleTree::ConsistencyProof(uint64_t old_size,
                                                         uint64_t new_size) const {
  if (old_size > new_size) {
    return InvalidInput("a tree of size " + std::to_string(old_size) +
                        " cannot be a prefix of one of size " + std::to_string(new_size));
  }
  std::vector<Digest> out;
  if (old_size == 0 || old_size == new_size) return out;
  GRAFT_RETURN_IF_ERROR(SubProof(old_size, 0, new_size, true, out));
  return out;
}

void InMemoryMerkleTree::Append(const Digest& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  size_t level = 0;
  uint64_t index = levels_[0].size() - 1;
  while (index % 2 == 1) {
    if (levels_.size() <= level + 1) levels_.emplace_back();
    levels_[level + 1].push_back(MerkleNodeHash(levels_[level][index - 1], levels_[level][index]));
    ++level;
    index /= 2;
  }
}

Result<Digest> InMemoryMerkleTree::Subtree(int level, uint64_t index) const {
  if (level < 0 || static_cast<size_t>(level) >= levels_.size() ||
      index >= levels_[static_cast<size_t>(level)].size()) {
    return InternalError("subtree (" + std::to_string(level) + ", " + std::to_string(index) +
                         ") is not complete");
  }
  return levels_[static_cast<size_t>(level)][index];
}

MerkleTree InMemoryMerkleTree::Tree() const {
  return MerkleTree([this](int level, uint64_t index) { return Subtree(level, index); });
}

bool VerifyInclusion(const Digest& leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<Digest>& proof, const Digest& root) {
  if (index >= size) return false;
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Digest r = leaf_hash;
  for (const Digest& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = MerkleNodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Digest& old_root,
                       const Digest& new_root, const std::vector<Digest>& proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty();
  if (proof.empty()) return false;
  std::vector<Digest> path = proof;
  // If old_size is a power of two, the old root itself starts the path.
  if (std::has_single_bit(old_size)) path.insert(path.begin(), old_root);
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Digest fr = path[0];
  Digest sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Digest& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = MerkleNodeHash(c, fr);
      sr = MerkleNodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = MerkleNodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

}  // namespace graft::registry

#include "registry/merkle_tree.h"

#include <gtest/gtest.h>

#include "core/encoding.h"

namespace graft::registry {
namespace {

// The RFC 6962 test leaves used by certificate-transparency's reference tests.
const std::vector<std::string> kLeaves = {
    "",
    std::string("\x00", 1),
    "\x10",
    "\x20\x21",
    "\x30\x31",
    "\x40\x41\x42\x43",
    "\x50\x51\x52\x53\x54\x55\x56\x57",
    "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};

const char* kRoots[] = {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
                        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
                        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
                        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
                        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
                        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};

InMemoryMerkleTree TreeOf(size_t n) {
  InMemoryMerkleTree tree;
  for (size_t i = 0; i < n; ++i)
    tree.Append(MerkleLeafHash(kLeaves[i % kLeaves.size()] + std::to_string(i / kLeaves.size())));
  return tree;
}

InMemoryMerkleTree Rfc6962Tree() {
  InMemoryMerkleTree tree;
  for (const auto& leaf : kLeaves) tree.Append(MerkleLeafHash(leaf));
  return tree;
}

std::vector<std::string> Hex(const std::vector<Digest>& digests) {
  std::vector<std::string> out;
  for (const auto& d : digests) out.push_back(DigestHex(d));
  return out;
}

TEST(MerkleTree, EmptyTreeIsSha256OfNothing) {
  EXPECT_EQ(DigestHex(MerkleEmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  InMemoryMerkleTree tree;
  EXPECT_EQ(DigestHex(*tree.Tree().RootHash(0)), DigestHex(MerkleEmptyRoot()));
}

TEST(MerkleTree, Rfc6962RootsForSizesOneToEight) {
  InMemoryMerkleTree tree = Rfc6962Tree();
  for (uint64_t size = 1; size <= 8; ++size) {
    EXPECT_EQ(DigestHex(*tree.Tree().RootHash(size)), kRoots[size - 1]) << size;
  }
}

TEST(MerkleTree, Rfc6962InclusionProofs) {
  InMemoryMerkleTree memory = Rfc6962Tree();
  MerkleTree tree = memory.Tree();
  EXPECT_EQ(Hex(*tree.InclusionProof(0, 8)),
            (std::vector<std::string>{
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}));
  EXPECT_EQ(Hex(*tree.InclusionProof(5, 8)),
            (std::vector<std::string>{
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}));
  EXPECT_TRUE(tree.InclusionProof(0, 1)->empty());
  EXPECT_FALSE(tree.InclusionProof(8, 8).ok());
}

TEST(MerkleTree, Rfc6962ConsistencyProofs) {
  InMemoryMerkleTree memory = Rfc6962Tree();
  MerkleTree tree = memory.Tree();
  EXPECT_EQ(Hex(*tree.ConsistencyProof(6, 8)),
            (std::vector<std::string>{
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}));
  EXPECT_EQ(Hex(*tree.ConsistencyProof(2, 5)),
            (std::vector<std::string>{
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}));
  EXPECT_TRUE(tree.ConsistencyProof(8, 8)->empty());
  EXPECT_FALSE(tree.ConsistencyProof(9, 8).ok());
}

TEST(MerkleTree, EveryInclusionProofUpTo70LeavesVerifiesAndTamperingFails) {
  InMemoryMerkleTree memory = TreeOf(70);
  MerkleTree tree = memory.Tree();
  for (uint64_t size = 1; size <= 70; ++size) {
    Digest root = *tree.RootHash(size);
    for (uint64_t index = 0; index < size; ++index) {
      Digest leaf = *memory.Subtree(0, index);
      std::vector<Digest> proof = *tree.InclusionProof(index, size);
      ASSERT_TRUE(VerifyInclusion(leaf, index, size, proof, root)) << index << "/" << size;
      if (size > 1) {
        EXPECT_FALSE(VerifyInclusion(leaf, (index + 1) % size, size, proof, root));
        std::vector<Digest> bad = proof;
        bad[0][0] ^= 1;
        EXPECT_FALSE(VerifyInclusion(leaf, index, size, bad, root));
        bad = proof;
        bad.pop_back();
        EXPECT_FALSE(VerifyInclusion(leaf, index, size, bad, root));
      }
      Digest other = leaf;
      other[31] ^= 0x80;
      EXPECT_FALSE(VerifyInclusion(other, index, size, proof, root));
    }
  }
}

TEST(MerkleTree, EveryConsistencyProofUpTo40LeavesVerifiesAndTamperingFails) {
  InMemoryMerkleTree memory = TreeOf(40);
  MerkleTree tree = memory.Tree();
  InMemoryMerkleTree rewritten;
  for (int i = 0; i < 40; ++i) rewritten.Append(MerkleLeafHash("rewritten" + std::to_string(i)));
  for (uint64_t n = 1; n <= 40; ++n) {
    Digest new_root = *tree.RootHash(n);
    for (uint64_t m = 1; m <= n; ++m) {
      Digest old_root = *tree.RootHash(m);
      std::vector<Digest> proof = *tree.ConsistencyProof(m, n);
      ASSERT_TRUE(VerifyConsistency(m, n, old_root, new_root, proof)) << m << "->" << n;
      // A root from a rewritten history is not consistent.
      Digest other_root = *rewritten.Tree().RootHash(m);
      EXPECT_FALSE(VerifyConsistency(m, n, other_root, new_root, proof)) << m << "->" << n;
      if (!proof.empty()) {
        std::vector<Digest> bad = proof;
        bad.back()[5] ^= 1;
        EXPECT_FALSE(VerifyConsistency(m, n, old_root, new_root, bad));
      }
    }
  }
}

TEST(MerkleTree, SubtreeStoreAnswersWithAlignedLookupsOnly) {
  InMemoryMerkleTree memory = TreeOf(1000);
  int lookups = 0;
  MerkleTree counting([&](int level, uint64_t index) {
    ++lookups;
    EXPECT_LT(index << level, 1000u);
    return memory.Subtree(level, index);
  });
  ASSERT_TRUE(counting.RootHash(1000).ok());
  EXPECT_LE(lookups, 10);  // one perfect subtree per set bit of 1000
  lookups = 0;
  ASSERT_TRUE(counting.InclusionProof(777, 1000).ok());
  EXPECT_LE(lookups, 40);
}

}  // namespace
}  // namespace graft::registry

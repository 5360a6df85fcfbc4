#include "core/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "core/encoding.h"
#include "core/file_util.h"

namespace graft {
namespace {

using ::testing::HasSubstr;

// A safetensors file built by hand per the format: 8-byte little-endian header length, header,
// data.
std::string Build(std::string_view header, std::string_view data) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  out += header;
  out += data;
  return out;
}

Result<SafetensorsFile> Read(const std::string& bytes) {
  return SafetensorsFile::FromBuffer(AsBytes(bytes), "t.safetensors");
}

// Expects `bytes` to be refused with a message containing each of `parts`.
void ExpectRejected(const std::string& bytes, std::initializer_list<std::string_view> parts) {
  auto file = Read(bytes);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().kind(), ErrorKind::kInvalidInput);
  EXPECT_THAT(file.status().message(), HasSubstr("t.safetensors"));
  for (std::string_view part : parts) {
    EXPECT_THAT(file.status().message(), HasSubstr(std::string(part)));
  }
}

std::string Bytes(size_t n, char first = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(first + i);
  return s;
}

TEST(Safetensors, DTypeNamesAndSizes) {
  const std::pair<std::string_view, size_t> expected[] = {{"F32", 4}, {"F16", 2}, {"BF16", 2},
                                                          {"F64", 8}, {"I64", 8}, {"I32", 4},
                                                          {"I8", 1},  {"U8", 1},  {"BOOL", 1}};
  for (const auto& [name, size] : expected) {
    auto dtype = ParseDType(name);
    ASSERT_TRUE(dtype.ok()) << name;
    EXPECT_EQ(DTypeName(*dtype), name);
    EXPECT_EQ(DTypeSize(*dtype), size) << name;
  }
  EXPECT_FALSE(ParseDType("F8_E4M3").ok());
  EXPECT_FALSE(ParseDType("f32").ok());
}

TEST(Safetensors, ReadsHandBuiltFileLikeTheReferenceWritesIt) {
  // What the reference writes for {"a": F32 [2], "b": U8 [3]} with metadata: header padded with
  // spaces to a multiple of 8, data contiguous.
  std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string data = Bytes(11, 1);
  std::string bytes = Build(header, data);
  auto file = Read(bytes);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  const TensorView* a = file->Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->dtype, DType::kF32);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2}));
  EXPECT_EQ(a->NumElements(), 2);
  EXPECT_EQ(AsChars(a->data), data.substr(0, 8));
  // Zero copy: the view points into the buffer.
  EXPECT_EQ(reinterpret_cast<const char*>(a->data.data()), bytes.data() + 8 + header.size());
  const TensorView* b = file->Find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(AsChars(b->data), data.substr(8, 3));
  EXPECT_EQ(file->Find("c"), nullptr);
}

TEST(Safetensors, WritesTheExactBytesOfTheSpec) {
  std::string data = Bytes(8, 1);
  auto bytes = SerializeSafetensors({{"w", DType::kF32, {2}, AsBytes(data)}}, {{"k", "v"}});
  ASSERT_TRUE(bytes.ok());
  std::string header =
      R"({"__metadata__":{"k":"v"},"w":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  EXPECT_EQ(*bytes, Build(header, data));
  EXPECT_EQ((bytes->size() - data.size()) % 8, 0u);
}

TEST(Safetensors, EmptyFileHasEmptyHeaderObject) {
  auto bytes = SerializeSafetensors({});
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, Build("{}      ", ""));
  auto file = Read(*bytes);
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->tensors().empty());
  EXPECT_TRUE(file->metadata().empty());
}

TEST(Safetensors, RoundTripsEveryDTypeAndMetadataThroughAFile) {
  std::vector<std::string> payloads;
  std::vector<TensorToWrite> tensors;
  const DType dtypes[] = {DType::kBool, DType::kU8,  DType::kI8,  DType::kF16, DType::kBF16,
                          DType::kI32,  DType::kF32, DType::kI64, DType::kF64};
  payloads.reserve(std::size(dtypes) + 1);
  for (DType dtype : dtypes) {
    // Odd element counts so small dtypes would misalign larger ones if laid out by name alone.
    payloads.push_back(Bytes(3 * DTypeSize(dtype), static_cast<char>(DTypeSize(dtype))));
    tensors.push_back(
        {"t_" + std::string(DTypeName(dtype)), dtype, {3, 1}, AsBytes(payloads.back())});
  }
  payloads.push_back("");
  tensors.push_back({"empty", DType::kF32, {0, 4}, AsBytes(payloads.back())});
  tensors.push_back({"scalar", DType::kI32, {}, AsBytes(std::string_view("\x01\x02\x03\x04"))});
  std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "ünïcode"}};

  TempDir dir;
  auto path = dir.path() / "m.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, tensors, metadata).ok());
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->metadata(), metadata);
  ASSERT_EQ(file->tensors().size(), tensors.size());
  for (size_t i = 1; i < file->tensors().size(); ++i) {
    EXPECT_LT(file->tensors()[i - 1].name, file->tensors()[i].name);
  }
  for (const TensorToWrite& t : tensors) {
    const TensorView* view = file->Find(t.name);
    ASSERT_NE(view, nullptr) << t.name;
    EXPECT_EQ(view->dtype, t.dtype);
    EXPECT_EQ(view->shape, t.shape);
    EXPECT_EQ(AsChars(view->data), AsChars(t.data)) << t.name;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(view->data.data()) % DTypeSize(t.dtype), 0u) << t.name;
  }
  EXPECT_EQ(file->Find("empty")->NumElements(), 0);
  EXPECT_EQ(file->Find("scalar")->NumElements(), 1);

  // Views stay valid when the file object moves.
  const uint8_t* before = file->Find("t_F64")->data.data();
  SafetensorsFile moved = std::move(file).value();
  EXPECT_EQ(moved.Find("t_F64")->data.data(), before);
  EXPECT_EQ(moved.Find("t_F64")->data[0], 8);
}

TEST(Safetensors, SerialisationIsDeterministicAndOrderIndependent) {
  std::string x = Bytes(4), y = Bytes(6);
  std::vector<TensorToWrite> forward = {{"x", DType::kF32, {1}, AsBytes(x)},
                                        {"y", DType::kF16, {3}, AsBytes(y)}};
  std::vector<TensorToWrite> backward = {forward[1], forward[0]};
  auto a = SerializeSafetensors(forward, {{"a", "1"}, {"b", "2"}});
  auto b = SerializeSafetensors(backward, {{"b", "2"}, {"a", "1"}});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *SerializeSafetensors(forward, {{"a", "1"}, {"b", "2"}}));
}

TEST(Safetensors, WriterRejectsBadTensors) {
  std::string four = Bytes(4);
  EXPECT_FALSE(SerializeSafetensors({{"a", DType::kF32, {2}, AsBytes(four)}}).ok());
  EXPECT_FALSE(SerializeSafetensors({{"a", DType::kU8, {-4}, AsBytes(four)}}).ok());
  EXPECT_FALSE(SerializeSafetensors({{"__metadata__", DType::kU8, {4}, AsBytes(four)}}).ok());
  auto twice = SerializeSafetensors(
      {{"a", DType::kU8, {4}, AsBytes(four)}, {"a", DType::kU8, {4}, AsBytes(four)}});
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("\"a\""));
}

TEST(Safetensors, OpenReportsMissingAndEmptyFiles) {
  TempDir dir;
  auto missing = SafetensorsFile::Open(dir.path() / "nope.safetensors");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), ErrorKind::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(dir.path() / "empty.safetensors", "").ok());
  auto empty = SafetensorsFile::Open(dir.path() / "empty.safetensors");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.status().message(), HasSubstr("empty.safetensors"));
  EXPECT_THAT(empty.status().message(), HasSubstr("truncated"));
  EXPECT_FALSE(SafetensorsFile::Open(dir.path()).ok());  // a directory
}

TEST(Safetensors, RejectsTruncatedFiles) {
  std::string good = *SerializeSafetensors({{"a", DType::kF32, {2}, AsBytes(Bytes(8))}});
  ExpectRejected("", {"truncated"});
  ExpectRejected(good.substr(0, 7), {"truncated"});
  ExpectRejected(good.substr(0, 8), {"header length"});                  // header missing
  ExpectRejected(good.substr(0, good.size() - 8), {"\"a\"", "beyond"});  // data missing
  ExpectRejected(good.substr(0, good.size() - 1), {"\"a\"", "beyond"});
}

TEST(Safetensors, RejectsHeaderLengthBeyondFileAndOverLimit) {
  std::string bytes = Build("{}", "");
  bytes[0] = 3;  // claims 3 bytes, file holds 2
  ExpectRejected(bytes, {"header length 3", "past the end"});
  std::string huge(8, '\0');
  uint64_t claim = kMaxSafetensorsHeaderBytes + 1;
  for (int i = 0; i < 8; ++i) huge[i] = static_cast<char>((claim >> (8 * i)) & 0xff);
  ExpectRejected(huge + "{}", {"exceeds the limit"});
  std::string max(8, '\xff');
  ExpectRejected(max + "{}", {"exceeds the limit"});
}

TEST(Safetensors, RejectsBadHeaderJson) {
  ExpectRejected(Build("not json", ""), {"not valid JSON"});
  ExpectRejected(Build("[1, 2]", ""), {"not a JSON object"});
  ExpectRejected(Build("{\"a\":", ""), {"not valid JSON"});
  ExpectRejected(Build("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}} x", "z"),
                 {"not valid JSON"});
  ExpectRejected(Build("{\"\xff\":1}", ""), {"not valid JSON"});  // invalid UTF-8
  ExpectRejected(Build(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                       R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                       "zz"),
                 {"duplicate key \"a\""});
}

TEST(Safetensors, RejectsBadMetadata) {
  ExpectRejected(Build(R"({"__metadata__":{"n":1}})", ""), {"__metadata__", "\"n\""});
  ExpectRejected(Build(R"({"__metadata__":["x"]})", ""), {"__metadata__"});
}

TEST(Safetensors, RejectsBadEntries) {
  auto entry = [](std::string_view body, std::string_view data = "") {
    return Build("{\"w\":" + std::string(body) + "}", data);
  };
  ExpectRejected(entry("1"), {"tensor \"w\"", "JSON object"});
  ExpectRejected(entry(R"({"dtype":"F8","shape":[1],"data_offsets":[0,1]})", "x"),
                 {"tensor \"w\"", "unsupported dtype \"F8\""});
  ExpectRejected(entry(R"({"dtype":5,"shape":[1],"data_offsets":[0,1]})", "x"), {"dtype"});
  ExpectRejected(entry(R"({"shape":[1],"data_offsets":[0,1]})", "x"), {"exactly"});
  ExpectRejected(entry(R"({"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1})", "x"),
                 {"unexpected field \"extra\""});
  ExpectRejected(entry(R"({"dtype":"U8","shape":1,"data_offsets":[0,1]})", "x"), {"shape"});
  ExpectRejected(entry(R"({"dtype":"U8","shape":[1.0],"data_offsets":[0,1]})", "x"), {"shape"});
  ExpectRejected(entry(R"({"dtype":"U8","shape":[1],"data_offsets":[0]})", "x"), {"data_offsets"});
  ExpectRejected(entry(R"({"dtype":"U8","shape":[1],"data_offsets":[-1,0]})", "x"),
                 {"data_offsets"});
  ExpectRejected(entry(R"({"dtype":"U8","shape":[1],"data_offsets":"0,1"})", "x"),
                 {"data_offsets"});
}

TEST(Safetensors, RejectsNegativeAndOverflowingShapes) {
  ExpectRejected(Build(R"({"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}})", ""),
                 {"tensor \"w\"", "negative"});
  ExpectRejected(
      Build(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", ""),
      {"tensor \"w\"", "overflows"});
  // The element count fits int64 but the byte count does not.
  ExpectRejected(
      Build(R"({"w":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})", ""),
      {"overflows"});
  // Overflow before a zero dimension is still an overflow, as in the reference implementation.
  ExpectRejected(
      Build(R"({"w":{"dtype":"U8","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}})", ""),
      {"overflows"});
  ExpectRejected(
      Build(R"({"w":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,0]}})", ""),
      {"not a non-negative 64-bit integer"});
}

TEST(Safetensors, RejectsWrongSizeForShape) {
  ExpectRejected(Build(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcd"),
                 {"tensor \"w\"", "hold 4 bytes", "needs 8"});
  ExpectRejected(Build(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[0,4]}})", "abcd"),
                 {"needs 0"});
}

TEST(Safetensors, RejectsOffsetsOutOfRange) {
  ExpectRejected(Build(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})", "abcd"),
                 {"tensor \"w\"", "beyond the data section (4 bytes)"});
  ExpectRejected(Build(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[4,2]}})", "abcd"),
                 {"end before begin"});
  ExpectRejected(
      Build(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[18446744073709551615,0]}})", "a"),
      {"tensor \"w\""});
}

TEST(Safetensors, RejectsOverlappingTensors) {
  ExpectRejected(Build(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
                       "abcd"),
                 {"tensor \"b\" overlaps tensor \"a\""});
  ExpectRejected(Build(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
                       "abcd"),
                 {"overlaps"});
  // An empty tensor inside another one's bytes.
  ExpectRejected(Build(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"U8","shape":[0],"data_offsets":[2,2]}})",
                       "abcd"),
                 {"\"b\" overlaps"});
}

TEST(Safetensors, RejectsMisalignedTensors) {
  ExpectRejected(Build(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                       "abcdef"),
                 {"tensor \"b\"", "not aligned to the 4-byte size of F32"});
}

TEST(Safetensors, RejectsGaps) {
  ExpectRejected(Build(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})", "abcd"),
                 {"bytes [0, 2)", "belong to no tensor", "\"a\""});
  ExpectRejected(Build(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", "abcd"),
                 {"bytes [2, 4)", "belong to no tensor"});
  ExpectRejected(Build("{}", "x"), {"bytes [0, 1)"});
}

TEST(Safetensors, AcceptsEmptyTensorsAtBoundaries) {
  auto file = Read(Build(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                         R"("b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                         R"("c":{"dtype":"F32","shape":[0,3],"data_offsets":[2,2]}})",
                         "ab"));
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->tensors().size(), 3u);
  EXPECT_TRUE(file->Find("c")->data.empty());
}

}  // namespace
}  // namespace graft

#include "core/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <tuple>
#include <utility>

#include "core/encoding.h"
#include "core/file_descriptor.h"
#include "core/file_util.h"
#include "core/json.h"

namespace graft {
namespace {

constexpr DType kAllDTypes[] = {DType::kF32, DType::kF16, DType::kBF16, DType::kF64, DType::kI64,
                                DType::kI32, DType::kI8,  DType::kU8,   DType::kBool};
constexpr std::string_view kMetadataKey = "__metadata__";

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Product of dims times `element_size`, or nullopt on a negative dim or an overflow of int64.
std::optional<uint64_t> ByteSize(const std::vector<int64_t>& shape, size_t element_size) {
  int64_t n = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || __builtin_mul_overflow(n, dim, &n)) return std::nullopt;
  }
  int64_t bytes = 0;
  if (__builtin_mul_overflow(n, static_cast<int64_t>(element_size), &bytes)) return std::nullopt;
  return static_cast<uint64_t>(bytes);
}

struct Entry {
  TensorView view;
  uint64_t begin;
  uint64_t end;
};

// Parses one tensor entry of the header; `data_size` is the length of the data section.
Result<Entry> ParseEntry(const std::string& name, const Json& value, uint64_t data_size,
                         const std::string& where) {
  auto bad = [&](const std::string& why) { return InvalidInput(where + ": " + why); };
  if (!value.is_object()) return bad("entry must be a JSON object");
  for (const auto& [key, unused] : value.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      return bad("unexpected field " + Quote(key));
    }
  }
  if (value.size() != 3) return bad("needs exactly the fields dtype, shape and data_offsets");
  const Json& dtype_json = value["dtype"];
  if (!dtype_json.is_string()) return bad("dtype must be a string");
  Result<DType> dtype = ParseDType(dtype_json.get_ref<const std::string&>());
  if (!dtype.ok()) return bad(dtype.status().message());

  const Json& shape_json = value["shape"];
  if (!shape_json.is_array()) return bad("shape must be an array of integers");
  Entry entry{TensorView{name, *dtype, {}, {}}, 0, 0};
  for (const Json& dim : shape_json) {
    if (dim.is_number_integer() && !dim.is_number_unsigned()) {
      return bad("shape has a negative dimension " + dim.dump());
    }
    if (!dim.is_number_unsigned() ||
        dim.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return bad("shape dimension " + dim.dump() + " is not a non-negative 64-bit integer");
    }
    entry.view.shape.push_back(static_cast<int64_t>(dim.get<uint64_t>()));
  }
  std::optional<uint64_t> bytes = ByteSize(entry.view.shape, DTypeSize(*dtype));
  if (!bytes) return bad("shape " + shape_json.dump() + " overflows");

  const Json& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned()) {
    return bad("data_offsets must be two non-negative integers");
  }
  entry.begin = offsets[0].get<uint64_t>();
  entry.end = offsets[1].get<uint64_t>();
  std::string range =
      "data_offsets [" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + "]";
  if (entry.begin > entry.end) return bad(range + " end before begin");
  if (entry.end > data_size) {
    return bad(range + " beyond the data section (" + std::to_string(data_size) + " bytes)");
  }
  if (entry.end - entry.begin != *bytes) {
    return bad(range + " hold " + std::to_string(entry.end - entry.begin) + " bytes but " +
               std::string(DTypeName(*dtype)) + " " + shape_json.dump() + " needs " +
               std::to_string(*bytes));
  }
  // An empty tensor has no bytes to align.
  if (entry.end > entry.begin && entry.begin % DTypeSize(*dtype) != 0) {
    return bad(range + " not aligned to the " + std::to_string(DTypeSize(*dtype)) +
               "-byte size of " + std::string(DTypeName(*dtype)));
  }
  return entry;
}

Result<std::map<std::string, std::string>> ParseMetadata(const Json& value,
                                                         const std::string& source) {
  std::string where = source + ": " + std::string(kMetadataKey);
  if (!value.is_object()) return InvalidInput(where + " must be an object of strings");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string())
      return InvalidInput(where + ": value of " + Quote(key) + " is not a string");
    metadata.emplace(key, item.get<std::string>());
  }
  return metadata;
}

// Checks that the entries tile the data section exactly: no overlap, no gap, no trailing bytes.
Status CheckCoverage(std::vector<const Entry*> entries, uint64_t data_size,
                     const std::string& source) {
  std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->begin, a->end, a->view.name) < std::tie(b->begin, b->end, b->view.name);
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry* e : entries) {
    if (e->begin < covered) {
      return InvalidInput(source + ": tensor " + Quote(e->view.name) + " overlaps tensor " +
                          Quote(previous->view.name));
    }
    if (e->begin > covered) {
      return InvalidInput(source + ": bytes [" + std::to_string(covered) + ", " +
                          std::to_string(e->begin) + ") of the data section belong to no tensor" +
                          " (before tensor " + Quote(e->view.name) + ")");
    }
    covered = e->end;
    previous = e;
  }
  if (covered != data_size) {
    return InvalidInput(source + ": bytes [" + std::to_string(covered) + ", " +
                        std::to_string(data_size) + ") of the data section belong to no tensor");
  }
  return Status::Ok();
}

}  // namespace

std::string_view DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
    case DType::kF64:
      return "F64";
    case DType::kI64:
      return "I64";
    case DType::kI32:
      return "I32";
    case DType::kI8:
      return "I8";
    case DType::kU8:
      return "U8";
    case DType::kBool:
      return "BOOL";
  }
  return "?";
}

Result<DType> ParseDType(std::string_view name) {
  for (DType dtype : kAllDTypes) {
    if (DTypeName(dtype) == name) return dtype;
  }
  return InvalidInput("unsupported dtype " + Quote(name));
}

Result<DType> ParseBaseDType(std::string_view name) {
  if (name == "f32") return DType::kF32;
  if (name == "bf16") return DType::kBF16;
  if (name == "f16") return DType::kF16;
  if (name == "q8_0") return DType::kI8;
  return InvalidInput("unknown dtype '" + std::string(name) +
                      "' (expected f32, bf16, f16 or q8_0)");
}

std::string_view BaseDTypeName(DType dtype) {
  switch (dtype) {
    case DType::kBF16:
      return "bf16";
    case DType::kF16:
      return "f16";
    case DType::kI8:
      return "q8_0";
    default:
      return "f32";
  }
}

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF64:
    case DType::kI64:
      return 8;
    case DType::kF32:
    case DType::kI32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
      return 2;
    case DType::kI8:
    case DType::kU8:
    case DType::kBool:
      return 1;
  }
  return 1;
}

int64_t TensorView::NumElements() const {
  int64_t n = 1;
  for (int64_t dim : shape) n *= dim;  // validated not to overflow when the file was read
  return n;
}

// A read-only memory mapping of a whole file, unmapped on destruction.
struct SafetensorsFile::Mapping {
  void* address = nullptr;
  size_t size = 0;

  Mapping(void* a, size_t s) : address(a), size(s) {}
  ~Mapping() { ::munmap(address, size); }
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
};

SafetensorsFile::SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

Result<SafetensorsFile> SafetensorsFile::Open(const std::filesystem::path& path) {
  const std::string source = path.string();
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return NotFound("no such file: " + source);
    return IoError("cannot open " + source + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    return IoError("cannot stat " + source + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return InvalidInput(source + ": not a regular file");
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    return InvalidInput(source + ": truncated (" + std::to_string(size) +
                        " bytes, a safetensors file needs at least 8)");
  }
  void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (address == MAP_FAILED) return IoError("cannot map " + source + ": " + std::strerror(errno));
  auto mapping = std::make_unique<Mapping>(address, size);
  GRAFT_ASSIGN_OR_RETURN(
      SafetensorsFile file,
      FromBuffer({static_cast<const uint8_t*>(mapping->address), mapping->size}, source));
  file.mapping_ = std::move(mapping);
  return file;
}

Result<SafetensorsFile> SafetensorsFile::FromBuffer(std::span<const uint8_t> bytes,
                                                    std::string_view source_name) {
  const std::string source(source_name);
  if (bytes.size() < 8) {
    return InvalidInput(source + ": truncated (" + std::to_string(bytes.size()) +
                        " bytes, a safetensors file needs at least 8)");
  }
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | bytes[i];
  if (header_size > kMaxSafetensorsHeaderBytes) {
    return InvalidInput(source + ": header length " + std::to_string(header_size) +
                        " exceeds the limit of " + std::to_string(kMaxSafetensorsHeaderBytes) +
                        " bytes");
  }
  if (header_size > bytes.size() - 8) {
    return InvalidInput(source + ": header length " + std::to_string(header_size) +
                        " runs past the end of the file (" + std::to_string(bytes.size()) +
                        " bytes)");
  }
  GRAFT_ASSIGN_OR_RETURN(Json header,
                         ParseJson(AsChars(bytes.subspan(8, header_size)), source + " header"));
  if (!header.is_object()) return InvalidInput(source + ": header is not a JSON object");

  std::span<const uint8_t> data = bytes.subspan(8 + header_size);
  SafetensorsFile file;
  std::vector<Entry> entries;
  entries.reserve(header.size());
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey) {
      GRAFT_ASSIGN_OR_RETURN(file.metadata_, ParseMetadata(value, source));
      continue;
    }
    GRAFT_ASSIGN_OR_RETURN(
        Entry entry, ParseEntry(name, value, data.size(), source + ": tensor " + Quote(name)));
    entries.push_back(std::move(entry));
  }
  std::vector<const Entry*> pointers;
  pointers.reserve(entries.size());
  for (const Entry& e : entries) pointers.push_back(&e);
  GRAFT_RETURN_IF_ERROR(CheckCoverage(std::move(pointers), data.size(), source));

  // The header is a std::map, so entries are already sorted by name.
  file.tensors_.reserve(entries.size());
  for (Entry& e : entries) {
    e.view.data = data.subspan(e.begin, e.end - e.begin);
    file.tensors_.push_back(std::move(e.view));
  }
  return file;
}

const TensorView* SafetensorsFile::Find(std::string_view name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                             [](const TensorView& t, std::string_view n) { return t.name < n; });
  if (it == tensors_.end() || it->name != name) return nullptr;
  return &*it;
}

Result<SafetensorsPlan> PlanSafetensors(const std::vector<TensorToWrite>& tensors,
                                        const std::map<std::string, std::string>& metadata,
                                        bool check_data) {
  // Data order: larger dtypes first, then by name; every tensor then starts aligned to its dtype
  // size with no padding between tensors (all sizes are powers of two).
  SafetensorsPlan plan;
  for (size_t i = 0; i < tensors.size(); ++i) plan.order.push_back(i);
  std::sort(plan.order.begin(), plan.order.end(), [&](size_t ia, size_t ib) {
    const TensorToWrite& a = tensors[ia];
    const TensorToWrite& b = tensors[ib];
    size_t sa = DTypeSize(a.dtype), sb = DTypeSize(b.dtype);
    return sa != sb ? sa > sb : a.name < b.name;
  });

  Json header = Json::object();
  if (!metadata.empty()) {
    Json meta = Json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header[kMetadataKey] = std::move(meta);
  }
  plan.offsets.assign(tensors.size(), 0);
  uint64_t offset = 0;
  for (size_t index : plan.order) {
    const TensorToWrite* t = &tensors[index];
    std::string where = "tensor " + Quote(t->name);
    if (t->name == kMetadataKey) return InvalidInput(where + ": the name is reserved");
    if (header.contains(t->name)) return InvalidInput(where + ": given twice");
    std::optional<uint64_t> bytes = ByteSize(t->shape, DTypeSize(t->dtype));
    if (!bytes) return InvalidInput(where + ": shape has a negative dimension or overflows");
    if (check_data && *bytes != t->data.size()) {
      return InvalidInput(where + ": " + std::to_string(t->data.size()) + " bytes of data but " +
                          std::string(DTypeName(t->dtype)) + " of this shape needs " +
                          std::to_string(*bytes));
    }
    header[t->name] = {{"dtype", DTypeName(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + *bytes}}};
    plan.offsets[index] = offset;
    offset += *bytes;
  }
  GRAFT_ASSIGN_OR_RETURN(std::string text, CanonicalJson(header));
  text.append((8 - text.size() % 8) % 8, ' ');
  if (text.size() > kMaxSafetensorsHeaderBytes) {
    return InvalidInput("safetensors header of " + std::to_string(text.size()) +
                        " bytes exceeds the limit");
  }
  for (int i = 0; i < 8; ++i) {
    plan.prefix.push_back(static_cast<char>((text.size() >> (8 * i)) & 0xff));
  }
  plan.prefix += text;
  plan.data_bytes = offset;
  return plan;
}

Result<std::string> SerializeSafetensors(const std::vector<TensorToWrite>& tensors,
                                         const std::map<std::string, std::string>& metadata) {
  GRAFT_ASSIGN_OR_RETURN(SafetensorsPlan plan, PlanSafetensors(tensors, metadata));
  std::string out;
  out.reserve(plan.prefix.size() + plan.data_bytes);
  out += plan.prefix;
  for (size_t index : plan.order) out += AsChars(tensors[index].data);
  return out;
}

Status WriteSafetensors(const std::filesystem::path& path,
                        const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  GRAFT_ASSIGN_OR_RETURN(std::string bytes, SerializeSafetensors(tensors, metadata));
  return WriteFileAtomic(path, bytes).WithContext("writing " + path.string());
}

}  // namespace graft

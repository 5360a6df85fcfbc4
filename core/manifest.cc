#include "core/manifest.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/file_util.h"

namespace graft {
namespace fs = std::filesystem;

namespace {

// Below this many bytes and files, one thread hashes as fast as a pool.
constexpr uint64_t kParallelMinBytes = 4 << 20;
constexpr size_t kParallelMinFiles = 64;

// A file found by the walk: its manifest path and where to read it.
struct Found {
  std::string path;
  fs::path source;
  uint64_t size = 0;
};

// Normalises and checks one ignore path: "dir/" and "./x" are accepted as "dir" and "x".
Result<std::string> NormaliseIgnorePath(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  while (path.starts_with("./")) path.erase(0, 2);
  Status status = CheckSafeRelativePath(path);
  if (!status.ok()) return status.WithContext("ignore path");
  return path;
}

bool IsIgnored(const std::string& path, const std::vector<std::string>& ignore_paths) {
  for (const std::string& ignored : ignore_paths) {
    if (path == ignored) return true;
    if (path.size() > ignored.size() && path.starts_with(ignored) && path[ignored.size()] == '/') {
      return true;
    }
  }
  return false;
}

std::string Describe(fs::file_type type) {
  switch (type) {
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::character:
      return "a character device";
    case fs::file_type::fifo:
      return "a FIFO";
    case fs::file_type::socket:
      return "a socket";
    case fs::file_type::not_found:
      return "a dangling symlink";
    default:
      return "not a regular file or directory";
  }
}

class Walker {
 public:
  Walker(const fs::path& root, const ManifestOptions& options,
         std::vector<std::string> ignore_paths)
      : root_(root), options_(options), ignore_paths_(std::move(ignore_paths)) {}

  Status Walk(const fs::path& dir, const std::string& prefix) {
    std::error_code ec;
    fs::path canonical = fs::canonical(dir, ec);
    if (ec) return IoError("cannot resolve " + dir.string() + ": " + ec.message());
    if (!open_dirs_.insert(canonical).second) {
      return InvalidInput("symlink loop at " + (prefix.empty() ? dir.string() : prefix));
    }
    fs::directory_iterator it(dir, ec);
    if (ec) return IoError("cannot list " + dir.string() + ": " + ec.message());
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      GRAFT_RETURN_IF_ERROR(Visit(it->path(), prefix + it->path().filename().string()));
    }
    if (ec) return IoError("cannot list " + dir.string() + ": " + ec.message());
    open_dirs_.erase(canonical);
    return Status::Ok();
  }

  std::vector<Found>& found() { return found_; }

 private:
  Status Visit(const fs::path& path, const std::string& relative) {
    if (IsIgnored(relative, ignore_paths_)) return Status::Ok();
    GRAFT_RETURN_IF_ERROR(CheckSafeRelativePath(relative).WithContext(root_.string()));
    std::error_code ec;
    fs::file_status status = fs::symlink_status(path, ec);
    if (ec) return IoError("cannot stat " + path.string() + ": " + ec.message());
    if (fs::is_symlink(status)) {
      if (!options_.allow_symlinks) {
        return InvalidInput(root_.string() + ": " + relative +
                            " is a symlink (symlinks are refused unless allowed)");
      }
      status = fs::status(path, ec);
      if (ec && ec != std::errc::no_such_file_or_directory) {
        return IoError("cannot stat " + path.string() + ": " + ec.message());
      }
    }
    if (fs::is_directory(status)) return Walk(path, relative + "/");
    if (!fs::is_regular_file(status)) {
      return InvalidInput(root_.string() + ": " + relative + " is " + Describe(status.type()));
    }
    uint64_t size = fs::file_size(path, ec);
    if (ec) return IoError("cannot stat " + path.string() + ": " + ec.message());
    found_.push_back({relative, path, size});
    return Status::Ok();
  }

  const fs::path& root_;
  const ManifestOptions& options_;
  std::vector<std::string> ignore_paths_;
  std::set<fs::path> open_dirs_;  // directories on the current walk path (loop detection)
  std::vector<Found> found_;
};

// Hashes `files` into `entries` (same order), on up to `threads` workers, biggest files first.
Status HashAll(const std::vector<Found>& files, std::vector<ManifestEntry>& entries,
               unsigned threads) {
  std::vector<size_t> order(files.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return files[a].size > files[b].size; });
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  Status first_error;
  auto work = [&] {
    for (size_t k = next++; k < order.size(); k = next++) {
      const Found& file = files[order[k]];
      Result<Digest> digest = Sha256File(file.source);
      if (!digest.ok()) {
        std::lock_guard lock(error_mutex);
        if (first_error.ok()) first_error = digest.status();
        next = order.size();
        return;
      }
      entries[order[k]] = {file.path, *digest, file.size};
    }
  };
  std::vector<std::jthread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  pool.clear();  // joins
  return first_error;
}

}  // namespace

bool ManifestPathLess(const std::string& a, const std::string& b) {
  auto rank = [](char c) { return c == '/' ? 0 : static_cast<unsigned char>(c) + 1; };
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                      [&](char x, char y) { return rank(x) < rank(y); });
}

Digest Manifest::RootDigest() const {
  Sha256 hasher;
  for (const ManifestEntry& entry : entries) hasher.Update(entry.digest);
  return hasher.Finish();
}

Result<std::vector<std::string>> NormaliseIgnorePaths(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& path : paths) {
    GRAFT_ASSIGN_OR_RETURN(std::string normalised, NormaliseIgnorePath(path));
    out.push_back(std::move(normalised));
  }
  return out;
}

Result<Manifest> BuildManifest(const fs::path& dir, const ManifestOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound("not a directory: " + dir.string());
  GRAFT_ASSIGN_OR_RETURN(std::vector<std::string> ignore_paths,
                         NormaliseIgnorePaths(options.ignore_paths));
  Walker walker(dir, options, std::move(ignore_paths));
  GRAFT_RETURN_IF_ERROR(walker.Walk(dir, ""));
  std::vector<Found>& files = walker.found();
  std::sort(files.begin(), files.end(),
            [](const Found& a, const Found& b) { return ManifestPathLess(a.path, b.path); });

  uint64_t total = 0;
  for (const Found& f : files) total += f.size;
  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  threads = std::max(1u, threads);
  if (total < kParallelMinBytes && files.size() < kParallelMinFiles) threads = 1;
  threads = static_cast<unsigned>(std::min<size_t>(threads, files.size()));

  Manifest manifest;
  manifest.entries.resize(files.size());
  GRAFT_RETURN_IF_ERROR(HashAll(files, manifest.entries, threads));
  return manifest;
}

std::vector<std::string> DiffManifests(const Manifest& expected, const Manifest& actual) {
  std::map<std::string, const Digest*> want, have;
  for (const ManifestEntry& e : expected.entries) want[e.path] = &e.digest;
  for (const ManifestEntry& e : actual.entries) have[e.path] = &e.digest;
  std::vector<std::string> problems;
  for (const auto& [path, digest] : want) {
    auto it = have.find(path);
    if (it == have.end()) {
      problems.push_back("missing: " + path);
    } else if (*it->second != *digest) {
      problems.push_back("changed: " + path);
    }
  }
  for (const auto& [path, digest] : have) {
    if (!want.count(path)) problems.push_back("extra: " + path);
  }
  return problems;
}

}  // namespace graft

#include "registry/cosignatures.h"

#include "registry/checkpoint.h"
#include "registry/schema.h"
#include "registry/transaction.h"
#include "registry/witness.h"

namespace graft::registry {
namespace {

constexpr std::string_view kEmDashSpace = "\xE2\x80\x94 ";

// The note's signature lines whose key name is `name`.
std::vector<std::string> LinesBy(std::string_view note, std::string_view name) {
  std::vector<std::string> out;
  const std::string prefix = std::string(kEmDashSpace) + std::string(name) + " ";
  size_t start = 0;
  while (start < note.size()) {
    size_t end = note.find('\n', start);
    if (end == std::string_view::npos) end = note.size();
    std::string_view line = note.substr(start, end - start);
    if (line.starts_with(prefix)) out.emplace_back(line);
    start = end + 1;
  }
  return out;
}

}  // namespace

Status Cosignatures::Add(const PublicKey& witness, std::string_view note) {
  GRAFT_ASSIGN_OR_RETURN(Checkpoint checkpoint, registry_.VerifyCheckpoint(note));
  GRAFT_RETURN_IF_ERROR(VerifyCosignature(note, witness).status());
  GRAFT_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(registry_.db()));
  GRAFT_RETURN_IF_ERROR(Store({checkpoint.size, WitnessName(witness), std::string(note)}));
  return transaction.Commit();
}

Status Cosignatures::Store(const StoredCosignature& cosignature) {
  return registry_.db().Run(
      "INSERT INTO cosignatures(size, witness, note) VALUES(?, ?, ?) "
      "ON CONFLICT(size, witness) DO UPDATE SET note = excluded.note",
      static_cast<int64_t>(cosignature.size), cosignature.witness, cosignature.note);
}

Result<std::vector<StoredCosignature>> Cosignatures::List() {
  // A registry made before the table existed, opened without migrating it (read-only, or as a
  // snapshot), keeps none.
  if (!registry_.HasSchema(kCosignaturesSchema)) return std::vector<StoredCosignature>();
  GRAFT_ASSIGN_OR_RETURN(
      Statement s, registry_.db().Prepare(
                       "SELECT size, witness, note FROM cosignatures ORDER BY size, witness"));
  std::vector<StoredCosignature> out;
  for (;;) {
    GRAFT_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back({static_cast<uint64_t>(s.Int(0)), s.Text(1), s.Text(2)});
  }
  return out;
}

Result<std::string> Cosignatures::Merge(std::string_view note) {
  GRAFT_ASSIGN_OR_RETURN(Checkpoint checkpoint, registry_.VerifyCheckpoint(note));
  std::string out(note);
  if (!out.ends_with("\n")) out += "\n";
  GRAFT_ASSIGN_OR_RETURN(std::vector<StoredCosignature> kept, List());
  for (const StoredCosignature& c : kept) {
    if (c.size != checkpoint.size) continue;
    for (const std::string& line : LinesBy(c.note, c.witness)) {
      if (out.find(line) == std::string::npos) out += line + "\n";
    }
  }
  return out;
}

Result<std::optional<std::string>> Cosignatures::LatestCosigned() {
  GRAFT_ASSIGN_OR_RETURN(std::vector<StoredCosignature> kept, List());
  if (kept.empty()) return std::optional<std::string>();
  GRAFT_ASSIGN_OR_RETURN(std::string merged, Merge(kept.back().note));
  return std::optional<std::string>(std::move(merged));
}

}  // namespace graft::registry

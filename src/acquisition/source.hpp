// Acquisitions seen as sources of logical files. A Source never changes the evidence: files
// are opened read-only, SQLite immutable; decrypted or archived members go through private
// temporary copies that are deleted.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/types.hpp"
#include "formats/sqlite.hpp"

namespace bridle {

namespace fs = std::filesystem;

// One logical file of an iOS acquisition.
struct IosFile {
  std::string file_id;        // backup fileID (sha1 of "domain-relativePath"), "" for fs dumps
  std::string domain;         // backup domain, "" for fs dumps
  std::string relative_path;  // path inside its domain (backup) or inside the dump
  fs::path disk_path;         // where the bytes are (may be a private temporary copy)
  std::string display;        // how to name it to a human (e.g. "HomeDomain/Library/SMS/sms.db")
};

// Where a module's artifact may be, in each acquisition kind.
struct BackupLocation {
  std::string domain;         // exact domain, or "" for any domain
  std::string relative_path;  // exact path, or a pattern with '*' when `pattern`
  bool pattern = false;
};
struct ArtifactSpec {
  std::vector<BackupLocation> backup;
  std::vector<std::string> fs_globs;  // relative to the dump root, '*' within one component
};

// One entry of a filesystem dump, for whole-tree checks (Filesystem module, "binary not
// found" search). Paths are relative to the dump root, '/'-separated, in the canonical
// device layout ("private/var/..."), without a leading '/'.
struct IosFsEntry {
  std::string path;
  bool is_dir = false;
  bool is_symlink = false;           // symlinks are listed, never followed
  std::uint64_t size = 0;
  std::optional<double> mtime;       // unix seconds; nullopt when unknown (implied folders)
};

class IosSource {
 public:
  virtual ~IosSource() = default;
  virtual bool is_backup() const = 0;
  // Root folder of the acquisition as the user gave it.
  virtual const fs::path& root() const = 0;
  // Every file matching the spec, in a deterministic order.
  virtual std::vector<IosFile> find(const ArtifactSpec& spec) = 0;
  // Opens a file as an SQLite database; nullptr + error when it is not one. The returned
  // database stays valid after the call, whatever the source does with temporary copies.
  virtual std::unique_ptr<SqliteDb> open_sqlite(const IosFile& f, SqliteError* err) = 0;
  // Reads a file (bounded); nullopt + error when it cannot.
  virtual std::optional<std::string> read(const IosFile& f, std::string* err,
                                          std::uint64_t max_bytes = 512ull << 20) = 0;
  // Backup only: Manifest rows in (domain, relativePath) order. fn(fileID, domain,
  // relativePath, flags, file blob). Returns false with *err when Manifest.db is unreadable.
  virtual bool for_each_manifest_row(
      const std::function<void(const std::string&, const std::string&, const std::string&,
                               std::int64_t, std::string_view)>& fn,
      std::string* err) {
    (void)fn;
    if (err) *err = "not a backup";
    return false;
  }
  // Filesystem dumps: calls fn for every entry (folders before their contents, names sorted
  // byte-wise within a folder) until it returns false. Returns false when the source has
  // no such listing (backups).
  virtual bool for_each_entry(const std::function<bool(const IosFsEntry&)>& fn) {
    (void)fn;
    return false;
  }
  // Filesystem dumps: the files and folders matching a glob ('*' within one component),
  // symlinks followed inside the dump only, in path order. Empty for backups.
  virtual std::vector<IosFsEntry> fs_glob(const std::string& pattern) {
    (void)pattern;
    return {};
  }
  // Problems of the acquisition itself (unsafe archive member names, truncated archive,
  // symlinks leading out of the dump...). `unread` ones mean some evidence could not be read.
  virtual std::vector<Diagnostic> acquisition_problems() const { return {}; }
  // Hint that these files will be opened soon: archive sources copy them out in one pass.
  virtual void prefetch(const std::vector<IosFile>& files) { (void)files; }

  // Every evidence file opened so far (absolute path), for info.json.
  std::vector<fs::path> files_read() const;

 protected:
  void note_read(const fs::path& p);

 private:
  mutable std::mutex mu_;
  std::set<fs::path> read_;
};

// Android sources are defined with the Android acquisitions.
class AndroidSource;

}  // namespace bridle

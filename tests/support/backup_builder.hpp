// Builds small, realistic iOS backups for tests and the demo: files stored at
// <root>/<id[0:2]>/<id> with id = sha1(domain-relativePath), Manifest.db with NSKeyedArchiver
// MBFile records, Info.plist, Manifest.plist and Status.plist.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/types.hpp"

namespace bridle::test {

class BackupBuilder {
 public:
  explicit BackupBuilder(std::filesystem::path root);
  // Adds a regular file with content; times are unix seconds.
  std::string add_file(const std::string& domain, const std::string& relative_path,
                       const std::string& content, std::int64_t mtime = 1630000000,
                       int mode = 0100644);
  // Adds a file whose content is an SQLite database built from SQL.
  std::string add_sqlite(const std::string& domain, const std::string& relative_path,
                         const std::string& sql, std::int64_t mtime = 1630000000);
  // Adds a Manifest row only (no data file), e.g. a directory (flags 2).
  void add_manifest_only(const std::string& domain, const std::string& relative_path, int flags,
                         std::int64_t mtime = 1630000000, int mode = 040755);
  // Writes Manifest.db, Info.plist (merged with `info`), Manifest.plist, Status.plist.
  void finish(const Json& info = Json::object());
  const std::filesystem::path& root() const { return root_; }

  // An NSKeyedArchiver MBFile record.
  static std::string mbfile_blob(const std::string& relative_path, std::int64_t size,
                                 std::int64_t mtime, int mode);

 private:
  struct Row {
    std::string id, domain, rel;
    int flags;
    std::string blob;
  };
  std::filesystem::path root_;
  std::vector<Row> rows_;
};

}  // namespace bridle::test

#include "support/backup_builder.hpp"

#include <sqlite3.h>

#include <stdexcept>

#include "core/util.hpp"
#include "support/support.hpp"

namespace bridle::test {

BackupBuilder::BackupBuilder(std::filesystem::path root) : root_(std::move(root)) {
  std::filesystem::create_directories(root_);
}

std::string BackupBuilder::mbfile_blob(const std::string& rel, std::int64_t size, std::int64_t mtime,
                                       int mode) {
  Json archive = {
      {"$archiver", "NSKeyedArchiver"},
      {"$version", 100000},
      {"$top", {{"root", {{"$uid", 1}}}}},
      {"$objects",
       Json::array({"$null",
                    {{"LastModified", mtime},
                     {"LastStatusChange", mtime},
                     {"Birth", mtime},
                     {"Mode", mode},
                     {"UserID", 501},
                     {"GroupID", 501},
                     {"InodeNumber", 1234},
                     {"Size", size},
                     {"Flags", 0},
                     {"ProtectionClass", 3},
                     {"RelativePath", {{"$uid", 2}}},
                     {"$class", {{"$uid", 3}}}},
                    rel,
                    {{"$classname", "MBFile"}, {"$classes", Json::array({"MBFile", "NSObject"})}}})}};
  return make_plist(archive, true);
}

std::string BackupBuilder::add_file(const std::string& domain, const std::string& rel,
                                    const std::string& content, std::int64_t mtime, int mode) {
  std::string id = sha1_hex(domain + "-" + rel);
  write_file(root_ / id.substr(0, 2) / id, content);
  rows_.push_back({id, domain, rel, 1, mbfile_blob(rel, static_cast<std::int64_t>(content.size()), mtime, mode)});
  return id;
}

std::string BackupBuilder::add_sqlite(const std::string& domain, const std::string& rel,
                                      const std::string& sql, std::int64_t mtime) {
  Scratch tmp;
  make_sqlite(tmp / "db.sqlite", sql);
  return add_file(domain, rel, slurp(tmp / "db.sqlite"), mtime, 0100644);
}

void BackupBuilder::add_manifest_only(const std::string& domain, const std::string& rel, int flags,
                                      std::int64_t mtime, int mode) {
  std::string id = sha1_hex(domain + "-" + rel);
  rows_.push_back({id, domain, rel, flags, mbfile_blob(rel, 0, mtime, mode)});
}

void BackupBuilder::finish(const Json& info) {
  auto db_path = root_ / "Manifest.db";
  std::filesystem::remove(db_path);
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) throw std::runtime_error("Manifest.db");
  sqlite3_exec(db,
               "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, "
               "flags INTEGER, file BLOB);"
               "CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO Files VALUES (?,?,?,?,?)", -1, &st, nullptr);
  for (auto& r : rows_) {
    sqlite3_bind_text(st, 1, r.id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, r.domain.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r.rel.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 4, r.flags);
    sqlite3_bind_blob(st, 5, r.blob.data(), static_cast<int>(r.blob.size()), SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);

  Json base = {{"Build Version", "18C66"},
               {"Device Name", "Test iPhone"},
               {"Display Name", "Test iPhone"},
               {"GUID", "0123456789ABCDEF"},
               {"Product Type", "iPhone12,1"},
               {"Product Version", "14.3"},
               {"Serial Number", "F00000000000"},
               {"Target Identifier", "00008030-0000000000000001"},
               {"Target Type", "Device"},
               {"Unique Identifier", "00008030-0000000000000001"},
               {"Last Backup Date", "date:1638559993"},
               {"Installed Applications", Json::array({"net.whatsapp.WhatsApp"})}};
  for (auto& [k, v] : info.items()) base[k] = v;
  write_file(root_ / "Info.plist", make_plist(base, false));
  write_file(root_ / "Manifest.plist",
             make_plist({{"IsEncrypted", false},
                         {"Version", "10.0"},
                         {"Lockdown", {{"ProductVersion", base["Product Version"]}}}},
                        false));
  write_file(root_ / "Status.plist", make_plist({{"IsFullBackup", false}, {"Version", "3.3"}}, false));
}

}  // namespace bridle::test

#include "acquisition/ios_backup.hpp"

#include <algorithm>
#include <fstream>
#include <cctype>
#include <map>
#include <set>

#include "core/util.hpp"
#include "formats/plist.hpp"

namespace bridle {

namespace {
bool is_backup_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p / "Manifest.db", ec) && fs::is_regular_file(p / "Info.plist", ec);
}

bool valid_file_id(const std::string& id) {
  if (id.size() != 40) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
  });
}

// '*' pattern -> SQLite GLOB pattern (other GLOB metacharacters escaped as classes).
std::string to_glob(const std::string& pattern) {
  std::string out;
  for (char c : pattern) {
    if (c == '?') out += "[?]";
    else if (c == '[') out += "[[]";
    else out += c;
  }
  return out;
}
}  // namespace

BackupLocateResult locate_backup(const fs::path& path) {
  BackupLocateResult r;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    r.error = "no such file or folder: " + path.string();
    return r;
  }
  if (!fs::is_directory(path, ec)) {
    r.error = path.string() + " is not a folder (an iOS backup is a folder with Manifest.db and Info.plist)";
    return r;
  }
  if (is_backup_dir(path)) {
    r.root = path;
    return r;
  }
  std::vector<fs::path> found;
  for (auto& e : fs::directory_iterator(path, ec)) {
    if (e.is_directory(ec) && !e.is_symlink(ec) && is_backup_dir(e.path())) found.push_back(e.path());
  }
  if (found.size() == 1) {
    r.root = found[0];
    return r;
  }
  if (found.empty())
    r.error = path.string() + " is not an iOS backup: no Manifest.db and Info.plist in it or in one sub-folder";
  else
    r.error = path.string() + " holds " + std::to_string(found.size()) +
              " backups; give the folder of the one to check";
  return r;
}

bool backup_is_encrypted(const fs::path& root) {
  std::string err;
  auto data = read_file(root / "Manifest.plist", 64 << 20, &err);
  if (!data) return false;
  auto j = plist_to_json(*data, {}, &err);
  if (!j || !j->is_object()) return false;
  auto it = j->find("IsEncrypted");
  if (it == j->end() || !it->is_boolean() || !it->get<bool>()) return false;
  // A decrypted copy (decrypt-backup, MVT's decrypt-backup) keeps Manifest.plist as it was,
  // IsEncrypted included. Since iOS 10.2 an encrypted backup's Manifest.db is itself
  // encrypted (and Manifest.plist holds its ManifestKey): a plaintext Manifest.db next to a
  // ManifestKey means the files were decrypted. (Before 10.2 there is no ManifestKey and
  // Manifest.db is plaintext even in encrypted backups.)
  if (j->contains("ManifestKey")) {
    std::string head(16, '\0');
    std::ifstream in(root / "Manifest.db", std::ios::binary);
    if (!in.read(head.data(), 16)) head.clear();
    if (head == std::string("SQLite format 3\0", 16)) return false;
  }
  return true;
}

std::string IosBackupSource::file_id(const std::string& domain, const std::string& relative_path) {
  return sha1_hex(domain + "-" + relative_path);
}

IosBackupSource::~IosBackupSource() { manifest_.reset(); }

std::unique_ptr<SqliteDb> IosBackupSource::open_manifest(SqliteError* err) {
  if (!decryptor_) return SqliteDb::open(manifest_path_, err);
  std::string e;
  auto reader = decryptor_->open_manifest(manifest_path_, &e);
  if (!reader) {
    if (err) *err = SqliteError{"cannot decrypt Manifest.db: " + e, false};
    return nullptr;
  }
  return SqliteDb::open_image(std::move(reader), "Manifest.db (decrypted)", err);
}

std::unique_ptr<IosBackupSource> IosBackupSource::open(const fs::path& root, std::string* err,
                                                       std::unique_ptr<BackupDecryptor> decryptor) {
  std::unique_ptr<IosBackupSource> s(new IosBackupSource());
  s->root_ = fs::absolute(root);
  s->decryptor_ = std::move(decryptor);
  s->manifest_path_ = s->root_ / "Manifest.db";
  SqliteError se;
  s->manifest_ = s->open_manifest(&se);
  s->note_read(s->root_ / "Manifest.db");
  if (!s->manifest_) {
    if (err)
      *err = se.message.rfind("cannot decrypt", 0) == 0 ? se.message : "cannot read Manifest.db: " + se.message;
    return nullptr;
  }
  if (!s->manifest_->has_table("Files")) {
    if (err) *err = "Manifest.db has no Files table (an encrypted backup, or not a backup)";
    return nullptr;
  }
  return s;
}

std::optional<fs::path> IosBackupSource::data_path(const std::string& id) const {
  if (!valid_file_id(id)) return std::nullopt;
  fs::path p = root_ / id.substr(0, 2) / id;
  std::error_code ec;
  auto st = fs::symlink_status(p, ec);
  if (ec || !fs::is_regular_file(st)) return std::nullopt;
  // The folder itself must not be a symlink leading elsewhere.
  auto dst = fs::symlink_status(root_ / id.substr(0, 2), ec);
  if (ec || fs::is_symlink(dst)) return std::nullopt;
  return p;
}

std::vector<IosFile> IosBackupSource::find(const ArtifactSpec& spec) {
  std::vector<IosFile> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& id, const std::string& domain, const std::string& rel) {
    if (seen.count(id)) return;
    auto p = data_path(id);
    if (!p) return;
    seen.insert(id);
    IosFile f;
    f.file_id = id;
    f.domain = domain;
    f.relative_path = rel;
    f.disk_path = *p;
    f.display = domain.empty() ? id : domain + "/" + rel;
    out.push_back(std::move(f));
  };
  for (const auto& loc : spec.backup) {
    if (!loc.pattern && !loc.domain.empty()) {
      // Known location: the fileID is derived, whether or not the Manifest lists it.
      add(file_id(loc.domain, loc.relative_path), loc.domain, loc.relative_path);
      continue;
    }
    std::string sql = "SELECT fileID, domain, relativePath FROM Files WHERE ";
    std::vector<std::string> params;
    if (loc.pattern) {
      sql += "relativePath GLOB ?";
      params.push_back(to_glob(loc.relative_path));
    } else {
      sql += "relativePath = ?";
      params.push_back(loc.relative_path);
    }
    if (!loc.domain.empty()) {
      sql += " AND domain = ?";
      params.push_back(loc.domain);
    }
    sql += " ORDER BY domain, relativePath";
    std::vector<std::array<std::string, 3>> rows;
    {
      std::lock_guard<std::mutex> lk(mu_);
      manifest_->query(sql, params, [&](const SqliteRow& r) {
        rows.push_back({r.text(0), r.text(1), r.text(2)});
        return true;
      });
    }
    for (auto& r : rows) add(r[0], r[1], r[2]);
  }
  return out;
}

std::string IosBackupSource::mbfile_blob(const std::string& file_id) {
  std::string blob;
  std::lock_guard<std::mutex> lk(mu_);
  manifest_->query("SELECT file FROM Files WHERE fileID = ?", {file_id}, [&](const SqliteRow& r) {
    blob = r.blob(0);
    return false;
  });
  return blob;
}

std::optional<std::string> IosBackupSource::decrypted(const IosFile& f, std::string* err,
                                                      std::uint64_t max_bytes) {
  std::string blob = mbfile_blob(f.file_id);
  if (blob.empty()) {
    if (err) *err = "encrypted file without a Manifest record holding its key";
    return std::nullopt;
  }
  std::string note;
  auto plain = decryptor_->decrypt_file(f.disk_path, blob, max_bytes, err, &note);
  return plain;
}

std::unique_ptr<SqliteDb> IosBackupSource::open_sqlite(const IosFile& f, SqliteError* err) {
  note_read(f.disk_path);
  if (!decryptor_) return SqliteDb::open(f.disk_path, err);
  std::string blob = mbfile_blob(f.file_id);
  if (blob.empty()) {
    if (err) *err = SqliteError{"encrypted file without a Manifest record holding its key", false};
    return nullptr;
  }
  // The database is read through the image VFS: SQLite's pages are decrypted as it asks for
  // them, so memory does not grow with the database (formerly the whole plaintext).
  std::string e;
  auto reader = decryptor_->open_file(f.disk_path, blob, &e);
  if (!reader) {
    if (!e.empty()) {
      if (err) *err = SqliteError{e, false};
      return nullptr;
    }
    return SqliteDb::open(f.disk_path, err);  // no EncryptionKey: stored in clear
  }
  return SqliteDb::open_image(std::move(reader), f.display, err);
}

std::optional<std::string> IosBackupSource::read(const IosFile& f, std::string* err,
                                                 std::uint64_t max_bytes) {
  note_read(f.disk_path);
  if (decryptor_) return decrypted(f, err, max_bytes);
  return read_file(f.disk_path, max_bytes, err);
}

bool IosBackupSource::for_each_manifest_row(
    const std::function<void(const std::string&, const std::string&, const std::string&,
                             std::int64_t, std::string_view)>& fn,
    std::string* err) {
  // A connection of its own (decrypting its own pages when the backup is encrypted), so
  // other modules' look-ups are not blocked meanwhile.
  SqliteError se;
  auto db = open_manifest(&se);
  if (!db) {
    if (err) *err = se.message;
    return false;
  }
  bool ok = db->query(
      "SELECT fileID, domain, relativePath, flags, file FROM Files",
      [&](const SqliteRow& r) {
        std::string blob = r.blob(4);
        fn(r.text(0), r.text(1), r.text(2), r.integer(3), blob);
        return true;
      },
      &se);
  if (!ok && err) *err = se.message;
  return ok;
}

}  // namespace bridle

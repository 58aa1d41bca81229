// iTunes/Finder backups: <root>/Manifest.db + Info.plist, files at <root>/<id[0:2]>/<id>.
#pragma once
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "acquisition/source.hpp"

namespace bridle {

// Decrypts an encrypted backup's files on demand, in memory, never to disk (see
// ios_backup_keys.hpp).
class BackupDecryptor {
 public:
  virtual ~BackupDecryptor() = default;
  // Plaintext of one file given its MBFile record blob (NSKeyedArchiver). `note` receives a
  // non-fatal remark (e.g. the recorded size does not match the plaintext).
  virtual std::optional<std::string> decrypt_file(const fs::path& encrypted, std::string_view mbfile_blob,
                                                  std::uint64_t max_bytes, std::string* err,
                                                  std::string* note) = 0;
  // Random-access plaintext of Manifest.db, decrypted on demand (nothing on disk, a few
  // chunks in memory); nullptr + err on failure (unreadable, malformed, wrong key).
  virtual std::unique_ptr<SqliteImageReader> open_manifest(const fs::path& encrypted,
                                                           std::string* err) = 0;
  // Random-access plaintext of one file given its MBFile record blob. nullptr with *err
  // left empty when the record has no EncryptionKey (the file is stored in clear); nullptr
  // with *err set on failure (malformed ciphertext or padding, MBFile Size mismatch...).
  virtual std::unique_ptr<SqliteImageReader> open_file(const fs::path& encrypted,
                                                       std::string_view mbfile_blob,
                                                       std::string* err) = 0;
};

struct BackupLocateResult {
  std::optional<fs::path> root;
  std::string error;
};
// PATH is a backup folder (Manifest.db + Info.plist) or a folder holding exactly one.
BackupLocateResult locate_backup(const fs::path& path);

// Reads Manifest.plist's IsEncrypted (false when the file is absent or has no such key).
bool backup_is_encrypted(const fs::path& root);

class IosBackupSource final : public IosSource {
 public:
  // Opens the backup at `root` (as returned by locate_backup). With a decryptor the
  // backup is treated as encrypted: Manifest.db and every SQLite database are read through
  // SqliteDb::open_image, decrypting the pages SQLite asks for (never written to disk, never
  // held whole); other files (plists...) are decrypted in memory by read().
  static std::unique_ptr<IosBackupSource> open(const fs::path& root, std::string* err,
                                               std::unique_ptr<BackupDecryptor> decryptor = nullptr);
  ~IosBackupSource() override;

  bool is_backup() const override { return true; }
  const fs::path& root() const override { return root_; }
  std::vector<IosFile> find(const ArtifactSpec& spec) override;
  std::unique_ptr<SqliteDb> open_sqlite(const IosFile& f, SqliteError* err) override;
  std::optional<std::string> read(const IosFile& f, std::string* err, std::uint64_t max_bytes) override;
  bool for_each_manifest_row(
      const std::function<void(const std::string&, const std::string&, const std::string&,
                               std::int64_t, std::string_view)>& fn,
      std::string* err) override;

  // sha1("domain-relativePath") as hex.
  static std::string file_id(const std::string& domain, const std::string& relative_path);
  bool encrypted() const { return decryptor_ != nullptr; }

 private:
  IosBackupSource() = default;
  // Where a fileID's bytes are on disk (validated: 40 hex chars, inside the backup, regular
  // file, not a symlink); nullopt when absent or invalid.
  std::optional<fs::path> data_path(const std::string& file_id) const;
  // Plaintext bytes of a file of an encrypted backup.
  std::optional<std::string> decrypted(const IosFile& f, std::string* err, std::uint64_t max_bytes);

  // Manifest.db: the plain file, or (encrypted) a connection reading it through the
  // decryptor.
  std::unique_ptr<SqliteDb> open_manifest(SqliteError* err);
  // The MBFile blob of a fileID ("" when Manifest.db has none).
  std::string mbfile_blob(const std::string& file_id);

  fs::path root_;
  fs::path manifest_path_;  // Manifest.db as found in the backup (encrypted or not)
  std::unique_ptr<SqliteDb> manifest_;
  std::unique_ptr<BackupDecryptor> decryptor_;
  std::mutex mu_;
};

}  // namespace bridle

#include "acquisition/ios_backup_keys.hpp"

#include "acquisition/ios_crypto.hpp"
#include "core/util.hpp"

namespace bridle {

namespace {

class KeyedDecryptor final : public BackupDecryptor {
 public:
  KeyedDecryptor(ios::BackupKeys keys, std::string manifest_key)
      : keys_(std::move(keys)), manifest_key_(std::move(manifest_key)) {}
  ~KeyedDecryptor() override { ios::cleanse(manifest_key_); }

  std::optional<std::string> decrypt_manifest(const fs::path& encrypted, std::string* err) override {
    auto data = read_file(encrypted, 8ull << 30, err);
    if (!data) return std::nullopt;
    if (manifest_key_.empty()) return data;  // before iOS 10.2 Manifest.db is not encrypted
    auto key = keys_.unwrap_manifest_key(manifest_key_, err);
    if (!key) return std::nullopt;
    auto plain = ios::decrypt_cbc(*key, *data, /*strip_padding=*/false, err);
    ios::cleanse(*key);
    if (plain && plain->compare(0, 16, std::string("SQLite format 3\0", 16)) != 0) {
      if (err) *err = "decrypted Manifest.db is not an SQLite database (wrong key?)";
      return std::nullopt;
    }
    return plain;
  }

  std::optional<std::string> decrypt_file(const fs::path& encrypted, std::string_view blob,
                                          std::uint64_t max_bytes, std::string* err,
                                          std::string* note) override {
    auto mb = ios::decode_mbfile(blob, err);
    if (!mb) return std::nullopt;
    auto data = read_file(encrypted, max_bytes + 16, err);
    if (!data) return std::nullopt;
    if (!mb->encryption_key) return data;  // stored in clear
    auto key = keys_.unwrap_file_key(*mb->encryption_key, mb->protection_class.value_or(0), err);
    if (!key) return std::nullopt;
    // In place: a large database is held once, not as ciphertext plus plaintext.
    bool ok = ios::decrypt_cbc_inplace(*key, *data, /*strip_padding=*/true, err);
    ios::cleanse(*key);
    if (!ok) return std::nullopt;
    if (mb->size && *mb->size != data->size() && note)
      *note = "recorded size " + std::to_string(*mb->size) + " differs from the decrypted size " +
              std::to_string(data->size()) + " (the padding-checked plaintext is used)";
    return data;
  }

 private:
  ios::BackupKeys keys_;
  std::string manifest_key_;
};

std::optional<std::pair<ios::ManifestPlist, ios::Keybag>> load_keybag(const fs::path& root,
                                                                     std::string* err) {
  auto mp = ios::read_manifest_plist(root, err);
  if (!mp) return std::nullopt;
  if (!mp->is_encrypted) {
    if (err) *err = "the backup is not encrypted";
    return std::nullopt;
  }
  auto kb = ios::parse_keybag(mp->keybag, err);
  if (!kb) return std::nullopt;
  if (kb->dpic > kMaxDpic || kb->iter > kMaxIter) {
    if (err) *err = "the backup keybag asks for an implausible number of key-derivation rounds "
                    "(DPIC " + std::to_string(kb->dpic) + ", ITER " + std::to_string(kb->iter) +
                    "); refusing (damaged or hostile Manifest.plist)";
    return std::nullopt;
  }
  return std::make_pair(std::move(*mp), std::move(*kb));
}

}  // namespace

std::optional<std::string> derive_backup_key(const fs::path& root, std::string_view password,
                                             std::string* err) {
  auto loaded = load_keybag(root, err);
  if (!loaded) return std::nullopt;
  return ios::derive_key(loaded->second, password, loaded->first.product_version, err);
}

std::unique_ptr<BackupDecryptor> unlock_backup(const fs::path& root, std::string_view derived_key,
                                               std::string* err) {
  auto loaded = load_keybag(root, err);
  if (!loaded) return nullptr;
  auto keys = ios::BackupKeys::unlock(loaded->second, derived_key, err);
  if (!keys) return nullptr;
  return std::make_unique<KeyedDecryptor>(std::move(*keys), loaded->first.manifest_key);
}

}  // namespace bridle

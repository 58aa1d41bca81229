#include "acquisition/ios_backup_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "acquisition/ios_crypto.hpp"
#include "core/util.hpp"

namespace bridle {

namespace {

// A plain file as a SqliteImageReader (Manifest.db of a pre-10.2 encrypted backup).
class PlainFileReader final : public SqliteImageReader {
 public:
  PlainFileReader(std::string label, int fd, std::uint64_t size) : label_(std::move(label)), fd_(fd), size_(size) {}
  ~PlainFileReader() override { ::close(fd_); }
  PlainFileReader(const PlainFileReader&) = delete;
  PlainFileReader& operator=(const PlainFileReader&) = delete;
  std::uint64_t size() const override { return size_; }
  bool read(std::uint64_t off, void* out, std::size_t n, std::string* err) override {
    if (off > size_ || n > size_ - off) {
      if (err) *err = label_ + ": read past the end";
      return false;
    }
    auto* o = static_cast<unsigned char*>(out);
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, o + got, n - got, static_cast<off_t>(off + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        if (err) *err = label_ + ": " + (r < 0 ? std::string(std::strerror(errno)) : "the file is shorter than when it was opened");
        return false;
      }
      got += static_cast<std::size_t>(r);
    }
    return true;
  }

 private:
  std::string label_;
  int fd_;
  std::uint64_t size_;
};

std::unique_ptr<SqliteImageReader> plain_reader(const fs::path& p, std::string* err) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (err) *err = "cannot open " + p.string() + ": " + std::strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    if (err) *err = p.string() + " is not a regular file";
    return nullptr;
  }
  return std::make_unique<PlainFileReader>(p.string(), fd, static_cast<std::uint64_t>(st.st_size));
}

class KeyedDecryptor final : public BackupDecryptor {
 public:
  KeyedDecryptor(ios::BackupKeys keys, std::string manifest_key)
      : keys_(std::move(keys)), manifest_key_(std::move(manifest_key)) {}
  ~KeyedDecryptor() override { ios::cleanse(manifest_key_); }

  std::unique_ptr<SqliteImageReader> open_manifest(const fs::path& encrypted, std::string* err) override {
    std::string key;
    if (!manifest_key_.empty()) {
      auto k = keys_.unwrap_manifest_key(manifest_key_, err);
      if (!k) return nullptr;
      key = std::move(*k);
    } else {
      // Before iOS 10.2 Manifest.db is not encrypted: read as is, through the same VFS.
      return plain_reader(encrypted, err);
    }
    ios::CbcReaderOptions opt;
    opt.strip_padding = false;  // Manifest.db is page-sized: no padding is stripped
    opt.label = encrypted.string();
    auto r = ios::open_cbc_reader(key, encrypted, opt, err);
    ios::cleanse(key);
    if (!r) return nullptr;
    char head[16] = {};
    if (r->size() < 16 || !r->read(0, head, 16, err) ||
        std::memcmp(head, "SQLite format 3\0", 16) != 0) {
      if (err) *err = "decrypted Manifest.db is not an SQLite database (wrong key?)";
      return nullptr;
    }
    return r;
  }

  std::unique_ptr<SqliteImageReader> open_file(const fs::path& encrypted, std::string_view blob,
                                               std::string* err) override {
    if (err) err->clear();
    std::string e;
    auto mb = ios::decode_mbfile(blob, &e);
    if (!mb) {
      if (err) *err = encrypted.string() + ": " + e;
      return nullptr;
    }
    if (!mb->encryption_key) return nullptr;  // stored in clear: the caller opens the file
    auto key = keys_.unwrap_file_key(*mb->encryption_key, mb->protection_class.value_or(0), &e);
    if (!key) {
      if (err) *err = encrypted.string() + ": " + e;
      return nullptr;
    }
    ios::CbcReaderOptions opt;
    opt.strip_padding = true;
    // MBFile Size is not enforced: the padding-checked plaintext is what the file holds, and
    // a recorded size that is stale (as MVT and decrypt_file() also accept) must not make a
    // readable database unread. CbcReaderOptions::expected_size stays for callers that want it.
    auto r = ios::open_cbc_reader(*key, encrypted, opt, err);
    ios::cleanse(*key);
    return r;
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

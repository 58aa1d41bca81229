// Encrypted iTunes/Finder backup decryption core (iOS keybag, key derivation, AES key
// unwrap, Manifest.db and per-file decryption). Every primitive comes from OpenSSL 3 (EVP),
// every property list is read with libplist. See docs/mvt-reference.md §5.
//
// Secrets: the password is never logged or stored; key material held by this module is
// wiped with OPENSSL_cleanse when it goes away. Keys returned by value are the caller's to
// wipe (bridle::ios::cleanse).
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.hpp"
#include "formats/sqlite.hpp"

namespace bridle::ios {

// Overwrites the bytes of s (OPENSSL_cleanse) and clears it.
void cleanse(std::string& s);

// One class-key record of the keybag (starts at every UUID after the first).
struct KeybagClass {
  std::string uuid;
  std::uint32_t clas = 0;
  std::uint32_t wrap = 0;  // bit 2 (WRAP_PASSCODE): wrapped with the passcode key
  std::uint32_t ktyp = 0;
  std::string wpky;        // wrapped key (40 bytes for an AES-256 class key)
  std::string pbky;        // public key (stored, unused)
};

// Parsed BackupKeyBag TLV (tag[4] | len[u32 BE] | value).
struct Keybag {
  std::string uuid;            // first UUID
  std::uint32_t vers = 0;
  std::uint32_t type = 0;      // 1 = backup keybag
  std::uint32_t wrap = 0;      // keybag-level WRAP
  std::string salt;            // SALT (20 bytes)
  std::uint32_t iter = 0;      // ITER
  std::string dpsl;            // DPSL (20 bytes), iOS >= 10.2
  std::uint32_t dpic = 0;      // DPIC, iOS >= 10.2
  std::uint32_t dpwt = 0;
  std::map<std::uint32_t, KeybagClass> classes;       // by CLAS (a later record wins)
  std::map<std::string, std::string> attributes;      // other keybag-level tags, raw values
};

inline constexpr std::uint32_t kWrapPasscode = 2;
inline constexpr std::size_t kMaxKeybagBytes = 1u << 20;   // real keybags are ~1.5 KB
inline constexpr std::size_t kMaxKeybagRecords = 4096;
inline constexpr std::size_t kMaxKeybagClasses = 64;

// Bounded and total on hostile bytes: nullopt + *err on anything malformed.
std::optional<Keybag> parse_keybag(std::string_view tlv, std::string* err);

// The passcode key K (32 bytes) that `extract-key` prints. product_version ("14.3")
// selects the scheme: >= 10.2 -> PBKDF2-HMAC-SHA256(pw, DPSL, DPIC) then
// PBKDF2-HMAC-SHA1(T, SALT, ITER); older -> PBKDF2-HMAC-SHA1(pw, SALT, ITER). An empty or
// unparseable version falls back to "new scheme when the keybag has DPSL/DPIC".
// `intermediate` (optional) receives T for the new scheme.
std::optional<std::string> derive_key(const Keybag& kb, std::string_view password,
                                      std::string_view product_version, std::string* err,
                                      std::string* intermediate = nullptr);

// RFC 3394 AES key unwrap (default IV A6..A6); KEK of 16/24/32 bytes. nullopt when the
// input is malformed or the integrity check fails (wrong key).
std::optional<std::string> aes_unwrap(std::string_view kek, std::string_view wrapped);

// Class keys unlocked with the passcode key K.
class BackupKeys {
 public:
  // Unwraps every class with WPKY and WRAP & 2. The first failed unwrap stops the work:
  // nullopt with *err "wrong password or key".
  static std::optional<BackupKeys> unlock(const Keybag& kb, std::string_view derived_key,
                                          std::string* err);
  std::optional<std::string> class_key(std::uint32_t cls) const;
  // ManifestKey (4-byte LE class + 40-byte wrapped key) -> Manifest.db key.
  std::optional<std::string> unwrap_manifest_key(std::string_view manifest_key,
                                                 std::string* err) const;
  // MBFile EncryptionKey (4-byte LE class + 40 wrapped bytes) + ProtectionClass -> file key.
  std::optional<std::string> unwrap_file_key(std::string_view encryption_key,
                                             std::uint32_t protection_class,
                                             std::string* err) const;
  std::size_t size() const { return keys_.size(); }

  BackupKeys() = default;
  BackupKeys(const BackupKeys&) = default;
  BackupKeys(BackupKeys&&) = default;
  BackupKeys& operator=(const BackupKeys&) = default;
  BackupKeys& operator=(BackupKeys&&) = default;
  ~BackupKeys();

 private:
  std::map<std::uint32_t, std::string> keys_;
};

// AES-256-CBC decryption with a zero IV. strip_padding: validate and strip PKCS#7 (error
// when invalid); otherwise the length must be a multiple of 16 and nothing is removed.
// decrypt_cbc() into the same buffer (no second copy of a large file): true and `data` holds
// the plaintext, or false with `data` wiped and *err.
bool decrypt_cbc_inplace(std::string_view key, std::string& data, bool strip_padding, std::string* err);
std::optional<std::string> decrypt_cbc(std::string_view key, std::string_view data,
                                       bool strip_padding, std::string* err);
// Streaming variant: `out` is created (or truncated) with mode 0600, never through a
// symlink; it is removed on failure. *plain_size (optional) receives the output size.
bool decrypt_cbc_file(std::string_view key, const std::filesystem::path& in,
                      const std::filesystem::path& out, std::string* err,
                      std::uint64_t* plain_size, bool strip_padding = true);

// Random-access plaintext of an AES-256-CBC file (zero IV, as iOS backups use), decrypted on
// demand: plaintext block i = AES-dec(C_i) XOR C_{i-1} (C_{-1} = IV), so a read decrypts only
// the blocks it covers (whole kCbcChunk chunks, the last kCbcCacheChunks of them kept and
// wiped when evicted). Nothing is written anywhere; the key is copied into the reader and
// wiped with it. Checked when opened, each failure a message naming the file: regular file
// (no symlink), ciphertext length a non-zero multiple of 16, valid PKCS#7 padding in the last
// block (with strip_padding), plain size equal to expected_size when given (MBFile Size).
// A file that shrinks later fails the read that reaches past its end (never an over-read).
inline constexpr std::size_t kCbcChunk = 32u << 10;
inline constexpr std::size_t kCbcCacheChunks = 8;
struct CbcReaderOptions {
  bool strip_padding = true;                   // false: Manifest.db (no padding stripped)
  std::optional<std::uint64_t> expected_size;  // MBFile Size
  std::string label;                           // how errors name the file ("" = its path)
};
std::unique_ptr<SqliteImageReader> open_cbc_reader(std::string_view key, const std::filesystem::path& path,
                                                   const CbcReaderOptions& options, std::string* err);

// Manifest.plist fields used for decryption.
struct ManifestPlist {
  bool is_encrypted = false;
  std::string keybag;           // BackupKeyBag
  std::string manifest_key;     // ManifestKey ("" before iOS 10.2)
  std::string product_version;  // Lockdown.ProductVersion ("" when absent)
};
std::optional<ManifestPlist> read_manifest_plist(const std::filesystem::path& backup_dir,
                                                 std::string* err);

// Key file text: exactly 64 hex characters, optionally followed by one newline.
// Returns the 32 raw bytes.
std::optional<std::string> parse_key_hex(std::string_view text, std::string* err);

// The MBFile fields needed to decrypt one file (from the NSKeyedArchiver `file` blob).
struct MBFileInfo {
  std::optional<std::string> encryption_key;  // NS.data bytes (44)
  std::optional<std::uint32_t> protection_class;
  std::optional<std::uint64_t> size;
};
std::optional<MBFileInfo> decode_mbfile(std::string_view blob, std::string* err);

struct DecryptOptions {
  unsigned threads = 0;  // 0 = hardware concurrency
  bool hashes = false;
};

struct DecryptReport {
  std::size_t files = 0;    // data files written
  std::size_t dirs = 0;     // directory rows (flags == 2) seen
  std::size_t missing = 0;  // file rows whose source file is absent (partial backup)
  std::size_t errors = 0;   // file rows that could not be decrypted
  std::vector<std::string> messages;
  // With hashes: {"encrypted":[{file_path, sha256}], "decrypted":[{file_path, sha256}]}.
  Json info = Json::object();
};

// Decrypts a whole backup into dest: dest/Manifest.db (decrypted), dest/xx/<fileID> for
// every Files row with flags == 1 whose source exists, plus copies of Info.plist,
// Manifest.plist and Status.plist. Files are decrypted in parallel (bounded pool), PKCS#7
// padding validated and stripped, MBFile.Size only cross-checked. fileIDs that are not 40
// hex characters are skipped and counted as errors. Fatal problems (unreadable
// Manifest.plist, wrong key, undecryptable Manifest.db) return nullopt + *err.
std::optional<DecryptReport> decrypt_backup(const std::filesystem::path& backup_dir,
                                            std::string_view derived_key,
                                            const std::filesystem::path& dest,
                                            const DecryptOptions& opts, std::string* err);

}  // namespace bridle::ios

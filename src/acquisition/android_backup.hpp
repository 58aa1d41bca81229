// adb backup (.ab) files: header, optional AES-256 encryption (password-derived key that
// unwraps a random master key), optional zlib compression, then a tar stream. Decoded as a
// stream (OpenSSL EVP + zlib), bounded, into the tar bytes (kept in memory up to a cap) and
// their sha256.
#pragma once
#include <cstdint>
#include <filesystem>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "acquisition/android_sources.hpp"

namespace bridle {

struct AbHeader {
  int version = 0;
  bool compressed = false;
  std::string encryption;  // "none" or "AES-256"
  // AES-256 only (hex as written in the file).
  std::string user_salt, checksum_salt, user_iv, master_key_blob;
  long rounds = 0;
  bool encrypted() const { return encryption == "AES-256"; }
};

struct AbLimits {
  std::uint64_t max_output = 16ull << 30;   // decompressed bytes
  std::uint64_t max_in_memory = 2ull << 30; // tar bytes kept
  long max_rounds = 5'000'000;              // PBKDF2 iterations accepted
};

enum class AbStatus {
  Ok,
  NotBackup,      // no "ANDROID BACKUP" header
  Unsupported,    // version or encryption we do not know
  NeedPassword,   // encrypted and no password given
  WrongPassword,  // the password does not unwrap the master key
  Corrupt,        // bad padding, truncated or damaged stream
  TooBig,         // over a limit
  IoError,
};

struct AbResult {
  AbStatus status = AbStatus::IoError;
  std::string message;          // human explanation when status != Ok
  AbHeader header;
  std::string tar;              // decoded tar stream (status Ok)
  std::uint64_t tar_size = 0;   // bytes produced
  std::string tar_sha256;       // of the decoded tar
  bool checksum_mangled = false;  // the master-key checksum matched the Java-mangled form
};

// Reads only the header lines (to know whether a password is needed).
std::optional<AbHeader> read_ab_header(std::istream& in, std::string* err);
std::optional<AbHeader> read_ab_header_file(const std::filesystem::path& path, std::string* err);
bool looks_like_android_backup(std::string_view head);

AbResult decode_android_backup(std::istream& in, const std::optional<std::string>& password,
                               const AbLimits& limits = {});
AbResult decode_android_backup_file(const std::filesystem::path& path,
                                    const std::optional<std::string>& password,
                                    const AbLimits& limits = {});
AbResult decode_android_backup_bytes(std::string_view data,
                                     const std::optional<std::string>& password,
                                     const AbLimits& limits = {});

// Java's conversion of the master key bytes to a char[] and then UTF-8 (Android's
// makeKeyChecksum for backup versions >= 2): each byte >= 0x80 becomes three bytes.
std::string ab_mangle_key(std::string_view key);

// Decodes and wraps the tar as a TarSource of kind "backup" (paths as in the tar:
// "apps/<package>/..."). Fails with the AbResult's message; *status tells why.
std::unique_ptr<AndroidSource> open_android_backup(const std::filesystem::path& path,
                                                   const std::optional<std::string>& password,
                                                   std::string display, AbStatus* status,
                                                   std::string* err, const AbLimits& limits = {});
std::unique_ptr<AndroidSource> open_android_backup_bytes(std::string_view data,
                                                         const std::optional<std::string>& password,
                                                         std::string display, AbStatus* status,
                                                         std::string* err,
                                                         const AbLimits& limits = {});

}  // namespace bridle

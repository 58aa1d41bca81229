// Small helpers used across layers: hashing, strings, files, user folders.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bridle {

namespace fs = std::filesystem;

std::string to_hex(const unsigned char* data, std::size_t len);
std::string sha256_hex(std::string_view data);
std::string sha1_hex(std::string_view data);
// Streams the file; nullopt when it cannot be read.
std::optional<std::string> sha256_file(const fs::path& path);
// sha256_file computed at most once per process for the same file (device, inode, size,
// modification time): the evidence hashes of info.json, the store's input digest and a
// scan's resume check read a large Manifest.db or archive once. Concurrent callers for the
// same file wait for the first one. A file that changed is hashed again.
std::optional<std::string> sha256_file_shared(const fs::path& path);

std::string to_lower(std::string_view s);
std::string trim(std::string_view s);
bool starts_with_icase(std::string_view s, std::string_view prefix);
std::vector<std::string> split(std::string_view s, char sep);

// Reads a whole file, refusing files larger than max_bytes (nullopt + reason).
std::optional<std::string> read_file(const fs::path& path, std::uint64_t max_bytes,
                                     std::string* error = nullptr);

std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view data);

// Python-like repr of bytes decoded as UTF-8 with backslashreplace (MVT's JSON encoder).
std::string utf8_backslashreplace(std::string_view data);
bool is_valid_utf8(std::string_view data);

// $XDG_DATA_HOME/bridle (or ~/.local/share/bridle).
fs::path user_data_dir();

// A private (0700) temporary directory removed on destruction, with everything in it.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "bridle");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace bridle

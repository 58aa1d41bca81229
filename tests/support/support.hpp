// Helpers for tests: fixtures built from text (SQL, plists, zips), temp folders, the CLI.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/types.hpp"

namespace bridle::test {

namespace fs = std::filesystem;

// A fresh folder under the system temp dir, removed at destruction.
class Scratch {
 public:
  Scratch();
  ~Scratch();
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  fs::path path_;
};

// Creates an SQLite database at `path` from SQL text (parent folders created).
void make_sqlite(const fs::path& path, const std::string& sql);
// Writes bytes to a file (parent folders created).
void write_file(const fs::path& path, const std::string& data);
std::string slurp(const fs::path& path);
// Serialises JSON (objects, arrays, strings, numbers, bools) as a binary or XML plist.
// Strings of the form "date:<unix seconds>" become dates; {"$data": "<base64>"} becomes data;
// {"$uid": n} becomes a UID.
std::string make_plist(const Json& value, bool binary = true);
// AES-256-CBC with a zero IV and PKCS#7 padding (or none), as iOS backups encrypt files:
// one OpenSSL EVP pass, independent of the code under test.
std::string encrypt_cbc(std::string_view key, std::string_view data, bool pad = true);
// A zlib (RFC 1950) stream of `s`, as in .ab payloads and Android sms_backup files.
std::string zlib_compress(const std::string& s);
// A tar archive (pax) of regular files (name, bytes), mode 0644, modified at `mtime`.
std::string make_tar(const std::vector<std::pair<std::string, std::string>>& files, long mtime = 1600000000);

// ../shared from the repo root, or nullopt (tests then GTEST_SKIP with a clear message).
std::optional<fs::path> shared_dir();
#define BRIDLE_REQUIRE_SHARED(var)                                                   \
  auto var##_opt = ::bridle::test::shared_dir();                                     \
  if (!var##_opt) GTEST_SKIP() << "skipped: ../shared/corpus not found (third-party " \
                                  "conformance data is not part of the repository)"; \
  const ::std::filesystem::path var = *var##_opt

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs the built `bridle` binary with arguments (no shell), extra environment entries
// (NAME=value) and optional stdin text.
RunResult run_bridle(const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {}, const std::string& input = "");

// sha256 of every regular file under root, by relative path (symlinks listed as "link:").
std::map<std::string, std::string> tree_hashes(const fs::path& root);

}  // namespace bridle::test

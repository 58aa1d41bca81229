// Encrypted databases read in place: ios::open_cbc_reader over hostile ciphertext files and
// SqliteDb::open_image over hostile plaintext. Input: byte 0 = flags, byte 1 = amount, the
// rest = plaintext. The plaintext is encrypted here (AES-256-CBC, PKCS#7, fixed key), then
// possibly damaged (truncated, a byte flipped, padding left off, a wrong MBFile Size) before
// the reader opens the file; every table the database claims is then read.
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "acquisition/ios_crypto.hpp"
#include "formats/sqlite.hpp"

namespace {

const unsigned char kKey[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

std::string encrypt(const std::string& plain, bool pad) {
  static const unsigned char iv[16] = {};
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string out(plain.size() + 32, '\0');
  int len = 0, fl = 0;
  EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, kKey, iv);
  EVP_CIPHER_CTX_set_padding(ctx, pad ? 1 : 0);
  std::string in = plain;
  if (!pad) in.resize(in.size() / 16 * 16);
  EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                    reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &fl);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<std::size_t>(len + fl));
  return out;
}

// The ciphertext file (one per process, removed at exit).
struct Scratch {
  std::filesystem::path p =
      std::filesystem::temp_directory_path() / ("fuzz_cbc_image." + std::to_string(::getpid()));
  ~Scratch() {
    std::error_code ec;
    std::filesystem::remove(p, ec);
  }
};
const std::filesystem::path& file() {
  static const Scratch s;
  return s.p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2 || size > (1u << 20)) return 0;
  const std::uint8_t flags = data[0], amount = data[1];
  std::string plain(reinterpret_cast<const char*>(data + 2), size - 2);
  std::string ct = encrypt(plain, !(flags & 1));
  if ((flags & 2) && !ct.empty()) ct.resize(ct.size() - std::min<std::size_t>(ct.size(), amount % 48));
  if ((flags & 4) && !ct.empty()) ct[amount % ct.size()] ^= static_cast<char>(0x80 | amount);
  {
    std::ofstream out(file(), std::ios::binary | std::ios::trunc);
    out.write(ct.data(), static_cast<std::streamsize>(ct.size()));
  }
  bridle::ios::CbcReaderOptions opt;
  opt.strip_padding = !(flags & 8);
  if (flags & 16) opt.expected_size = plain.size() + (flags & 32 ? amount : 0);
  std::string key(reinterpret_cast<const char*>(kKey), sizeof kKey), err;
  auto reader = bridle::ios::open_cbc_reader(key, file(), opt, &err);
  if (!reader) return 0;
  // Random reads, then the whole database.
  std::string buf(64, '\0');
  const std::uint64_t sz = reader->size();
  for (std::uint64_t off : {std::uint64_t{0}, sz / 2, sz ? sz - 1 : 0, sz, sz + amount})
    (void)reader->read(off, buf.data(), std::min<std::uint64_t>(buf.size(), amount), &err);
  bridle::SqliteError se;
  auto db = bridle::SqliteDb::open_image(std::move(reader), "fuzz", &se);
  if (!db) return 0;
  db->set_query_timeout(std::chrono::milliseconds(2000));
  std::vector<std::string> tables;
  db->query("SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 16", [&](const bridle::SqliteRow& r) {
    tables.push_back(r.text(0));
    return true;
  });
  for (const auto& t : tables) {
    std::string q = "SELECT * FROM \"";
    for (char c : t) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    q += "\" ORDER BY 1 LIMIT 2000";
    db->query(q, [](const bridle::SqliteRow& r) {
      for (int i = 0; i < r.columns(); ++i) (void)r.value(i, true);
      return true;
    });
  }
  (void)db->quick_check();
  return 0;
}

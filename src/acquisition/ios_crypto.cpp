#include "acquisition/ios_crypto.hpp"

#include "formats/plist.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "core/util.hpp"

namespace bridle::ios {

namespace fs = std::filesystem;

void cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

namespace {

// ---------------------------------------------------------------------------------------
// Small RAII helpers

struct CipherCtx {
  EVP_CIPHER_CTX* p = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(p); }
  CipherCtx() = default;
  CipherCtx(const CipherCtx&) = delete;
  CipherCtx& operator=(const CipherCtx&) = delete;
};

struct MdCtx {
  EVP_MD_CTX* p = nullptr;
  MdCtx(bool enabled) {
    if (enabled) {
      p = EVP_MD_CTX_new();
      if (p && EVP_DigestInit_ex(p, EVP_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(p);
        p = nullptr;
      }
    }
  }
  ~MdCtx() { EVP_MD_CTX_free(p); }
  MdCtx(const MdCtx&) = delete;
  MdCtx& operator=(const MdCtx&) = delete;
  void update(const unsigned char* d, std::size_t n) {
    if (p && n) EVP_DigestUpdate(p, d, n);
  }
  std::string hex() {
    if (!p) return {};
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(p, md, &len) != 1) return {};
    return to_hex(md, len);
  }
};

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// Wipes a std::string on scope exit.
struct Wipe {
  std::string& s;
  ~Wipe() { cleanse(s); }
};

void set_err(std::string* err, std::string msg) {
  if (err) *err = std::move(msg);
}

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::uint32_t be32(std::string_view s, std::size_t pos) {
  return (std::uint32_t(std::uint8_t(s[pos])) << 24) | (std::uint32_t(std::uint8_t(s[pos + 1])) << 16) |
         (std::uint32_t(std::uint8_t(s[pos + 2])) << 8) | std::uint32_t(std::uint8_t(s[pos + 3]));
}

std::uint32_t le32(std::string_view s) {
  return std::uint32_t(std::uint8_t(s[0])) | (std::uint32_t(std::uint8_t(s[1])) << 8) |
         (std::uint32_t(std::uint8_t(s[2])) << 16) | (std::uint32_t(std::uint8_t(s[3])) << 24);
}

// Printable rendering of untrusted bytes for messages.
std::string printable(std::string_view s, std::size_t max = 80) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static const char* hx = "0123456789abcdef";
      out += "\\x";
      out += hx[c >> 4];
      out += hx[c & 15];
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string errno_text(int e) { return std::strerror(e); }

// Reads up to n bytes, retrying on short reads/EINTR. Returns bytes read, -1 on error.
ssize_t read_full(int fd, unsigned char* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, buf + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

bool write_full(int fd, const unsigned char* buf, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd, buf + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(w);
  }
  return true;
}

// Opens an input evidence file: must be a regular file (a symlink is refused).
int open_input(const fs::path& in, std::uint64_t* size, std::string* err) {
  int fd = ::open(in.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    set_err(err, "cannot open " + in.string() + ": " + errno_text(errno));
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    set_err(err, in.string() + " is not a regular file");
    return -1;
  }
  *size = static_cast<std::uint64_t>(st.st_size);
  return fd;
}

// Creates/truncates an output file with mode 0600, never following a final symlink.
int open_output(const fs::path& out, std::string* err) {
  int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    set_err(err, "cannot create " + out.string() + ": " + errno_text(errno));
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    set_err(err, out.string() + " is not a regular file");
    return -1;
  }
  ::fchmod(fd, 0600);
  return fd;
}

constexpr std::size_t kChunk = 1u << 20;

// Streams in -> out through AES-256-CBC (IV 0), or a plain copy when key is empty.
// Computes sha256 of input/output when the pointers are given.
bool stream_file(std::string_view key, const fs::path& in, const fs::path& out, bool strip,
                 std::string* err, std::uint64_t* plain_size, std::string* in_sha,
                 std::string* out_sha) {
  const bool decrypt = !key.empty();
  if (decrypt && key.size() != 32) {
    set_err(err, "AES-256 key must be 32 bytes (got " + std::to_string(key.size()) + ")");
    return false;
  }
  std::uint64_t in_size = 0;
  Fd ifd(open_input(in, &in_size, err));
  if (ifd.fd < 0) return false;
  if (decrypt && in_size % 16 != 0) {
    set_err(err, in.string() + ": ciphertext length " + std::to_string(in_size) +
                     " is not a multiple of 16");
    return false;
  }
  if (decrypt && strip && in_size == 0) {
    set_err(err, in.string() + ": empty ciphertext has no PKCS#7 padding");
    return false;
  }
  CipherCtx ctx;
  if (decrypt) {
    static const unsigned char iv[16] = {};
    if (!ctx.p || EVP_DecryptInit_ex(ctx.p, EVP_aes_256_cbc(), nullptr, u8(key), iv) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx.p, strip ? 1 : 0) != 1) {
      set_err(err, "OpenSSL AES-256-CBC initialisation failed");
      return false;
    }
  }
  Fd ofd(open_output(out, err));
  if (ofd.fd < 0) return false;
  auto fail = [&](std::string msg) {
    set_err(err, std::move(msg));
    ::close(ofd.fd);
    ofd.fd = -1;
    std::error_code ec;
    fs::remove(out, ec);
    return false;
  };
  MdCtx hin(in_sha != nullptr), hout(out_sha != nullptr);
  std::vector<unsigned char> ibuf(kChunk), obuf(kChunk + 32);
  std::uint64_t total = 0, seen = 0;
  for (;;) {
    ssize_t n = read_full(ifd.fd, ibuf.data(), ibuf.size());
    if (n < 0) return fail("cannot read " + in.string() + ": " + errno_text(errno));
    if (n == 0) break;
    seen += static_cast<std::uint64_t>(n);
    hin.update(ibuf.data(), static_cast<std::size_t>(n));
    const unsigned char* data = ibuf.data();
    int olen = n;
    if (decrypt) {
      if (EVP_DecryptUpdate(ctx.p, obuf.data(), &olen, ibuf.data(), static_cast<int>(n)) != 1)
        return fail(in.string() + ": AES-256-CBC decryption failed");
      data = obuf.data();
    }
    if (olen > 0) {
      hout.update(data, static_cast<std::size_t>(olen));
      if (!write_full(ofd.fd, data, static_cast<std::size_t>(olen)))
        return fail("cannot write " + out.string() + ": " + errno_text(errno));
      total += static_cast<std::uint64_t>(olen);
    }
  }
  if (decrypt && seen % 16 != 0)
    return fail(in.string() + ": ciphertext length changed while reading");
  if (decrypt) {
    int flen = 0;
    if (EVP_DecryptFinal_ex(ctx.p, obuf.data(), &flen) != 1)
      return fail(in.string() + ": invalid PKCS#7 padding (wrong key or corrupted file)");
    if (flen > 0) {
      hout.update(obuf.data(), static_cast<std::size_t>(flen));
      if (!write_full(ofd.fd, obuf.data(), static_cast<std::size_t>(flen)))
        return fail("cannot write " + out.string() + ": " + errno_text(errno));
      total += static_cast<std::uint64_t>(flen);
    }
  }
  OPENSSL_cleanse(obuf.data(), obuf.size());
  if (::close(ofd.fd) != 0) {
    ofd.fd = -1;
    return fail("cannot write " + out.string() + ": " + errno_text(errno));
  }
  ofd.fd = -1;
  if (plain_size) *plain_size = total;
  if (in_sha) *in_sha = hin.hex();
  if (out_sha) *out_sha = hout.hex();
  return true;
}

bool pbkdf2(std::string_view pass, std::string_view salt, std::uint64_t iter, const char* digest,
            unsigned char* out, std::size_t outlen, std::string* err) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "PBKDF2", nullptr);
  if (!kdf) {
    set_err(err, "OpenSSL PBKDF2 is unavailable");
    return false;
  }
  EVP_KDF_CTX* kctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (!kctx) {
    set_err(err, "OpenSSL PBKDF2 is unavailable");
    return false;
  }
  int pkcs5 = 1;  // plain PKCS#5: no SP 800-132 lower bounds (real keybags are fine anyway)
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(pass.data()),
                                        pass.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &pkcs5),
      OSSL_PARAM_construct_end()};
  int ok = EVP_KDF_derive(kctx, out, outlen, params);
  EVP_KDF_CTX_free(kctx);
  if (ok != 1) {
    set_err(err, std::string("PBKDF2-HMAC-") + digest + " failed");
    return false;
  }
  return true;
}

// "14.3" -> {14, 3}; nullopt when the major part is not a number.
std::optional<std::pair<unsigned, unsigned>> parse_version(std::string_view v) {
  auto parts = split(trim(v), '.');
  if (parts.empty() || parts[0].empty()) return std::nullopt;
  unsigned major = 0, minor = 0;
  auto r = std::from_chars(parts[0].data(), parts[0].data() + parts[0].size(), major);
  if (r.ec != std::errc() || r.ptr != parts[0].data() + parts[0].size()) return std::nullopt;
  if (parts.size() > 1 && !parts[1].empty()) {
    auto r2 = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), minor);
    if (r2.ec != std::errc()) minor = 0;
  }
  return std::make_pair(major, minor);
}

bool is_hex40(std::string_view s) {
  if (s.size() != 40) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::string uri_escape_path(const std::string& p) {
  std::string out;
  static const char* hx = "0123456789ABCDEF";
  for (unsigned char c : p) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hx[c >> 4];
      out += hx[c & 15];
    }
  }
  return out;
}

bool make_private_dir(const fs::path& dir, std::string* err) {
  std::error_code ec;
  auto st = fs::symlink_status(dir, ec);
  if (!ec && fs::exists(st)) {
    if (!fs::is_directory(st)) {
      set_err(err, dir.string() + " exists and is not a directory");
      return false;
    }
    return true;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    set_err(err, "cannot create " + dir.string() + ": " + errno_text(errno));
    return false;
  }
  st = fs::symlink_status(dir, ec);
  if (ec || !fs::is_directory(st)) {
    set_err(err, dir.string() + " is not a directory");
    return false;
  }
  return true;
}

}  // namespace

// -----------------------------------------------------------------------------------------
// Keybag

std::optional<Keybag> parse_keybag(std::string_view tlv, std::string* err) {
  if (tlv.empty()) {
    set_err(err, "keybag is empty");
    return std::nullopt;
  }
  if (tlv.size() > kMaxKeybagBytes) {
    set_err(err, "keybag is too large (" + std::to_string(tlv.size()) + " bytes)");
    return std::nullopt;
  }
  Keybag kb;
  bool have_uuid = false, have_wrap = false, in_class = false, cur_has_clas = false;
  KeybagClass cur;
  std::size_t records = 0;

  auto store = [&]() -> bool {
    if (!in_class) return true;
    if (!cur_has_clas) return true;  // a record without CLAS cannot be used: ignore it
    if (!kb.classes.count(cur.clas) && kb.classes.size() >= kMaxKeybagClasses) {
      set_err(err, "keybag has too many class records (limit " +
                       std::to_string(kMaxKeybagClasses) + ")");
      return false;
    }
    kb.classes[cur.clas] = std::move(cur);
    return true;
  };

  std::size_t pos = 0;
  while (pos < tlv.size()) {
    if (tlv.size() - pos < 8) {
      set_err(err, "keybag: truncated record header at offset " + std::to_string(pos));
      return std::nullopt;
    }
    std::string tag(tlv.substr(pos, 4));
    std::uint32_t len = be32(tlv, pos + 4);
    if (len > tlv.size() - pos - 8) {
      set_err(err, "keybag: record '" + printable(tag) + "' at offset " + std::to_string(pos) +
                       " claims " + std::to_string(len) + " bytes but only " +
                       std::to_string(tlv.size() - pos - 8) + " remain");
      return std::nullopt;
    }
    std::string_view val = tlv.substr(pos + 8, len);
    pos += 8 + static_cast<std::size_t>(len);
    if (++records > kMaxKeybagRecords) {
      set_err(err, "keybag has too many records (limit " + std::to_string(kMaxKeybagRecords) + ")");
      return std::nullopt;
    }
    auto as_u32 = [&](std::uint32_t& out) {
      if (val.size() != 4) {
        set_err(err, "keybag: '" + tag + "' must be a 4-byte integer (got " +
                         std::to_string(val.size()) + " bytes)");
        return false;
      }
      out = be32(val, 0);
      return true;
    };
    if (tag == "UUID") {
      if (!have_uuid) {
        kb.uuid = std::string(val);
        have_uuid = true;
      } else {
        if (!store()) return std::nullopt;
        cur = KeybagClass{};
        cur.uuid = std::string(val);
        in_class = true;
        cur_has_clas = false;
      }
    } else if (tag == "WRAP") {
      if (in_class) {
        if (!as_u32(cur.wrap)) return std::nullopt;
      } else if (!have_wrap) {
        if (!as_u32(kb.wrap)) return std::nullopt;
        have_wrap = true;
      }
    } else if (tag == "CLAS" || tag == "KTYP" || tag == "WPKY" || tag == "PBKY") {
      if (!in_class) continue;  // a class tag outside a class record: ignored
      if (tag == "CLAS") {
        if (!as_u32(cur.clas)) return std::nullopt;
        cur_has_clas = true;
      } else if (tag == "KTYP") {
        if (!as_u32(cur.ktyp)) return std::nullopt;
      } else if (tag == "WPKY") {
        cur.wpky = std::string(val);
      } else {
        cur.pbky = std::string(val);
      }
    } else if (tag == "VERS") {
      if (!as_u32(kb.vers)) return std::nullopt;
    } else if (tag == "TYPE") {
      if (!as_u32(kb.type)) return std::nullopt;
    } else if (tag == "ITER") {
      if (!as_u32(kb.iter)) return std::nullopt;
    } else if (tag == "DPIC") {
      if (!as_u32(kb.dpic)) return std::nullopt;
    } else if (tag == "DPWT") {
      if (!as_u32(kb.dpwt)) return std::nullopt;
    } else if (tag == "SALT") {
      kb.salt = std::string(val);
    } else if (tag == "DPSL") {
      kb.dpsl = std::string(val);
    } else {
      kb.attributes[tag] = std::string(val);
    }
  }
  if (!store()) return std::nullopt;
  if (!have_uuid) {
    set_err(err, "keybag has no UUID record");
    return std::nullopt;
  }
  return kb;
}

// -----------------------------------------------------------------------------------------
// Key derivation

std::optional<std::string> derive_key(const Keybag& kb, std::string_view password,
                                      std::string_view product_version, std::string* err,
                                      std::string* intermediate) {
  bool new_scheme;
  if (auto v = parse_version(product_version)) {
    new_scheme = v->first > 10 || (v->first == 10 && v->second >= 2);
  } else {
    new_scheme = !kb.dpsl.empty() && kb.dpic != 0;
  }
  if (kb.salt.empty() || kb.iter == 0) {
    set_err(err, "keybag lacks SALT/ITER");
    return std::nullopt;
  }
  std::string k(32, '\0');
  if (new_scheme) {
    if (kb.dpsl.empty() || kb.dpic == 0) {
      set_err(err, "keybag lacks DPSL/DPIC required for iOS >= 10.2 backups");
      return std::nullopt;
    }
    std::string t(32, '\0');
    Wipe wt{t};
    if (!pbkdf2(password, kb.dpsl, kb.dpic, "SHA256", reinterpret_cast<unsigned char*>(t.data()), 32,
                err))
      return std::nullopt;
    if (!pbkdf2(t, kb.salt, kb.iter, "SHA1", reinterpret_cast<unsigned char*>(k.data()), 32, err)) {
      cleanse(k);
      return std::nullopt;
    }
    if (intermediate) *intermediate = t;
  } else {
    if (!pbkdf2(password, kb.salt, kb.iter, "SHA1", reinterpret_cast<unsigned char*>(k.data()), 32,
                err)) {
      cleanse(k);
      return std::nullopt;
    }
    if (intermediate) intermediate->clear();
  }
  return k;
}

// -----------------------------------------------------------------------------------------
// AES key wrap

std::optional<std::string> aes_unwrap(std::string_view kek, std::string_view wrapped) {
  const EVP_CIPHER* cipher = nullptr;
  switch (kek.size()) {
    case 16: cipher = EVP_aes_128_wrap(); break;
    case 24: cipher = EVP_aes_192_wrap(); break;
    case 32: cipher = EVP_aes_256_wrap(); break;
    default: return std::nullopt;
  }
  if (wrapped.size() < 24 || wrapped.size() % 8 != 0 || wrapped.size() > (1u << 20))
    return std::nullopt;
  CipherCtx ctx;
  if (!ctx.p) return std::nullopt;
  EVP_CIPHER_CTX_set_flags(ctx.p, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_DecryptInit_ex(ctx.p, cipher, nullptr, u8(kek), nullptr) != 1) return std::nullopt;
  std::string out(wrapped.size() + 16, '\0');
  int len = 0, flen = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (EVP_DecryptUpdate(ctx.p, o, &len, u8(wrapped), static_cast<int>(wrapped.size())) <= 0 ||
      EVP_DecryptFinal_ex(ctx.p, o + len, &flen) <= 0 ||
      static_cast<std::size_t>(len + flen) != wrapped.size() - 8) {
    cleanse(out);
    return std::nullopt;
  }
  OPENSSL_cleanse(o + len + flen, out.size() - static_cast<std::size_t>(len + flen));
  out.resize(static_cast<std::size_t>(len + flen));
  return out;
}

// -----------------------------------------------------------------------------------------
// Class keys

BackupKeys::~BackupKeys() {
  for (auto& [cls, key] : keys_) cleanse(key);
}

std::optional<BackupKeys> BackupKeys::unlock(const Keybag& kb, std::string_view derived_key,
                                             std::string* err) {
  if (derived_key.size() != 32) {
    set_err(err, "derived key must be 32 bytes (got " + std::to_string(derived_key.size()) + ")");
    return std::nullopt;
  }
  BackupKeys keys;
  for (const auto& [cls, rec] : kb.classes) {
    if (rec.wpky.empty() || !(rec.wrap & kWrapPasscode)) continue;
    if (rec.wpky.size() < 24 || rec.wpky.size() % 8 != 0) {
      set_err(err, "keybag class " + std::to_string(cls) + ": malformed WPKY (" +
                       std::to_string(rec.wpky.size()) + " bytes)");
      return std::nullopt;
    }
    auto k = aes_unwrap(derived_key, rec.wpky);
    if (!k) {
      // The first integrity-check failure means the password/key is wrong: stop here.
      set_err(err, "wrong password or key");
      return std::nullopt;
    }
    keys.keys_[cls] = std::move(*k);
    cleanse(*k);
  }
  if (keys.keys_.empty()) {
    set_err(err, "keybag has no passcode-wrapped class keys");
    return std::nullopt;
  }
  return keys;
}

std::optional<std::string> BackupKeys::class_key(std::uint32_t cls) const {
  auto it = keys_.find(cls);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> BackupKeys::unwrap_manifest_key(std::string_view manifest_key,
                                                           std::string* err) const {
  if (manifest_key.size() != 44) {
    set_err(err, "invalid ManifestKey length " + std::to_string(manifest_key.size()) +
                     " (expected 44)");
    return std::nullopt;
  }
  std::uint32_t cls = le32(manifest_key);
  auto it = keys_.find(cls);
  if (it == keys_.end()) {
    set_err(err, "ManifestKey uses protection class " + std::to_string(cls) +
                     ", which is not unlocked");
    return std::nullopt;
  }
  auto k = aes_unwrap(it->second, manifest_key.substr(4));
  if (!k) {
    set_err(err, "ManifestKey does not unwrap with class key " + std::to_string(cls) +
                     " (corrupted Manifest.plist?)");
    return std::nullopt;
  }
  return k;
}

std::optional<std::string> BackupKeys::unwrap_file_key(std::string_view encryption_key,
                                                       std::uint32_t protection_class,
                                                       std::string* err) const {
  if (encryption_key.size() != 44) {
    set_err(err, "invalid EncryptionKey length " + std::to_string(encryption_key.size()) +
                     " (expected 44)");
    return std::nullopt;
  }
  std::uint32_t embedded = le32(encryption_key);
  std::string_view wrapped = encryption_key.substr(4);
  // ProtectionClass decides (as iOSbackup does); the class embedded in the blob is tried
  // only when it differs and the first attempt fails.
  for (std::uint32_t cls : {protection_class, embedded}) {
    auto it = keys_.find(cls);
    if (it == keys_.end()) continue;
    if (auto k = aes_unwrap(it->second, wrapped)) return k;
    if (embedded == protection_class) break;
  }
  set_err(err, "EncryptionKey does not unwrap with class key " + std::to_string(protection_class) +
                   (embedded != protection_class ? " or " + std::to_string(embedded) : "") +
                   (keys_.count(protection_class) ? "" : " (class not unlocked)"));
  return std::nullopt;
}

// -----------------------------------------------------------------------------------------
// AES-256-CBC

std::optional<std::string> decrypt_cbc(std::string_view key, std::string_view data,
                                       bool strip_padding, std::string* err) {
  if (key.size() != 32) {
    set_err(err, "AES-256 key must be 32 bytes (got " + std::to_string(key.size()) + ")");
    return std::nullopt;
  }
  if (data.size() % 16 != 0) {
    set_err(err, "ciphertext length " + std::to_string(data.size()) + " is not a multiple of 16");
    return std::nullopt;
  }
  if (strip_padding && data.empty()) {
    set_err(err, "empty ciphertext has no PKCS#7 padding");
    return std::nullopt;
  }
  if (data.size() > static_cast<std::size_t>(INT32_MAX) - 32) {
    set_err(err, "ciphertext too large for in-memory decryption");
    return std::nullopt;
  }
  static const unsigned char iv[16] = {};
  CipherCtx ctx;
  if (!ctx.p || EVP_DecryptInit_ex(ctx.p, EVP_aes_256_cbc(), nullptr, u8(key), iv) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.p, strip_padding ? 1 : 0) != 1) {
    set_err(err, "OpenSSL AES-256-CBC initialisation failed");
    return std::nullopt;
  }
  std::string out(data.size() + 16, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, flen = 0;
  if (EVP_DecryptUpdate(ctx.p, o, &len, u8(data), static_cast<int>(data.size())) != 1) {
    cleanse(out);
    set_err(err, "AES-256-CBC decryption failed");
    return std::nullopt;
  }
  if (EVP_DecryptFinal_ex(ctx.p, o + len, &flen) != 1) {
    cleanse(out);
    set_err(err, "invalid PKCS#7 padding (wrong key or corrupted data)");
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(len + flen));
  return out;
}

bool decrypt_cbc_inplace(std::string_view key, std::string& data, bool strip_padding, std::string* err) {
  auto fail = [&](const std::string& m) {
    cleanse(data);
    set_err(err, m);
    return false;
  };
  if (key.size() != 32) return fail("AES-256 key must be 32 bytes (got " + std::to_string(key.size()) + ")");
  if (data.size() % 16 != 0)
    return fail("ciphertext length " + std::to_string(data.size()) + " is not a multiple of 16");
  if (strip_padding && data.empty()) return fail("empty ciphertext has no PKCS#7 padding");
  if (data.size() > static_cast<std::size_t>(INT32_MAX) - 32) return fail("ciphertext too large for in-memory decryption");
  static const unsigned char iv[16] = {};
  CipherCtx ctx;
  if (!ctx.p || EVP_DecryptInit_ex(ctx.p, EVP_aes_256_cbc(), nullptr, u8(key), iv) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.p, strip_padding ? 1 : 0) != 1)
    return fail("OpenSSL AES-256-CBC initialisation failed");
  // One update over the whole buffer, in place (OpenSSL supports out == in when the data is
  // processed in whole blocks; with padding the last block is held back and written by Final).
  auto* o = reinterpret_cast<unsigned char*>(data.data());
  int len = 0, flen = 0;
  if (EVP_DecryptUpdate(ctx.p, o, &len, o, static_cast<int>(data.size())) != 1)
    return fail("AES-256-CBC decryption failed");
  if (EVP_DecryptFinal_ex(ctx.p, o + len, &flen) != 1)
    return fail("invalid PKCS#7 padding (wrong key or corrupted data)");
  std::size_t plain = static_cast<std::size_t>(len + flen);
  if (plain < data.size()) OPENSSL_cleanse(data.data() + plain, data.size() - plain);
  data.resize(plain);
  return true;
}

bool decrypt_cbc_file(std::string_view key, const fs::path& in, const fs::path& out,
                      std::string* err, std::uint64_t* plain_size, bool strip_padding) {
  if (key.size() != 32) {
    set_err(err, "AES-256 key must be 32 bytes (got " + std::to_string(key.size()) + ")");
    return false;
  }
  return stream_file(key, in, out, strip_padding, err, plain_size, nullptr, nullptr);
}

// -----------------------------------------------------------------------------------------
// Random-access AES-256-CBC reader

namespace {

class CbcReader final : public SqliteImageReader {
 public:
  CbcReader(std::string label, int fd) : label_(std::move(label)), fd_(fd) {}
  ~CbcReader() override {
    for (auto& c : cache_)
      if (!c.data.empty()) OPENSSL_cleanse(c.data.data(), c.data.size());
    OPENSSL_cleanse(key_, sizeof key_);
    if (fd_ >= 0) ::close(fd_);
  }
  CbcReader(const CbcReader&) = delete;
  CbcReader& operator=(const CbcReader&) = delete;

  bool init(std::string_view key, const CbcReaderOptions& opt, std::uint64_t cipher_size,
            std::string* err) {
    if (key.size() != 32)
      return fail(err, "AES-256 key must be 32 bytes (got " + std::to_string(key.size()) + ")");
    std::memcpy(key_, key.data(), 32);
    if (!ctx_.p || EVP_DecryptInit_ex(ctx_.p, EVP_aes_256_cbc(), nullptr, key_, nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx_.p, 0) != 1)
      return fail(err, "OpenSSL AES-256-CBC initialisation failed");
    cipher_size_ = cipher_size;
    if (cipher_size % 16 != 0)
      return fail(err, "ciphertext length " + std::to_string(cipher_size) +
                           " is not a multiple of 16 (truncated, or not an encrypted file)");
    plain_size_ = cipher_size;
    if (opt.strip_padding) {
      if (cipher_size == 0) return fail(err, "empty ciphertext has no PKCS#7 padding");
      // The last block, chained on the one before it (or the zero IV).
      unsigned char ct[32] = {};
      std::size_t pre = cipher_size >= 32 ? 16 : 0;
      if (!pread_full(cipher_size - 16 - pre, ct, 16 + pre, err)) return false;
      unsigned char iv[16] = {};
      if (pre) std::memcpy(iv, ct, 16);
      unsigned char last[16];
      if (!decrypt_blocks(iv, ct + pre, 16, last, err)) return false;
      unsigned pad = last[15];
      bool ok = pad >= 1 && pad <= 16;
      for (unsigned i = 0; ok && i < pad; ++i) ok = last[15 - i] == pad;
      OPENSSL_cleanse(last, sizeof last);
      if (!ok) return fail(err, "invalid PKCS#7 padding (wrong key or corrupted file)");
      plain_size_ = cipher_size - pad;
    }
    if (opt.expected_size && *opt.expected_size != plain_size_)
      return fail(err, "the backup's Manifest records " + std::to_string(*opt.expected_size) +
                           " bytes (MBFile Size) but the file decrypts to " +
                           std::to_string(plain_size_) + " (truncated or altered file)");
    return true;
  }

  std::uint64_t size() const override { return plain_size_; }

  bool read(std::uint64_t off, void* out, std::size_t n, std::string* err) override {
    if (off > plain_size_ || n > plain_size_ - off)
      return fail(err, "read of " + std::to_string(n) + " bytes at offset " + std::to_string(off) +
                           " is past the end (" + std::to_string(plain_size_) + " bytes)");
    auto* o = static_cast<unsigned char*>(out);
    while (n > 0) {
      std::uint64_t idx = off / kCbcChunk;
      const Chunk* c = chunk(idx, err);
      if (!c) return false;
      auto in = static_cast<std::size_t>(off - idx * kCbcChunk);
      std::size_t take = std::min(n, c->len - in);  // c->len > in: off < plain_size <= cipher_size
      std::memcpy(o, c->data.data() + in, take);
      o += take;
      off += take;
      n -= take;
    }
    return true;
  }

 private:
  struct Chunk {
    std::uint64_t index = UINT64_MAX;
    std::size_t len = 0;       // ciphertext bytes decrypted (multiple of 16, padding included)
    std::uint64_t used = 0;    // LRU tick
    std::vector<unsigned char> data;
  };

  bool fail(std::string* err, const std::string& why) const {
    set_err(err, label_ + ": " + why);
    return false;
  }

  bool pread_full(std::uint64_t off, unsigned char* buf, std::size_t n, std::string* err) {
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd_, buf + got, n - got, static_cast<off_t>(off + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return fail(err, "cannot read: " + errno_text(errno));
      }
      if (r == 0)
        return fail(err, "the file is shorter than when it was opened (truncated while reading?)");
      got += static_cast<std::size_t>(r);
    }
    return true;
  }

  bool decrypt_blocks(const unsigned char iv[16], const unsigned char* in, std::size_t len,
                      unsigned char* out, std::string* err) {
    int olen = 0;
    if (EVP_DecryptInit_ex(ctx_.p, nullptr, nullptr, nullptr, iv) != 1 ||
        EVP_DecryptUpdate(ctx_.p, out, &olen, in, static_cast<int>(len)) != 1 ||
        static_cast<std::size_t>(olen) != len)
      return fail(err, "AES-256-CBC decryption failed");
    return true;
  }

  const Chunk* chunk(std::uint64_t idx, std::string* err) {
    ++tick_;
    Chunk* victim = &cache_[0];
    for (auto& c : cache_) {
      if (c.index == idx) {
        c.used = tick_;
        return &c;
      }
      if (c.used < victim->used) victim = &c;
    }
    victim->index = UINT64_MAX;
    const std::uint64_t start = idx * kCbcChunk;
    const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(kCbcChunk, cipher_size_ - start));
    const std::size_t pre = start ? 16 : 0;  // C_{i-1} of the chunk's first block, else the IV
    cipher_.resize(kCbcChunk + 16);
    if (!pread_full(start - pre, cipher_.data(), pre + len, err)) return nullptr;
    unsigned char iv[16] = {};
    if (pre) std::memcpy(iv, cipher_.data(), 16);
    victim->data.resize(kCbcChunk);
    if (!decrypt_blocks(iv, cipher_.data() + pre, len, victim->data.data(), err)) return nullptr;
    victim->index = idx;
    victim->len = len;
    victim->used = tick_;
    return victim;
  }

  std::string label_;
  int fd_ = -1;
  unsigned char key_[32] = {};
  CipherCtx ctx_;
  std::uint64_t cipher_size_ = 0, plain_size_ = 0;
  std::uint64_t tick_ = 0;
  std::array<Chunk, kCbcCacheChunks> cache_{};
  std::vector<unsigned char> cipher_;
};

}  // namespace

std::unique_ptr<SqliteImageReader> open_cbc_reader(std::string_view key, const fs::path& path,
                                                   const CbcReaderOptions& options, std::string* err) {
  try {
    const std::string label = options.label.empty() ? path.string() : options.label;
    std::uint64_t size = 0;
    std::string oerr;
    int fd = open_input(path, &size, &oerr);
    if (fd < 0) {
      set_err(err, oerr);
      return nullptr;
    }
    auto r = std::make_unique<CbcReader>(label, fd);
    if (!r->init(key, options, size, err)) return nullptr;
    return r;
  } catch (const std::exception& e) {
    set_err(err, path.string() + ": " + e.what());
    return nullptr;
  }
}

// -----------------------------------------------------------------------------------------
// Manifest.plist, key file, MBFile

std::optional<ManifestPlist> read_manifest_plist(const fs::path& backup_dir, std::string* err) {
  fs::path p = backup_dir / "Manifest.plist";
  std::string rerr;
  auto bytes = read_file(p, 64u << 20, &rerr);
  if (!bytes) {
    set_err(err, "cannot read " + p.string() + (rerr.empty() ? "" : ": " + rerr));
    return std::nullopt;
  }
  if (bytes->empty() || bytes->size() > UINT32_MAX) {
    set_err(err, p.string() + " is empty");
    return std::nullopt;
  }
  // Evidence plists go through the guarded converter (libplist alone can be crashed by
  // deeply nested input).
  std::string perr;
  auto j = plist_to_json(*bytes, {}, &perr);
  if (!j || !j->is_object()) {
    set_err(err, p.string() + " is not a property list dictionary" + (perr.empty() ? "" : ": " + perr));
    return std::nullopt;
  }
  ManifestPlist mp;
  if (auto it = j->find("IsEncrypted"); it != j->end()) {
    if (it->is_boolean()) mp.is_encrypted = it->get<bool>();
    else if (it->is_number_integer()) mp.is_encrypted = it->get<std::int64_t>() != 0;
  }
  auto data_field = [&](const char* key) -> std::string {
    auto it = j->find(key);
    if (it == j->end() || !it->is_string()) return {};
    return base64_decode(it->get<std::string>()).value_or("");
  };
  mp.keybag = data_field("BackupKeyBag");
  mp.manifest_key = data_field("ManifestKey");
  if (auto lock = j->find("Lockdown"); lock != j->end() && lock->is_object()) {
    if (auto pv = lock->find("ProductVersion"); pv != lock->end() && pv->is_string())
      mp.product_version = pv->get<std::string>();
  }
  if (mp.is_encrypted && mp.keybag.empty()) {
    set_err(err, p.string() + ": encrypted backup without BackupKeyBag");
    return std::nullopt;
  }
  return mp;
}

std::optional<std::string> parse_key_hex(std::string_view text, std::string* err) {
  std::string_view t = text;
  if (!t.empty() && t.back() == '\n') {
    t.remove_suffix(1);
    if (!t.empty() && t.back() == '\r') t.remove_suffix(1);
  }
  if (t.empty()) {
    set_err(err, "key file is empty (expected 64 hexadecimal characters)");
    return std::nullopt;
  }
  for (std::size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) {
      if (c == '\n' || c == '\r' || c == ' ' || c == '\t') {
        set_err(err, "key file has unexpected whitespace at offset " + std::to_string(i) +
                         " (expected exactly 64 hexadecimal characters and at most one "
                         "trailing newline)");
      } else {
        set_err(err, "key file has a non-hexadecimal character at offset " + std::to_string(i));
      }
      return std::nullopt;
    }
  }
  if (t.size() != 64) {
    set_err(err, "key file must hold exactly 64 hexadecimal characters (found " +
                     std::to_string(t.size()) + ")");
    return std::nullopt;
  }
  std::string out(32, '\0');
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
  };
  for (std::size_t i = 0; i < 32; ++i)
    out[i] = static_cast<char>((nib(t[2 * i]) << 4) | nib(t[2 * i + 1]));
  return out;
}

std::optional<MBFileInfo> decode_mbfile(std::string_view blob, std::string* err) {
  if (blob.size() < 8 || blob.substr(0, 6) != "bplist") {
    set_err(err, "MBFile record is not a binary plist");
    return std::nullopt;
  }
  if (blob.size() > (4u << 20)) {
    set_err(err, "MBFile record is too large");
    return std::nullopt;
  }
  std::string perr;
  auto obj = nska_to_json(blob, {}, &perr);
  if (!obj || !obj->is_object()) {
    set_err(err, "MBFile record is not a readable keyed archive" + (perr.empty() ? "" : ": " + perr));
    return std::nullopt;
  }
  MBFileInfo info;
  if (auto ek = obj->find("EncryptionKey"); ek != obj->end()) {
    // Present but not data (a reference cycle, $null, a number...): refuse rather than
    // treating the file as stored in clear.
    std::optional<std::string> d;
    if (ek->is_string()) d = base64_decode(ek->get<std::string>());
    if (!d) {
      set_err(err, "MBFile EncryptionKey is not data");
      return std::nullopt;
    }
    info.encryption_key = std::move(*d);
  }
  if (auto pc = obj->find("ProtectionClass"); pc != obj->end() && !pc->is_null()) {
    if (!pc->is_number_integer() || pc->get<std::int64_t>() < 0 || pc->get<std::int64_t>() > UINT32_MAX) {
      set_err(err, "MBFile ProtectionClass is not a valid integer");
      return std::nullopt;
    }
    info.protection_class = static_cast<std::uint32_t>(pc->get<std::int64_t>());
  }
  if (auto sz = obj->find("Size"); sz != obj->end() && sz->is_number_integer() && sz->get<std::int64_t>() >= 0)
    info.size = static_cast<std::uint64_t>(sz->get<std::int64_t>());
  return info;
}

// -----------------------------------------------------------------------------------------
// Whole backup

namespace {

struct Job {
  std::string file_id;
  std::string label;  // domain/relativePath for messages
  fs::path src, dst;
  MBFileInfo mb;
};

struct JobResult {
  bool ok = false;
  std::string error;
  std::string note;
  std::string in_sha, out_sha;
};

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtCloser {
  void operator()(sqlite3_stmt* st) const { sqlite3_finalize(st); }
};

std::string column_text(sqlite3_stmt* st, int i) {
  const unsigned char* t = sqlite3_column_text(st, i);
  int n = sqlite3_column_bytes(st, i);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(n)) : std::string();
}

std::optional<DecryptReport> decrypt_backup_impl(const fs::path& backup_dir,
                                                 std::string_view derived_key, const fs::path& dest,
                                                 const DecryptOptions& opts, std::string* err) {
  auto mp = read_manifest_plist(backup_dir, err);
  if (!mp) return std::nullopt;
  if (!mp->is_encrypted) {
    set_err(err, "backup is not encrypted (Manifest.plist IsEncrypted is not true)");
    return std::nullopt;
  }
  std::string kerr;
  auto kb = parse_keybag(mp->keybag, &kerr);
  if (!kb) {
    set_err(err, "BackupKeyBag: " + kerr);
    return std::nullopt;
  }
  auto keys = BackupKeys::unlock(*kb, derived_key, err);
  if (!keys) return std::nullopt;

  {
    std::error_code ec;
    if (fs::exists(dest, ec) && fs::equivalent(dest, backup_dir, ec)) {
      set_err(err, "the destination folder is the backup folder itself");
      return std::nullopt;
    }
  }
  if (dest.has_parent_path() && !dest.parent_path().empty()) {
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    if (ec) {
      set_err(err, "cannot create " + dest.parent_path().string() + ": " + ec.message());
      return std::nullopt;
    }
  }
  if (!make_private_dir(dest, err)) return std::nullopt;

  DecryptReport rep;
  Json enc_hashes = Json::array(), dec_hashes = Json::array();
  auto add_hashes = [&](const fs::path& s, const std::string& sh, const fs::path& d,
                        const std::string& dh) {
    if (!opts.hashes) return;
    enc_hashes.push_back(Json{{"file_path", s.string()}, {"sha256", sh}});
    dec_hashes.push_back(Json{{"file_path", d.string()}, {"sha256", dh}});
  };

  // 1. Manifest.db into a private temporary folder, then read its rows there.
  TempDir tmp("bridle-manifest");
  const fs::path src_db = backup_dir / "Manifest.db";
  const fs::path plain_db = tmp.path() / "Manifest.db";
  std::string db_in_sha, db_out_sha;
  {
    std::string mk;
    Wipe wmk{mk};
    std::string derr;
    if (!mp->manifest_key.empty()) {
      auto k = keys->unwrap_manifest_key(mp->manifest_key, &derr);
      if (!k) {
        set_err(err, derr);
        return std::nullopt;
      }
      mk = std::move(*k);
      cleanse(*k);
    }
    // Before iOS 10.2 Manifest.db is not encrypted (no ManifestKey): copied as is.
    if (!stream_file(mk, src_db, plain_db, false, &derr, nullptr,
                     opts.hashes ? &db_in_sha : nullptr, opts.hashes ? &db_out_sha : nullptr)) {
      set_err(err, "Manifest.db: " + derr);
      return std::nullopt;
    }
  }
  {
    std::ifstream in(plain_db, std::ios::binary);
    char buf[16] = {};
    in.read(buf, sizeof buf);
    if (in.gcount() != 16 || std::memcmp(buf, "SQLite format 3", 16) != 0) {
      set_err(err, "Manifest.db did not decrypt to an SQLite database (wrong key or corrupted "
                   "backup)");
      return std::nullopt;
    }
  }

  std::vector<Job> jobs;
  {
    sqlite3* raw = nullptr;
    std::string uri = "file:" + uri_escape_path(plain_db.string()) + "?mode=ro&immutable=1";
    int rc = sqlite3_open_v2(uri.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
    std::unique_ptr<sqlite3, SqliteCloser> db(raw);
    if (rc != SQLITE_OK) {
      set_err(err, std::string("cannot open decrypted Manifest.db: ") +
                       (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
      return std::nullopt;
    }
    sqlite3_stmt* rst = nullptr;
    rc = sqlite3_prepare_v2(db.get(),
                            "SELECT fileID, domain, relativePath, flags, file FROM Files "
                            "ORDER BY domain, relativePath",
                            -1, &rst, nullptr);
    std::unique_ptr<sqlite3_stmt, StmtCloser> st(rst);
    if (rc != SQLITE_OK) {
      set_err(err, std::string("decrypted Manifest.db: ") + sqlite3_errmsg(db.get()));
      return std::nullopt;
    }
    std::size_t missing = 0;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      std::int64_t flags = sqlite3_column_int64(st.get(), 3);
      if (flags == 2) ++rep.dirs;
      if (flags != 1) continue;
      std::string id = column_text(st.get(), 0);
      std::string label = column_text(st.get(), 1) + "/" + column_text(st.get(), 2);
      if (!is_hex40(id)) {
        ++rep.errors;
        rep.messages.push_back("skipped Files row with an invalid fileID '" + printable(id) +
                               "' (" + printable(label, 200) + ")");
        continue;
      }
      Job job;
      job.file_id = id;
      job.label = std::move(label);
      job.src = backup_dir / id.substr(0, 2) / id;
      std::error_code ec;
      auto sst = fs::symlink_status(job.src, ec);
      if (ec || !fs::exists(sst)) {
        ++missing;
        continue;
      }
      const void* b = sqlite3_column_blob(st.get(), 4);
      int bn = sqlite3_column_bytes(st.get(), 4);
      std::string blob(b ? static_cast<const char*>(b) : "", b ? static_cast<std::size_t>(bn) : 0);
      std::string merr;
      auto mb = decode_mbfile(blob, &merr);
      if (!mb) {
        ++rep.errors;
        rep.messages.push_back(id + " (" + printable(job.label, 200) + "): " + merr);
        continue;
      }
      job.mb = std::move(*mb);
      if (job.mb.encryption_key && !job.mb.protection_class) {
        ++rep.errors;
        rep.messages.push_back(id + " (" + printable(job.label, 200) +
                               "): MBFile has an EncryptionKey but no ProtectionClass");
        continue;
      }
      job.dst = dest / id.substr(0, 2) / id;
      jobs.push_back(std::move(job));
    }
    if (rc != SQLITE_DONE) {
      set_err(err, std::string("decrypted Manifest.db: ") + sqlite3_errmsg(db.get()));
      return std::nullopt;
    }
    rep.missing = missing;
  }

  // 2. dest/Manifest.db (decrypted).
  {
    std::string cerr;
    if (!stream_file({}, plain_db, dest / "Manifest.db", false, &cerr, nullptr, nullptr, nullptr)) {
      set_err(err, cerr);
      return std::nullopt;
    }
    add_hashes(src_db, db_in_sha, dest / "Manifest.db", db_out_sha);
  }

  // 3. Per-file folders, then the bounded pool.
  std::vector<JobResult> results(jobs.size());
  std::vector<bool> dir_ok(jobs.size(), true);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    std::string derr;
    if (!make_private_dir(jobs[i].dst.parent_path(), &derr)) {
      dir_ok[i] = false;
      results[i].error = derr;
    }
  }
  std::atomic<std::size_t> next{0};
  auto worker = [&]() {
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= jobs.size()) return;
      if (!dir_ok[i]) continue;
      const Job& j = jobs[i];
      JobResult& r = results[i];
      try {
        std::string fk;
        Wipe wfk{fk};
        if (j.mb.encryption_key) {
          auto k = keys->unwrap_file_key(*j.mb.encryption_key, *j.mb.protection_class, &r.error);
          if (!k) continue;
          fk = std::move(*k);
          cleanse(*k);
        } else {
          r.note = "not encrypted (no EncryptionKey): copied as is";
        }
        std::uint64_t size = 0;
        if (!stream_file(fk, j.src, j.dst, true, &r.error, &size,
                         opts.hashes ? &r.in_sha : nullptr, opts.hashes ? &r.out_sha : nullptr))
          continue;
        if (j.mb.encryption_key && j.mb.size && *j.mb.size != size)
          r.note = "MBFile.Size is " + std::to_string(*j.mb.size) + " but the decrypted file has " +
                   std::to_string(size) + " bytes (padding-stripped length kept)";
        r.ok = true;
      } catch (const std::exception& e) {
        r.ok = false;
        r.error = e.what();
      }
    }
  };
  unsigned n = opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  n = std::min<unsigned>(n, 64);
  n = static_cast<unsigned>(std::min<std::size_t>(n, std::max<std::size_t>(jobs.size(), 1)));
  {
    // The calling thread works too, so a failure to start threads only slows things down.
    std::vector<std::thread> pool;
    try {
      for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
    } catch (const std::exception&) {
    }
    worker();
    for (auto& t : pool) t.join();
  }
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const Job& j = jobs[i];
    const JobResult& r = results[i];
    std::string who = j.file_id + " (" + printable(j.label, 200) + ")";
    if (r.ok) {
      ++rep.files;
      if (!r.note.empty()) rep.messages.push_back(who + ": " + r.note);
      add_hashes(j.src, r.in_sha, j.dst, r.out_sha);
    } else {
      ++rep.errors;
      rep.messages.push_back(who + ": " + r.error);
    }
  }
  if (rep.missing)
    rep.messages.push_back(std::to_string(rep.missing) +
                           " file(s) listed in Manifest.db are absent from the backup "
                           "(partial backup): skipped");

  // 4. The root plists, unchanged.
  for (const char* name : {"Info.plist", "Manifest.plist", "Status.plist"}) {
    fs::path s = backup_dir / name, d = dest / name;
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(s, ec))) {
      rep.messages.push_back(std::string(name) + " is absent from the backup");
      continue;
    }
    std::string cerr, sh, dh;
    if (!stream_file({}, s, d, false, &cerr, nullptr, opts.hashes ? &sh : nullptr,
                     opts.hashes ? &dh : nullptr)) {
      ++rep.errors;
      rep.messages.push_back(cerr);
      continue;
    }
    add_hashes(s, sh, d, dh);
  }
  if (opts.hashes) {
    rep.info = Json::object();
    rep.info["encrypted"] = std::move(enc_hashes);
    rep.info["decrypted"] = std::move(dec_hashes);
  }
  return rep;
}

}  // namespace

std::optional<DecryptReport> decrypt_backup(const fs::path& backup_dir,
                                            std::string_view derived_key, const fs::path& dest,
                                            const DecryptOptions& opts, std::string* err) {
  try {
    return decrypt_backup_impl(backup_dir, derived_key, dest, opts, err);
  } catch (const std::exception& e) {
    set_err(err, std::string("decryption failed: ") + e.what());
    return std::nullopt;
  }
}

}  // namespace bridle::ios

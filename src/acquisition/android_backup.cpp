#include "acquisition/android_backup.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "core/util.hpp"

namespace bridle {

namespace {

bool read_line(std::istream& in, std::string& out, std::size_t max = 4096) {
  out.clear();
  char c;
  while (in.get(c)) {
    if (c == '\n') return true;
    if (out.size() >= max) return false;
    out += c;
  }
  return false;
}

std::optional<std::string> unhex(std::string_view h) {
  if (h.size() % 2) return std::nullopt;
  std::string out;
  out.reserve(h.size() / 2);
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < h.size(); i += 2) {
    int a = val(h[i]), b = val(h[i + 1]);
    if (a < 0 || b < 0) return std::nullopt;
    out += static_cast<char>(a * 16 + b);
  }
  return out;
}

std::string pbkdf2_sha1(std::string_view pw, std::string_view salt, long rounds) {
  unsigned char out[32];
  PKCS5_PBKDF2_HMAC_SHA1(pw.data(), static_cast<int>(pw.size()),
                         reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                         static_cast<int>(rounds), 32, out);
  return std::string(reinterpret_cast<char*>(out), 32);
}

// AES-256-CBC decryption of a small buffer with PKCS#7 padding check.
std::optional<std::string> aes_cbc_decrypt(std::string_view key, std::string_view iv, std::string_view data) {
  if (key.size() != 32 || iv.size() != 16) return std::nullopt;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  std::string out(data.size() + 32, '\0');
  int n1 = 0, n2 = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr,
                               reinterpret_cast<const unsigned char*>(key.data()),
                               reinterpret_cast<const unsigned char*>(iv.data())) == 1 &&
            EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &n1,
                              reinterpret_cast<const unsigned char*>(data.data()), static_cast<int>(data.size())) == 1 &&
            EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + n1, &n2) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) return std::nullopt;
  out.resize(static_cast<std::size_t>(n1 + n2));
  return out;
}

AbResult fail(AbResult r, AbStatus s, std::string m) {
  r.status = s;
  r.message = std::move(m);
  r.tar.clear();
  return r;
}

// Receives decoded tar bytes: hashes them and keeps them up to the memory cap.
struct TarSink {
  const AbLimits& lim;
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  std::string data;
  std::uint64_t total = 0;
  bool too_big = false;
  explicit TarSink(const AbLimits& l) : lim(l) { EVP_DigestInit_ex(md, EVP_sha256(), nullptr); }
  ~TarSink() { EVP_MD_CTX_free(md); }
  bool put(const char* p, std::size_t n) {
    total += n;
    if (total > lim.max_output) return false;
    EVP_DigestUpdate(md, p, n);
    if (!too_big) {
      if (data.size() + n > lim.max_in_memory) {
        too_big = true;
        std::string().swap(data);
      } else {
        data.append(p, n);
      }
    }
    return true;
  }
  std::string digest() {
    unsigned char h[32];
    unsigned int len = 0;
    EVP_DigestFinal_ex(md, h, &len);
    return to_hex(h, len);
  }
};

}  // namespace

std::string ab_mangle_key(std::string_view key) {
  std::string out;
  for (unsigned char b : key) {
    if (b < 0x80) {
      out += static_cast<char>(b);
    } else {
      out += static_cast<char>(0xEF);
      out += static_cast<char>(0xBC | ((b >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (b & 0x3F));
    }
  }
  return out;
}

bool looks_like_android_backup(std::string_view head) { return head.rfind("ANDROID BACKUP\n", 0) == 0; }

std::optional<AbHeader> read_ab_header(std::istream& in, std::string* err) {
  auto bad = [&](const std::string& m) -> std::optional<AbHeader> {
    if (err) *err = m;
    return std::nullopt;
  };
  std::string line;
  if (!read_line(in, line, 64) || line != "ANDROID BACKUP") return bad("not an Android backup (no \"ANDROID BACKUP\" header)");
  AbHeader h;
  if (!read_line(in, line, 16)) return bad("truncated backup header");
  try {
    h.version = std::stoi(line);
  } catch (...) {
    return bad("bad backup version \"" + line + "\"");
  }
  if (h.version < 1 || h.version > 5) return bad("unsupported backup version " + std::to_string(h.version));
  if (!read_line(in, line, 16) || (line != "0" && line != "1")) return bad("bad compression flag in the backup header");
  h.compressed = line == "1";
  if (!read_line(in, line, 64)) return bad("truncated backup header");
  h.encryption = line;
  if (h.encryption == "none") return h;
  if (h.encryption != "AES-256") return bad("unsupported backup encryption \"" + line + "\"");
  if (!read_line(in, h.user_salt, 1024) || !read_line(in, h.checksum_salt, 1024) || !read_line(in, line, 32) ||
      !read_line(in, h.user_iv, 256) || !read_line(in, h.master_key_blob, 4096))
    return bad("truncated encryption header");
  try {
    h.rounds = std::stol(line);
  } catch (...) {
    return bad("bad PBKDF2 round count \"" + line + "\"");
  }
  return h;
}

std::optional<AbHeader> read_ab_header_file(const std::filesystem::path& path, std::string* err) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (err) *err = "cannot open " + path.string();
    return std::nullopt;
  }
  return read_ab_header(in, err);
}

AbResult decode_android_backup(std::istream& in, const std::optional<std::string>& password,
                               const AbLimits& limits) {
  AbResult r;
  std::string herr;
  auto h = read_ab_header(in, &herr);
  if (!h) {
    bool notab = herr.rfind("not an Android backup", 0) == 0;
    return fail(std::move(r), notab ? AbStatus::NotBackup : (herr.rfind("unsupported", 0) == 0 ? AbStatus::Unsupported : AbStatus::Corrupt), herr);
  }
  r.header = *h;

  EVP_CIPHER_CTX* cctx = nullptr;
  struct CtxGuard {
    EVP_CIPHER_CTX*& c;
    ~CtxGuard() { if (c) EVP_CIPHER_CTX_free(c); }
  } cguard{cctx};

  if (h->encrypted()) {
    if (!password) return fail(std::move(r), AbStatus::NeedPassword, "the backup is encrypted: a password is needed");
    if (h->rounds < 1 || h->rounds > limits.max_rounds)
      return fail(std::move(r), AbStatus::Unsupported, "implausible PBKDF2 round count " + std::to_string(h->rounds));
    auto user_salt = unhex(h->user_salt), ck_salt = unhex(h->checksum_salt), user_iv = unhex(h->user_iv),
         blob = unhex(h->master_key_blob);
    if (!user_salt || !ck_salt || !user_iv || !blob || user_iv->size() != 16)
      return fail(std::move(r), AbStatus::Corrupt, "malformed encryption header");
    std::string uk = pbkdf2_sha1(*password, *user_salt, h->rounds);
    auto plain = aes_cbc_decrypt(uk, *user_iv, *blob);
    OPENSSL_cleanse(uk.data(), uk.size());
    if (!plain) return fail(std::move(r), AbStatus::WrongPassword, "wrong backup password");
    // [len][iv][len][key][len][checksum]
    std::string_view p = *plain;
    std::string parts[3];
    for (auto& part : parts) {
      if (p.empty()) return fail(std::move(r), AbStatus::WrongPassword, "wrong backup password");
      std::size_t len = static_cast<unsigned char>(p[0]);
      if (p.size() < 1 + len) return fail(std::move(r), AbStatus::WrongPassword, "wrong backup password");
      part = std::string(p.substr(1, len));
      p.remove_prefix(1 + len);
    }
    OPENSSL_cleanse(plain->data(), plain->size());
    const std::string& mk_iv = parts[0];
    const std::string& mk = parts[1];
    const std::string& checksum = parts[2];
    if (mk_iv.size() != 16 || mk.size() != 32) return fail(std::move(r), AbStatus::WrongPassword, "wrong backup password");
    // Version >= 2 uses the mangled form; try both so that version-1 files also work.
    bool ok = false;
    std::string mangled = ab_mangle_key(mk);
    std::string c1 = pbkdf2_sha1(mangled, *ck_salt, h->rounds);
    if (c1.size() == checksum.size() && CRYPTO_memcmp(c1.data(), checksum.data(), c1.size()) == 0) {
      ok = true;
      r.checksum_mangled = true;
    } else {
      std::string c2 = pbkdf2_sha1(mk, *ck_salt, h->rounds);
      ok = c2.size() == checksum.size() && CRYPTO_memcmp(c2.data(), checksum.data(), c2.size()) == 0;
    }
    if (!ok) return fail(std::move(r), AbStatus::WrongPassword, "wrong backup password");
    cctx = EVP_CIPHER_CTX_new();
    if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), nullptr, reinterpret_cast<const unsigned char*>(mk.data()),
                           reinterpret_cast<const unsigned char*>(mk_iv.data())) != 1)
      return fail(std::move(r), AbStatus::Corrupt, "cannot initialise the cipher");
  }

  z_stream zs{};
  bool zinit = false;
  struct ZGuard {
    z_stream& z;
    bool& on;
    ~ZGuard() { if (on) inflateEnd(&z); }
  } zguard{zs, zinit};
  if (h->compressed) {
    if (inflateInit(&zs) != Z_OK) return fail(std::move(r), AbStatus::Corrupt, "zlib init failed");
    zinit = true;
  }
  bool zdone = false;
  TarSink sink(limits);
  std::string inbuf(1 << 16, '\0'), dec(1 << 16 | 32, '\0'), zout(1 << 16, '\0');

  auto feed_inflate = [&](const char* p, std::size_t n) -> int {  // 0 ok, 1 too big, 2 corrupt
    if (!h->compressed) return sink.put(p, n) ? 0 : 1;
    if (zdone) return n ? 0 : 0;  // trailing bytes after the zlib stream are ignored
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p));
    zs.avail_in = static_cast<uInt>(n);
    while (zs.avail_in > 0 || n == 0) {
      zs.next_out = reinterpret_cast<Bytef*>(zout.data());
      zs.avail_out = static_cast<uInt>(zout.size());
      int rc = inflate(&zs, Z_NO_FLUSH);
      std::size_t got = zout.size() - zs.avail_out;
      if (got && !sink.put(zout.data(), got)) return 1;
      if (rc == Z_STREAM_END) {
        zdone = true;
        return 0;
      }
      if (rc == Z_BUF_ERROR && got == 0) return 0;
      if (rc != Z_OK) return 2;
      if (n == 0 && got == 0) return 0;
    }
    return 0;
  };

  for (;;) {
    in.read(inbuf.data(), static_cast<std::streamsize>(inbuf.size()));
    std::size_t n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    const char* p = inbuf.data();
    std::size_t len = n;
    if (cctx) {
      int outl = 0;
      if (EVP_DecryptUpdate(cctx, reinterpret_cast<unsigned char*>(dec.data()), &outl,
                            reinterpret_cast<const unsigned char*>(inbuf.data()), static_cast<int>(n)) != 1)
        return fail(std::move(r), AbStatus::Corrupt, "decryption failed");
      p = dec.data();
      len = static_cast<std::size_t>(outl);
    }
    int rc = feed_inflate(p, len);
    if (rc == 1) return fail(std::move(r), AbStatus::TooBig, "the backup expands beyond " + std::to_string(limits.max_output) + " bytes");
    if (rc == 2) return fail(std::move(r), AbStatus::Corrupt, std::string("damaged compressed data: ") + (zs.msg ? zs.msg : "zlib error"));
  }
  if (in.bad()) return fail(std::move(r), AbStatus::IoError, "read error");
  if (cctx) {
    int outl = 0;
    if (EVP_DecryptFinal_ex(cctx, reinterpret_cast<unsigned char*>(dec.data()), &outl) != 1)
      return fail(std::move(r), AbStatus::Corrupt, "encrypted data is truncated or damaged (bad padding)");
    int rc = feed_inflate(dec.data(), static_cast<std::size_t>(outl));
    if (rc == 1) return fail(std::move(r), AbStatus::TooBig, "the backup expands beyond the limit");
    if (rc == 2) return fail(std::move(r), AbStatus::Corrupt, "damaged compressed data");
  }
  if (h->compressed && !zdone) {
    int rc = feed_inflate("", 0);
    if (rc == 1) return fail(std::move(r), AbStatus::TooBig, "the backup expands beyond the limit");
    if (!zdone) return fail(std::move(r), AbStatus::Corrupt, "compressed data is truncated");
  }
  r.tar_size = sink.total;
  r.tar_sha256 = sink.digest();
  if (sink.too_big) {
    r.status = AbStatus::TooBig;
    r.message = "decoded tar (" + std::to_string(sink.total) + " bytes) is larger than the in-memory limit of " +
                std::to_string(limits.max_in_memory) + " bytes";
    return r;
  }
  r.tar = std::move(sink.data);
  r.status = AbStatus::Ok;
  return r;
}

AbResult decode_android_backup_file(const std::filesystem::path& path,
                                    const std::optional<std::string>& password, const AbLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    AbResult r;
    r.status = AbStatus::IoError;
    r.message = "cannot open " + path.string();
    return r;
  }
  return decode_android_backup(in, password, limits);
}

AbResult decode_android_backup_bytes(std::string_view data, const std::optional<std::string>& password,
                                     const AbLimits& limits) {
  std::istringstream in{std::string(data)};
  return decode_android_backup(in, password, limits);
}

namespace {
std::unique_ptr<AndroidSource> wrap(AbResult r, std::string display, AbStatus* status, std::string* err) {
  if (status) *status = r.status;
  if (r.status != AbStatus::Ok) {
    if (err) *err = r.message;
    return nullptr;
  }
  AndroidSourceOptions o;
  o.kind = "backup";
  o.display = std::move(display);
  auto src = TarSource::open_bytes(std::move(r.tar), o, err);
  if (!src && status) *status = AbStatus::Corrupt;
  return src;
}
}  // namespace

std::unique_ptr<AndroidSource> open_android_backup(const std::filesystem::path& path,
                                                   const std::optional<std::string>& password,
                                                   std::string display, AbStatus* status,
                                                   std::string* err, const AbLimits& limits) {
  return wrap(decode_android_backup_file(path, password, limits), std::move(display), status, err);
}

std::unique_ptr<AndroidSource> open_android_backup_bytes(std::string_view data,
                                                         const std::optional<std::string>& password,
                                                         std::string display, AbStatus* status,
                                                         std::string* err, const AbLimits& limits) {
  return wrap(decode_android_backup_bytes(data, password, limits), std::move(display), status, err);
}

}  // namespace bridle

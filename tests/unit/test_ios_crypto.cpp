// Encrypted iOS backup core: AES key unwrap, PKCS#7, keybag parsing, key derivation and a
// complete tiny encrypted backup built here (low iteration counts) and decrypted back.
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "acquisition/ios_backup_keys.hpp"
#include "acquisition/ios_crypto.hpp"
#include "core/util.hpp"
#include "support/support.hpp"

using namespace bridle;
using bridle::test::encrypt_cbc;
using namespace bridle::ios;
using bridle::test::Scratch;
using bridle::test::make_plist;
using bridle::test::make_sqlite;
using bridle::test::slurp;
using bridle::test::write_file;

namespace {

std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
  return out;
}
std::string hex(std::string_view s) {
  return to_hex(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}
std::string random_bytes(std::size_t n) {
  std::string s(n, '\0');
  EXPECT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n)), 1);
  return s;
}

// Independent test-side primitives (OpenSSL EVP), used to build fixtures.
std::string wrap_key(std::string_view kek, std::string_view key) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  EXPECT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_256_wrap(), nullptr,
                               reinterpret_cast<const unsigned char*>(kek.data()), nullptr),
            1);
  std::string out(key.size() + 16, '\0');
  int len = 0, fl = 0;
  EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                    reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size()));
  EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &fl);
  EVP_CIPHER_CTX_free(ctx);
  out.resize(static_cast<std::size_t>(len + fl));
  return out;
}
std::string pbkdf2(std::string_view pw, std::string_view salt, int iter, const EVP_MD* md) {
  std::string out(32, '\0');
  PKCS5_PBKDF2_HMAC(pw.data(), static_cast<int>(pw.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()),
                    iter, md, 32, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string be32(std::uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}
std::string le32(std::uint32_t v) {
  std::string s = be32(v);
  return std::string(s.rbegin(), s.rend());
}
std::string tlv(std::string_view tag, std::string_view value) {
  return std::string(tag) + be32(static_cast<std::uint32_t>(value.size())) + std::string(value);
}
std::string tlv_u32(std::string_view tag, std::uint32_t v) { return tlv(tag, be32(v)); }

// A keybag TLV shaped like iTunes' (header, then one record per class).
struct TestKeybag {
  std::string salt = random_bytes(20), dpsl = random_bytes(20);
  std::uint32_t iter = 1, dpic = 1;
  std::map<std::uint32_t, std::string> class_keys;  // plaintext class keys
  std::string tlv_for(std::string_view k) const {
    std::string t = tlv_u32("VERS", 4) + tlv_u32("TYPE", 1) + tlv("UUID", std::string(16, 'U')) +
                    tlv("HMCK", std::string(40, 'H')) + tlv_u32("WRAP", 0) + tlv("SALT", salt) +
                    tlv_u32("ITER", iter) + tlv_u32("DPWT", 1) + tlv_u32("DPIC", dpic) +
                    tlv("DPSL", dpsl);
    for (auto& [cls, key] : class_keys) {
      t += tlv("UUID", std::string(16, static_cast<char>('a' + cls))) + tlv_u32("CLAS", cls) +
           tlv_u32("WRAP", 2) + tlv_u32("KTYP", 0) + tlv("WPKY", wrap_key(k, key));
    }
    t += tlv("SIGN", std::string(20, 'S'));
    return t;
  }
};

Json data_node(std::string_view bytes) { return Json{{"$data", base64_encode(bytes)}}; }

std::string mbfile_blob(std::optional<std::string> enc_key, std::uint32_t pclass, std::uint64_t size) {
  Json root = {{"LastModified", 1600000000}, {"Flags", 0},     {"GroupID", 501},
               {"Mode", 33188},              {"UserID", 501},  {"InodeNumber", 1234},
               {"Size", size},               {"ProtectionClass", pclass},
               {"RelativePath", Json{{"$uid", enc_key ? 5 : 2}}}};
  Json objects = Json::array({"$null"});
  if (enc_key) {
    root["EncryptionKey"] = Json{{"$uid", 2}};
    root["$class"] = Json{{"$uid", 3}};
    objects.push_back(root);
    objects.push_back(Json{{"NS.data", data_node(*enc_key)}, {"$class", Json{{"$uid", 4}}}});
    objects.push_back(Json{{"$classname", "MBFile"}, {"$classes", Json::array({"MBFile", "NSObject"})}});
    objects.push_back(Json{{"$classname", "NSMutableData"},
                           {"$classes", Json::array({"NSMutableData", "NSData", "NSObject"})}});
    objects.push_back("Library/x");
  } else {
    root["$class"] = Json{{"$uid", 3}};
    objects.push_back(root);
    objects.push_back("Library/x");
    objects.push_back(Json{{"$classname", "MBFile"}, {"$classes", Json::array({"MBFile", "NSObject"})}});
  }
  Json archive = {{"$archiver", "NSKeyedArchiver"},
                  {"$version", 100000},
                  {"$top", Json{{"root", Json{{"$uid", 1}}}}},
                  {"$objects", objects}};
  return make_plist(archive);
}

std::string sql_quote(std::string_view s) {
  std::string o = "'";
  for (char c : s) {
    if (c == '\'') o += "''";
    else o += c;
  }
  return o + "'";
}

}  // namespace

// ---------------------------------------------------------------------------------------

TEST(AesUnwrap, Rfc3394Section4_6) {
  const std::string kek = unhex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
  const std::string wrapped =
      unhex("28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21");
  auto k = aes_unwrap(kek, wrapped);
  ASSERT_TRUE(k);
  EXPECT_EQ(hex(*k), "00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f");

  std::string bad = wrapped;
  bad[10] = static_cast<char>(bad[10] ^ 1);
  EXPECT_FALSE(aes_unwrap(kek, bad));
  std::string badkek = kek;
  badkek[0] = 'x';
  EXPECT_FALSE(aes_unwrap(badkek, wrapped));
  EXPECT_FALSE(aes_unwrap(kek, wrapped.substr(0, 39)));  // not a multiple of 8
  EXPECT_FALSE(aes_unwrap(kek, wrapped.substr(0, 16)));  // too short
  EXPECT_FALSE(aes_unwrap(kek, ""));
  EXPECT_FALSE(aes_unwrap(kek.substr(0, 31), wrapped));  // bad KEK length
}

TEST(DecryptCbc, Pkcs7ValidAndInvalid) {
  const std::string key = random_bytes(32);
  for (std::size_t n : {0u, 1u, 15u, 16u, 17u, 31u, 32u, 1000u}) {
    std::string plain = random_bytes(n);
    std::string err;
    auto out = decrypt_cbc(key, encrypt_cbc(key, plain, true), true, &err);
    ASSERT_TRUE(out) << n << ": " << err;
    EXPECT_EQ(*out, plain);
  }
  // Explicit paddings, encrypted without OpenSSL padding.
  auto check = [&](std::string block, bool valid, std::size_t expect_len) {
    std::string err;
    auto out = decrypt_cbc(key, encrypt_cbc(key, block, false), true, &err);
    EXPECT_EQ(out.has_value(), valid) << hex(block);
    if (out) {
      EXPECT_EQ(out->size(), expect_len);
    }
    if (!valid) {
      EXPECT_NE(err.find("padding"), std::string::npos) << err;
    }
  };
  check(std::string(14, 'A') + "\x02\x02", true, 14);
  check(std::string(16, '\x10'), true, 0);
  check(std::string(15, 'A') + std::string(1, '\0'), false, 0);   // pad byte 0
  check(std::string(15, 'A') + "\x11", false, 0);                 // pad byte > 16
  check(std::string(13, 'A') + "\x01\x03\x03", false, 0);        // inconsistent pad bytes
  // No stripping: raw blocks back.
  std::string raw = std::string(15, 'A') + std::string(1, '\0');
  auto out = decrypt_cbc(key, encrypt_cbc(key, raw, false), false, nullptr);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, raw);
  std::string err;
  EXPECT_FALSE(decrypt_cbc(key, "short", false, &err));
  EXPECT_NE(err.find("multiple of 16"), std::string::npos);
  EXPECT_FALSE(decrypt_cbc(key, "", true, &err));
  EXPECT_FALSE(decrypt_cbc(key.substr(0, 16), std::string(16, 'x'), false, &err));
}

TEST(DecryptCbc, StreamingFileMultiChunk) {
  Scratch s;
  const std::string key = random_bytes(32);
  std::string plain = random_bytes((3u << 20) + 5);  // spans several 1 MiB chunks
  write_file(s / "in", encrypt_cbc(key, plain, true));
  std::string err;
  std::uint64_t size = 0;
  ASSERT_TRUE(decrypt_cbc_file(key, s / "in", s / "out", &err, &size)) << err;
  EXPECT_EQ(size, plain.size());
  EXPECT_EQ(slurp(s / "out"), plain);
  struct stat st {};
  ASSERT_EQ(::stat((s / "out").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Wrong key: padding check fails and no partial output is left behind.
  EXPECT_FALSE(decrypt_cbc_file(random_bytes(32), s / "in", s / "bad", &err, &size));
  EXPECT_NE(err.find("padding"), std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(s / "bad"));
  // Not a multiple of 16.
  write_file(s / "odd", std::string(33, 'x'));
  EXPECT_FALSE(decrypt_cbc_file(key, s / "odd", s / "bad", &err, nullptr));
  EXPECT_FALSE(decrypt_cbc_file(key, s / "absent", s / "bad", &err, nullptr));
  // Never writes through a symlink.
  std::filesystem::create_symlink(s / "target", s / "link");
  EXPECT_FALSE(decrypt_cbc_file(key, s / "in", s / "link", &err, nullptr));
  EXPECT_FALSE(std::filesystem::exists(s / "target"));
}

TEST(KeyHex, Parse) {
  const std::string h = "7013c56ca96690c05bf4fe5fed46983b35eae03f19da6288b8552019a6ba7a89";
  std::string err;
  auto k = parse_key_hex(h, &err);
  ASSERT_TRUE(k) << err;
  EXPECT_EQ(hex(*k), h);
  EXPECT_TRUE(parse_key_hex(h + "\n", &err));
  EXPECT_EQ(parse_key_hex("7013C56CA96690C05BF4FE5FED46983B35EAE03F19DA6288B8552019A6BA7A89\r\n", &err), k);
  EXPECT_FALSE(parse_key_hex(h + "\n\n", &err));
  EXPECT_NE(err.find("whitespace"), std::string::npos) << err;
  EXPECT_FALSE(parse_key_hex(h + " ", &err));
  EXPECT_FALSE(parse_key_hex(h.substr(0, 62), &err));
  EXPECT_NE(err.find("found 62"), std::string::npos) << err;
  EXPECT_FALSE(parse_key_hex(h + "00", &err));
  EXPECT_FALSE(parse_key_hex("", &err));
  EXPECT_NE(err.find("empty"), std::string::npos);
  EXPECT_FALSE(parse_key_hex("g" + h.substr(1), &err));
  EXPECT_NE(err.find("non-hexadecimal"), std::string::npos);
}

TEST(Keybag, ParsesBuiltTlv) {
  TestKeybag tk;
  tk.class_keys = {{1, random_bytes(32)}, {3, random_bytes(32)}, {4, random_bytes(32)}};
  std::string k = random_bytes(32);
  std::string err;
  auto kb = parse_keybag(tk.tlv_for(k), &err);
  ASSERT_TRUE(kb) << err;
  EXPECT_EQ(kb->vers, 4u);
  EXPECT_EQ(kb->type, 1u);
  EXPECT_EQ(kb->uuid, std::string(16, 'U'));
  EXPECT_EQ(kb->wrap, 0u);
  EXPECT_EQ(kb->salt, tk.salt);
  EXPECT_EQ(kb->iter, 1u);
  EXPECT_EQ(kb->dpsl, tk.dpsl);
  EXPECT_EQ(kb->dpic, 1u);
  EXPECT_EQ(kb->dpwt, 1u);
  ASSERT_EQ(kb->classes.size(), 3u);
  EXPECT_EQ(kb->classes.at(3).wrap, 2u);
  EXPECT_EQ(kb->classes.at(3).wpky.size(), 40u);
  EXPECT_EQ(kb->classes.at(4).uuid, std::string(16, 'e'));
  EXPECT_EQ(kb->attributes.count("HMCK"), 1u);
  EXPECT_EQ(kb->attributes.count("SIGN"), 1u);

  auto keys = BackupKeys::unlock(*kb, k, &err);
  ASSERT_TRUE(keys) << err;
  EXPECT_EQ(keys->size(), 3u);
  for (auto& [cls, key] : tk.class_keys) EXPECT_EQ(keys->class_key(cls), key);
  EXPECT_FALSE(keys->class_key(2));
}

TEST(Keybag, HostileInputsAreRejectedWithoutCrashing) {
  std::string err;
  EXPECT_FALSE(parse_keybag("", &err));
  EXPECT_FALSE(parse_keybag("UUID", &err));                               // truncated header
  EXPECT_FALSE(parse_keybag("UUID" + be32(0xFFFFFFFFu) + "abc", &err));   // length beyond end
  EXPECT_NE(err.find("remain"), std::string::npos) << err;
  EXPECT_FALSE(parse_keybag(tlv("UUID", "x") + "ITE", &err));             // trailing garbage
  EXPECT_FALSE(parse_keybag(tlv("UUID", "x") + tlv("ITER", ""), &err));   // zero-length integer
  EXPECT_FALSE(parse_keybag(tlv("ITER", "\1\2\3\4\5"), &err));            // oversized integer
  EXPECT_FALSE(parse_keybag(tlv("SALT", "abc"), &err));                   // no UUID at all
  // Zero-length values that need no integer are fine.
  auto kb = parse_keybag(tlv("UUID", "") + tlv("ABCD", "") + tlv("UUID", "") + tlv_u32("CLAS", 1), &err);
  ASSERT_TRUE(kb) << err;
  EXPECT_EQ(kb->classes.size(), 1u);
  // Huge record counts and class counts.
  std::string many = tlv("UUID", "k");
  for (int i = 0; i < 100000; ++i) many += tlv("ABCD", "");
  EXPECT_FALSE(parse_keybag(many, &err));
  EXPECT_NE(err.find("too many records"), std::string::npos) << err;
  std::string classes = tlv("UUID", "k");
  for (std::uint32_t i = 0; i < 500; ++i) classes += tlv("UUID", "c") + tlv_u32("CLAS", i);
  EXPECT_FALSE(parse_keybag(classes, &err));
  EXPECT_NE(err.find("too many class"), std::string::npos) << err;
  EXPECT_FALSE(parse_keybag(std::string(kMaxKeybagBytes + 1, '\0'), &err));

  // Random mutations of a valid keybag: any result is fine, no crash / UB.
  TestKeybag tk;
  tk.class_keys = {{1, random_bytes(32)}, {2, random_bytes(32)}};
  const std::string good = tk.tlv_for(random_bytes(32));
  std::mt19937 rng(1234);
  for (int round = 0; round < 3000; ++round) {
    std::string m = good;
    int edits = 1 + static_cast<int>(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 3) {
        case 0: m[rng() % m.size()] = static_cast<char>(rng()); break;
        case 1: m.resize(rng() % (m.size() + 1)); break;
        default: m.insert(rng() % (m.size() + 1), std::string(1 + rng() % 6, static_cast<char>(rng())));
      }
      if (m.empty()) break;
    }
    auto r = parse_keybag(m, &err);
    if (r) (void)BackupKeys::unlock(*r, std::string(32, 'k'), &err);
  }
}

TEST(DeriveKey, SchemesMatchIndependentPbkdf2) {
  TestKeybag tk;
  tk.iter = 3;
  tk.dpic = 5;
  tk.class_keys = {{1, random_bytes(32)}};
  auto kb = parse_keybag(tk.tlv_for(random_bytes(32)), nullptr);
  ASSERT_TRUE(kb);
  std::string err, t;
  auto k_new = derive_key(*kb, "pässword", "14.3", &err, &t);
  ASSERT_TRUE(k_new) << err;
  std::string t_ref = pbkdf2("pässword", tk.dpsl, 5, EVP_sha256());
  EXPECT_EQ(t, t_ref);
  EXPECT_EQ(*k_new, pbkdf2(t_ref, tk.salt, 3, EVP_sha1()));
  EXPECT_EQ(derive_key(*kb, "pässword", "10.2", &err), k_new);
  EXPECT_EQ(derive_key(*kb, "pässword", "11", &err), k_new);
  EXPECT_EQ(derive_key(*kb, "pässword", "", &err), k_new);  // fallback: DPSL present

  const std::string k_old = pbkdf2("pässword", tk.salt, 3, EVP_sha1());
  EXPECT_EQ(derive_key(*kb, "pässword", "10.1.1", &err), k_old);
  EXPECT_EQ(derive_key(*kb, "pässword", "10", &err), k_old);
  EXPECT_EQ(derive_key(*kb, "pässword", "9.3.5", &err), k_old);

  Keybag no_dp = *kb;
  no_dp.dpsl.clear();
  EXPECT_FALSE(derive_key(no_dp, "x", "14.3", &err));
  EXPECT_NE(err.find("DPSL"), std::string::npos);
  Keybag no_salt = *kb;
  no_salt.salt.clear();
  EXPECT_FALSE(derive_key(no_salt, "x", "14.3", &err));
}

TEST(MBFile, DecodeAndHostile) {
  std::string ek = le32(3) + std::string(40, 'w');
  std::string err;
  auto mb = decode_mbfile(mbfile_blob(ek, 3, 1234), &err);
  ASSERT_TRUE(mb) << err;
  EXPECT_EQ(mb->encryption_key, ek);
  EXPECT_EQ(mb->protection_class, 3u);
  EXPECT_EQ(mb->size, 1234u);
  auto plain = decode_mbfile(mbfile_blob(std::nullopt, 0, 0), &err);
  ASSERT_TRUE(plain) << err;
  EXPECT_FALSE(plain->encryption_key);

  EXPECT_FALSE(decode_mbfile("", &err));
  EXPECT_FALSE(decode_mbfile("bplist00garbagegarbage", &err));
  EXPECT_FALSE(decode_mbfile(make_plist(Json{{"a", 1}}), &err));
  Json bad = {{"$top", Json{{"root", Json{{"$uid", 99}}}}}, {"$objects", Json::array({"$null"})}};
  EXPECT_FALSE(decode_mbfile(make_plist(bad), &err));
  Json selfref = {{"$top", Json{{"root", Json{{"$uid", 1}}}}},
                  {"$objects", Json::array({"$null", Json{{"EncryptionKey", Json{{"$uid", 1}}}}})}};
  EXPECT_FALSE(decode_mbfile(make_plist(selfref), &err));
  std::mt19937 rng(7);
  std::string good = mbfile_blob(ek, 3, 1234);
  for (int i = 0; i < 2000; ++i) {
    std::string m = good;
    for (int e = 0; e < 4; ++e) m[8 + rng() % (m.size() - 8)] = static_cast<char>(rng());
    (void)decode_mbfile(m, &err);
  }
}

// ---------------------------------------------------------------------------------------
// A whole tiny encrypted backup.

namespace {

struct BuiltBackup {
  std::filesystem::path dir;
  std::string password = "correct horse";
  std::string derived;
  std::string manifest_plain_sha;
  std::map<std::string, std::string> plaintexts;  // fileID -> bytes
};

struct FileSpec {
  std::string domain, rel;
  std::string plain;
  std::uint32_t pclass;
  std::optional<std::uint64_t> size_override;
  bool write_source = true;
  bool encrypted = true;
};

BuiltBackup build_backup(const std::filesystem::path& dir, const std::vector<FileSpec>& files,
                         const std::vector<std::string>& evil_ids = {}) {
  BuiltBackup b;
  b.dir = dir;
  TestKeybag tk;
  for (std::uint32_t c = 1; c <= 4; ++c) tk.class_keys[c] = random_bytes(32);
  // K computed independently of derive_key.
  b.derived = pbkdf2(pbkdf2(b.password, tk.dpsl, 1, EVP_sha256()), tk.salt, 1, EVP_sha1());
  const std::string keybag = tk.tlv_for(b.derived);

  std::string sql =
      "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags "
      "INTEGER, file BLOB);\nCREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);\nBEGIN;\n";
  for (const auto& f : files) {
    std::string id = sha1_hex(f.domain + "-" + f.rel);
    std::string blob;
    if (f.encrypted) {
      std::string fk = random_bytes(32);
      std::string ek = le32(f.pclass) + wrap_key(tk.class_keys.at(f.pclass), fk);
      blob = mbfile_blob(ek, f.pclass, f.size_override.value_or(f.plain.size()));
      if (f.write_source) write_file(dir / id.substr(0, 2) / id, encrypt_cbc(fk, f.plain, true));
    } else {
      blob = mbfile_blob(std::nullopt, 0, f.plain.size());
      if (f.write_source) write_file(dir / id.substr(0, 2) / id, f.plain);
    }
    if (f.write_source) b.plaintexts[id] = f.plain;
    sql += "INSERT INTO Files VALUES (" + sql_quote(id) + "," + sql_quote(f.domain) + "," +
           sql_quote(f.rel) + ",1,X'" + hex(blob) + "');\n";
  }
  sql += "INSERT INTO Files VALUES ('" + sha1_hex("HomeDomain-Library") +
         "','HomeDomain','Library',2,X'" + hex(mbfile_blob(std::nullopt, 0, 0)) + "');\n";
  for (const auto& evil : evil_ids) {
    std::string fk = random_bytes(32);
    std::string ek = le32(3) + wrap_key(tk.class_keys.at(3), fk);
    sql += "INSERT INTO Files VALUES (" + sql_quote(evil) + ",'HomeDomain'," + sql_quote("evil/" + evil) +
           ",1,X'" + hex(mbfile_blob(ek, 3, 5)) + "');\n";
  }
  sql += "COMMIT;\n";
  Scratch plain;
  make_sqlite(plain / "Manifest.db", sql);
  std::string db = slurp(plain / "Manifest.db");
  EXPECT_EQ(db.size() % 16, 0u);
  b.manifest_plain_sha = sha256_hex(db);
  std::string mk = random_bytes(32);
  write_file(dir / "Manifest.db", encrypt_cbc(mk, db, false));
  std::string manifest_key = le32(4) + wrap_key(tk.class_keys.at(4), mk);

  Json manifest = {{"BackupKeyBag", data_node(keybag)},
                   {"ManifestKey", data_node(manifest_key)},
                   {"IsEncrypted", true},
                   {"Version", "10.0"},
                   {"Lockdown", Json{{"ProductVersion", "14.3"}, {"DeviceName", "test"}}}};
  write_file(dir / "Manifest.plist", make_plist(manifest));
  write_file(dir / "Info.plist", make_plist(Json{{"Product Version", "14.3"}}, false));
  write_file(dir / "Status.plist", make_plist(Json{{"IsFullBackup", false}}));
  return b;
}

}  // namespace

TEST(DecryptBackup, TinyBackupRoundTrip) {
  Scratch s;
  std::vector<FileSpec> files = {
      {"HomeDomain", "Library/SMS/sms.db", random_bytes(5000), 3, {}},
      {"HomeDomain", "Library/exact32", random_bytes(32), 4, {}},
      {"HomeDomain", "Library/empty", "", 3, {}},
      {"HomeDomain", "Library/stale-size.sqlite", random_bytes(4096), 3, std::uint64_t{8192}},
      {"AppDomain-x", "Documents/class1", random_bytes(100), 1, {}},
      {"HomeDomain", "Library/missing", random_bytes(10), 3, {}, /*write_source=*/false},
      {"HomeDomain", "Library/plain.txt", "not encrypted", 0, {}, true, /*encrypted=*/false},
  };
  for (int i = 0; i < 20; ++i)
    files.push_back({"MediaDomain", "f" + std::to_string(i), random_bytes(static_cast<std::size_t>(i * 97)), 3, {}});
  auto b = build_backup(s / "backup" / "UDID", files);

  // Manifest.plist helper.
  std::string err;
  auto mp = read_manifest_plist(b.dir, &err);
  ASSERT_TRUE(mp) << err;
  EXPECT_TRUE(mp->is_encrypted);
  EXPECT_EQ(mp->product_version, "14.3");
  EXPECT_EQ(mp->manifest_key.size(), 44u);
  auto kb = parse_keybag(mp->keybag, &err);
  ASSERT_TRUE(kb) << err;
  EXPECT_EQ(derive_key(*kb, b.password, mp->product_version, &err), b.derived);

  for (unsigned threads : {1u, 0u, 3u}) {
    std::filesystem::path dest = s / ("out" + std::to_string(threads));
    DecryptOptions opts;
    opts.threads = threads;
    opts.hashes = threads == 3;
    auto rep = decrypt_backup(b.dir, b.derived, dest, opts, &err);
    ASSERT_TRUE(rep) << err;
    EXPECT_EQ(rep->files, b.plaintexts.size());
    EXPECT_EQ(rep->missing, 1u);
    EXPECT_EQ(rep->dirs, 1u);
    EXPECT_EQ(rep->errors, 0u);
    for (auto& [id, plain] : b.plaintexts) {
      auto p = dest / id.substr(0, 2) / id;
      ASSERT_TRUE(std::filesystem::exists(p)) << id;
      EXPECT_EQ(slurp(p), plain) << id;
      struct stat st {};
      ASSERT_EQ(::stat(p.c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 0777, 0600u);
    }
    EXPECT_EQ(sha256_file(dest / "Manifest.db"), b.manifest_plain_sha);
    for (const char* n : {"Info.plist", "Manifest.plist", "Status.plist"})
      EXPECT_EQ(slurp(dest / n), slurp(b.dir / n)) << n;
    bool size_msg = false;
    for (auto& m : rep->messages)
      if (m.find("MBFile.Size is 8192") != std::string::npos) size_msg = true;
    EXPECT_TRUE(size_msg);
    if (opts.hashes) {
      ASSERT_TRUE(rep->info.contains("encrypted"));
      ASSERT_TRUE(rep->info.contains("decrypted"));
      EXPECT_EQ(rep->info["decrypted"].size(), b.plaintexts.size() + 4);  // + Manifest.db + 3 plists
      EXPECT_EQ(rep->info["decrypted"][0]["sha256"], b.manifest_plain_sha);
      EXPECT_EQ(rep->info["encrypted"][0]["sha256"], sha256_file(b.dir / "Manifest.db"));
    }
    // No temporary Manifest copy is left in dest.
    std::size_t entries = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(dest)) entries += e.is_regular_file();
    EXPECT_EQ(entries, b.plaintexts.size() + 4);
  }
}

TEST(DecryptBackup, WrongPasswordFailsAndWritesNothing) {
  Scratch s;
  auto b = build_backup(s / "UDID", {{"HomeDomain", "a", "hello", 3, {}}});
  std::string err;
  auto mp = read_manifest_plist(b.dir, &err);
  ASSERT_TRUE(mp) << err;
  auto kb = parse_keybag(mp->keybag, &err);
  ASSERT_TRUE(kb);
  auto k = derive_key(*kb, "wrong password", mp->product_version, &err);
  ASSERT_TRUE(k);
  auto keys = BackupKeys::unlock(*kb, *k, &err);
  EXPECT_FALSE(keys);
  EXPECT_EQ(err, "wrong password or key");

  err.clear();
  EXPECT_FALSE(decrypt_backup(b.dir, *k, s / "dest", {}, &err));
  EXPECT_EQ(err, "wrong password or key");
  EXPECT_FALSE(std::filesystem::exists(s / "dest"));
  EXPECT_FALSE(decrypt_backup(b.dir, "short", s / "dest", {}, &err));
  EXPECT_FALSE(std::filesystem::exists(s / "dest"));
}

TEST(DecryptBackup, HostileFileIdsNeverEscapeDest) {
  Scratch s;
  // backup at S/b1/b2/b3/UDID, dest at S/d1/d2/d3/out: "../../etc/x" resolved naively
  // (dir / id[0:2] / id) would be S/b1/etc/x and S/d1/etc/x.
  const auto bdir = s / "b1" / "b2" / "b3" / "UDID";
  const auto dest = s / "d1" / "d2" / "d3" / "out";
  std::vector<std::string> evil = {"../../etc/x", "/tmp/abs", "0123",
                                   "..aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                   "zz/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
  auto b = build_backup(bdir, {{"HomeDomain", "ok", "fine", 3, {}}}, evil);
  write_file(s / "b1" / "etc" / "x", std::string(16, 'e'));  // a "source" the naive path would find
  std::string err;
  auto rep = decrypt_backup(b.dir, b.derived, dest, {}, &err);
  ASSERT_TRUE(rep) << err;
  EXPECT_EQ(rep->files, 1u);
  EXPECT_EQ(rep->errors, evil.size());
  std::size_t invalid_msgs = 0;
  for (auto& m : rep->messages) invalid_msgs += m.find("invalid fileID") != std::string::npos;
  EXPECT_EQ(invalid_msgs, evil.size());
  EXPECT_FALSE(std::filesystem::exists(s / "d1" / "etc"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/abs"));
  // Everything written lies under dest.
  for (auto& e : std::filesystem::recursive_directory_iterator(s.path())) {
    if (!e.is_regular_file()) continue;
    auto rel = std::filesystem::relative(e.path(), s.path()).string();
    bool ok = rel.rfind("d1/d2/d3/out/", 0) == 0 || rel.rfind("b1/", 0) == 0;
    EXPECT_TRUE(ok) << rel;
  }
}

TEST(DecryptBackup, RejectsUnencryptedAndCorrupt) {
  Scratch s;
  auto b = build_backup(s / "UDID", {{"HomeDomain", "a", "hello", 3, {}}});
  std::string err;
  // Corrupt Manifest.db ciphertext: does not decrypt to SQLite.
  std::string db = slurp(b.dir / "Manifest.db");
  db[0] = static_cast<char>(db[0] ^ 0x55);
  write_file(b.dir / "Manifest.db", db);
  EXPECT_FALSE(decrypt_backup(b.dir, b.derived, s / "o1", {}, &err));
  EXPECT_NE(err.find("SQLite"), std::string::npos) << err;
  // Not encrypted.
  write_file(b.dir / "Manifest.plist", make_plist(Json{{"IsEncrypted", false}}));
  EXPECT_FALSE(decrypt_backup(b.dir, b.derived, s / "o2", {}, &err));
  EXPECT_NE(err.find("not encrypted"), std::string::npos) << err;
  // Missing / garbage Manifest.plist.
  write_file(b.dir / "Manifest.plist", "garbage");
  EXPECT_FALSE(read_manifest_plist(b.dir, &err));
  EXPECT_FALSE(read_manifest_plist(s / "nowhere", &err));
}

TEST(DecryptBackup, RefusesToWriteIntoTheBackupItself) {
  Scratch s;
  auto b = build_backup(s / "UDID", {{"HomeDomain", "a", "hello", 3, {}}});
  const std::string before = slurp(b.dir / "Manifest.db");
  std::string err;
  EXPECT_FALSE(decrypt_backup(b.dir, b.derived, s / "UDID" / ".", {}, &err));
  EXPECT_NE(err.find("backup folder itself"), std::string::npos) << err;
  EXPECT_EQ(slurp(b.dir / "Manifest.db"), before);
}

// check-backup's source over an encrypted backup: Manifest.db and databases are read through
// the decrypting VFS (nothing decrypted on disk), with the same rows as the plaintext.
TEST(EncryptedSource, DatabasesReadInPlaceEqualThePlaintext) {
  Scratch s;
  Scratch p;
  std::string sql = "PRAGMA page_size=1024; CREATE TABLE message (ROWID INTEGER PRIMARY KEY, text TEXT, data BLOB);"
                    "BEGIN;";
  for (int i = 0; i < 400; ++i)
    sql += "INSERT INTO message VALUES (NULL, 'm" + std::to_string(i) + " https://x" + std::to_string(i) +
           ".example.org', randomblob(" + std::to_string(i * 7 % 3000) + "));";
  sql += "COMMIT;";
  make_sqlite(p / "sms.db", sql);
  const std::string db = slurp(p / "sms.db");
  auto rows_of = [](SqliteDb& d) {
    std::vector<std::string> out;
    EXPECT_TRUE(d.query("SELECT ROWID, text, hex(data) FROM message ORDER BY ROWID", [&](const SqliteRow& r) {
      out.push_back(r.text(0) + "|" + r.text(1) + "|" + r.text(2));
      return true;
    }));
    return out;
  };
  auto plain_db = SqliteDb::open(p / "sms.db", nullptr);
  ASSERT_TRUE(plain_db);
  const auto expect = rows_of(*plain_db);
  ASSERT_EQ(expect.size(), 400u);

  auto b = build_backup(s / "UDID", {
                                        {"HomeDomain", "Library/SMS/sms.db", db, 3, {}},
                                        {"HomeDomain", "Library/stale.sqlite", db, 3, std::uint64_t{db.size() + 16}},
                                        {"HomeDomain", "Library/clear.sqlite", db, 0, {}, true, /*encrypted=*/false},
                                        {"HomeDomain", "Library/Preferences/x.plist",
                                         make_plist(Json{{"a", 1}}), 3, {}},
                                    });
  const auto tree_before = bridle::test::tree_hashes(b.dir);
  std::string err;
  auto dec = unlock_backup(b.dir, b.derived, &err);
  ASSERT_TRUE(dec) << err;
  auto src = IosBackupSource::open(b.dir, &err, std::move(dec));
  ASSERT_TRUE(src) << err;
  ASSERT_TRUE(src->encrypted());

  auto one = [&](const std::string& rel) {
    ArtifactSpec spec;
    spec.backup.push_back({"HomeDomain", rel, false});
    auto files = src->find(spec);
    EXPECT_EQ(files.size(), 1u) << rel;
    return files.empty() ? IosFile{} : files[0];
  };
  SqliteError se;
  auto sms = src->open_sqlite(one("Library/SMS/sms.db"), &se);
  ASSERT_TRUE(sms) << se.message;
  EXPECT_EQ(rows_of(*sms), expect);
  // Stored in clear (no EncryptionKey): opened as a plain file, same rows.
  auto clear = src->open_sqlite(one("Library/clear.sqlite"), &se);
  ASSERT_TRUE(clear) << se.message;
  EXPECT_EQ(rows_of(*clear), expect);
  // MBFile Size disagrees with the padding (a stale record): the padding-checked plaintext is
  // read, as decrypt_file() and MVT do, so a readable database is not reported unread.
  auto stale = src->open_sqlite(one("Library/stale.sqlite"), &se);
  ASSERT_TRUE(stale) << se.message;
  EXPECT_EQ(rows_of(*stale), expect);
  stale.reset();
  // Plists are still decrypted in memory.
  auto pl = src->read(one("Library/Preferences/x.plist"), &err, 1u << 20);
  ASSERT_TRUE(pl) << err;
  EXPECT_EQ(pl->substr(0, 6), "bplist");
  // The Manifest walk has a connection of its own.
  std::size_t manifest_rows = 0;
  ASSERT_TRUE(src->for_each_manifest_row(
      [&](const std::string&, const std::string&, const std::string&, std::int64_t, std::string_view blob) {
        manifest_rows += !blob.empty();
      },
      &err))
      << err;
  EXPECT_EQ(manifest_rows, 5u);  // 4 files + the directory row
  sms.reset();
  clear.reset();
  src.reset();
  EXPECT_EQ(bridle::test::tree_hashes(b.dir), tree_before);  // nothing created or changed
}

TEST(EncryptedSource, WrongManifestKeyOrCorruptManifestIsAClearError) {
  Scratch s;
  auto b = build_backup(s / "UDID", {{"HomeDomain", "a", "hello", 3, {}}});
  std::string db = slurp(b.dir / "Manifest.db");
  db[0] = static_cast<char>(db[0] ^ 0x55);
  write_file(b.dir / "Manifest.db", db);
  std::string err;
  auto dec = unlock_backup(b.dir, b.derived, &err);
  ASSERT_TRUE(dec) << err;
  EXPECT_FALSE(IosBackupSource::open(b.dir, &err, std::move(dec)));
  EXPECT_NE(err.find("Manifest.db"), std::string::npos) << err;
  EXPECT_NE(err.find("not an SQLite database"), std::string::npos) << err;
  // Ciphertext whose length is not a multiple of 16.
  write_file(b.dir / "Manifest.db", db.substr(0, db.size() - 3));
  dec = unlock_backup(b.dir, b.derived, &err);
  ASSERT_TRUE(dec) << err;
  EXPECT_FALSE(IosBackupSource::open(b.dir, &err, std::move(dec)));
  EXPECT_NE(err.find("not a multiple of 16"), std::string::npos) << err;
}


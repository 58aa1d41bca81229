// adb backup (.ab) parser: tiny .ab files built here (tar by libarchive, zlib, AES by OpenSSL).
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "acquisition/android_backup.hpp"
#include "core/util.hpp"
#include "support/support.hpp"

using namespace bridle;

namespace {

std::string hex(const std::string& s) { return to_lower(to_hex(reinterpret_cast<const unsigned char*>(s.data()), s.size())); }

std::string to_upper_hex(const std::string& s) {
  std::string h = hex(s);
  for (auto& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return h;
}

std::string rnd(size_t n) {
  std::string s(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n));
  return s;
}

std::string pbkdf2(const std::string& pw, const std::string& salt, int rounds) {
  unsigned char out[32];
  PKCS5_PBKDF2_HMAC_SHA1(pw.data(), static_cast<int>(pw.size()), reinterpret_cast<const unsigned char*>(salt.data()),
                         static_cast<int>(salt.size()), rounds, 32, out);
  return std::string(reinterpret_cast<char*>(out), 32);
}

std::string aes_enc(const std::string& key, const std::string& iv, const std::string& data) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  std::string out(data.size() + 32, '\0');
  int a = 0, b = 0;
  EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                     reinterpret_cast<const unsigned char*>(iv.data()));
  EVP_EncryptUpdate(c, reinterpret_cast<unsigned char*>(out.data()), &a, reinterpret_cast<const unsigned char*>(data.data()),
                    static_cast<int>(data.size()));
  EVP_EncryptFinal_ex(c, reinterpret_cast<unsigned char*>(out.data()) + a, &b);
  EVP_CIPHER_CTX_free(c);
  out.resize(static_cast<size_t>(a + b));
  return out;
}

// An encrypted .ab as Android writes it (version >= 2: mangled checksum unless raw_checksum).
std::string make_encrypted_ab(const std::string& tar, const std::string& pw, int version, bool compressed,
                              bool raw_checksum = false, int rounds = 50) {
  std::string user_salt = rnd(64), ck_salt = rnd(64), user_iv = rnd(16), mk_iv = rnd(16), mk = rnd(32);
  mk[0] = static_cast<char>(0x93);  // make sure a byte >= 0x80 is mangled
  std::string ck = pbkdf2(raw_checksum ? mk : ab_mangle_key(mk), ck_salt, rounds);
  std::string blob;
  blob += static_cast<char>(16); blob += mk_iv;
  blob += static_cast<char>(32); blob += mk;
  blob += static_cast<char>(32); blob += ck;
  std::string uk = pbkdf2(pw, user_salt, rounds);
  std::string payload = compressed ? test::zlib_compress(tar) : tar;
  std::string out = "ANDROID BACKUP\n" + std::to_string(version) + "\n" + (compressed ? "1" : "0") + "\nAES-256\n";
  out += to_upper_hex(user_salt) + "\n" + to_upper_hex(ck_salt) + "\n" + std::to_string(rounds) + "\n" +
         to_upper_hex(user_iv) + "\n" + to_upper_hex(aes_enc(uk, user_iv, blob)) + "\n";
  out += aes_enc(mk, mk_iv, payload);
  return out;
}

}  // namespace

namespace {

const std::vector<std::pair<std::string, std::string>> kFiles = {
    {"apps/com.android.providers.telephony/d_f/000000_sms_backup", test::zlib_compress(R"([{"body":"hi"}])")},
    {"apps/com.example/f/notes.txt", "hello"}};

TEST(AndroidBackup, Version1UncompressedNone) {
  std::string tar = test::make_tar(kFiles);
  auto r = decode_android_backup_bytes("ANDROID BACKUP\n1\n0\nnone\n" + tar, std::nullopt);
  ASSERT_EQ(r.status, AbStatus::Ok) << r.message;
  EXPECT_EQ(r.header.version, 1);
  EXPECT_FALSE(r.header.compressed);
  EXPECT_EQ(r.tar, tar);
  EXPECT_EQ(r.tar_sha256, sha256_hex(tar));
  AbStatus st;
  std::string err;
  auto src = open_android_backup_bytes("ANDROID BACKUP\n1\n0\nnone\n" + tar, std::nullopt, "t.ab", &st, &err);
  ASSERT_TRUE(src) << err;
  EXPECT_EQ(src->kind(), "backup");
  ASSERT_EQ(src->files().size(), 2u);
  auto f = src->first("apps/com.android.providers.telephony/d_f/*_sms_backup");
  ASSERT_TRUE(f);
  EXPECT_EQ(*src->read(*f, &err), kFiles[0].second);
}

TEST(AndroidBackup, Version5Zlib) {
  std::string tar = test::make_tar(kFiles);
  auto r = decode_android_backup_bytes("ANDROID BACKUP\n5\n1\nnone\n" + test::zlib_compress(tar), std::nullopt);
  ASSERT_EQ(r.status, AbStatus::Ok) << r.message;
  EXPECT_EQ(r.tar, tar);
  // Truncated compressed stream.
  std::string z = test::zlib_compress(tar);
  auto t = decode_android_backup_bytes("ANDROID BACKUP\n5\n1\nnone\n" + z.substr(0, z.size() / 2), std::nullopt);
  EXPECT_EQ(t.status, AbStatus::Corrupt);
}

TEST(AndroidBackup, Version5Aes256) {
  std::string tar = test::make_tar(kFiles);
  for (bool compressed : {false, true}) {
    std::string ab = make_encrypted_ab(tar, "s3cret", 5, compressed);
    auto need = decode_android_backup_bytes(ab, std::nullopt);
    EXPECT_EQ(need.status, AbStatus::NeedPassword);
    auto r = decode_android_backup_bytes(ab, std::string("s3cret"));
    ASSERT_EQ(r.status, AbStatus::Ok) << r.message;
    EXPECT_TRUE(r.checksum_mangled);
    EXPECT_EQ(r.tar, tar);
    auto w = decode_android_backup_bytes(ab, std::string("wrong"));
    EXPECT_EQ(w.status, AbStatus::WrongPassword);
    EXPECT_EQ(w.message, "wrong backup password");
    // Damaged ciphertext tail: padding check fails.
    std::string cut = ab.substr(0, ab.size() - 5);
    EXPECT_EQ(decode_android_backup_bytes(cut, std::string("s3cret")).status, AbStatus::Corrupt);
  }
}

TEST(AndroidBackup, Version1RawChecksum) {
  std::string tar = test::make_tar(kFiles);
  std::string ab = make_encrypted_ab(tar, "pw", 1, true, true);
  auto r = decode_android_backup_bytes(ab, std::string("pw"));
  ASSERT_EQ(r.status, AbStatus::Ok) << r.message;
  EXPECT_FALSE(r.checksum_mangled);
}

TEST(AndroidBackup, HeaderErrors) {
  EXPECT_EQ(decode_android_backup_bytes("PK\3\4whatever", std::nullopt).status, AbStatus::NotBackup);
  EXPECT_EQ(decode_android_backup_bytes("ANDROID BACKUP\n9\n0\nnone\n", std::nullopt).status, AbStatus::Unsupported);
  EXPECT_EQ(decode_android_backup_bytes("ANDROID BACKUP\n5\n0\nROT13\n", std::nullopt).status, AbStatus::Unsupported);
  EXPECT_EQ(decode_android_backup_bytes("ANDROID BACKUP\n5\n0\nAES-256\nAB\n", std::string("x")).status,
            AbStatus::Corrupt);
  EXPECT_EQ(decode_android_backup_bytes("ANDROID BACKUP\n5\n0\nAES-256\n00\n00\n999999999\n00\n00\n", std::string("x")).status,
            AbStatus::Unsupported);
}

TEST(AndroidBackup, OutputCap) {
  std::string tar = test::make_tar({{"big", std::string(200000, 'a')}});
  AbLimits lim;
  lim.max_output = 100000;
  auto r = decode_android_backup_bytes("ANDROID BACKUP\n5\n1\nnone\n" + test::zlib_compress(tar), std::nullopt, lim);
  EXPECT_EQ(r.status, AbStatus::TooBig);
  AbLimits mem;
  mem.max_in_memory = 1000;
  auto m = decode_android_backup_bytes("ANDROID BACKUP\n5\n1\nnone\n" + test::zlib_compress(tar), std::nullopt, mem);
  EXPECT_EQ(m.status, AbStatus::TooBig);
  EXPECT_EQ(m.tar_sha256, sha256_hex(tar));
}

TEST(AndroidBackup, MangleKey) {
  std::string k = "\x01\x80\xff";
  EXPECT_EQ(ab_mangle_key(k), std::string("\x01\xEF\xBE\x80\xEF\xBF\xBF"));
}

}  // namespace

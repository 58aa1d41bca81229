// The worked vector of docs/mvt-reference.md §5.3 (shared/corpus/ios_encrypted_backup):
// keybag, derived key, class keys, Manifest key, file keys, and a full decrypt-backup run
// compared byte for byte with the plaintext MVT test backup.
#include <chrono>
#include <cstdio>
#include <fstream>

#include "acquisition/ios_crypto.hpp"
#include "core/util.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::ios;
using bridle::test::Scratch;
using bridle::test::slurp;

namespace {

std::string hex(std::string_view s) {
  return to_hex(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}
std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
  return out;
}

class EncryptedVector : public ::testing::Test {
 protected:
  // The 10M-iteration PBKDF2 runs once per test binary.
  static void SetUpTestSuite() {
    auto sh = bridle::test::shared_dir();
    if (!sh) return;
    base_ = *sh / "corpus" / "ios_encrypted_backup";
    std::ifstream vin(base_ / "vector.json");
    vector_ = Json::parse(vin, nullptr, false);
    backup_ = base_ / vector_.value("backup_dir", std::string("00008030-0000000000000001"));
    std::string pw = slurp(base_ / "password.txt");
    while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
    auto mp = read_manifest_plist(backup_, &setup_err_);
    if (!mp) return;
    manifest_ = *mp;
    auto kb = parse_keybag(mp->keybag, &setup_err_);
    if (!kb) return;
    keybag_ = *kb;
    auto t0 = std::chrono::steady_clock::now();
    auto k = derive_key(*kb, pw, mp->product_version, &setup_err_, &t_);
    derive_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cleanse(pw);
    if (k) derived_ = *k;
    std::printf("derive_key (PBKDF2-SHA256 x%u + PBKDF2-SHA1 x%u): %.2f s\n", kb->dpic, kb->iter,
                derive_seconds_);
  }
  static void TearDownTestSuite() {
    cleanse(derived_);
    cleanse(t_);
  }
  void SetUp() override {
    if (!bridle::test::shared_dir()) return;
    ASSERT_FALSE(vector_.is_discarded()) << "vector.json unreadable";
    ASSERT_EQ(derived_.size(), 32u) << setup_err_;
  }

  static inline std::filesystem::path base_, backup_;
  static inline Json vector_;
  static inline ManifestPlist manifest_;
  static inline Keybag keybag_;
  static inline std::string derived_, t_, setup_err_;
  static inline double derive_seconds_ = 0;
};

}  // namespace

TEST_F(EncryptedVector, KeybagAndDerivedKey) {
  BRIDLE_REQUIRE_SHARED(shared);
  (void)shared;
  EXPECT_TRUE(manifest_.is_encrypted);
  EXPECT_EQ(manifest_.product_version, "14.3");
  EXPECT_EQ(keybag_.vers, 4u);
  EXPECT_EQ(keybag_.type, 1u);
  EXPECT_EQ(hex(keybag_.salt), vector_["keybag"]["SALT_hex"]);
  EXPECT_EQ(keybag_.iter, vector_["keybag"]["ITER"]);
  EXPECT_EQ(hex(keybag_.dpsl), vector_["keybag"]["DPSL_hex"]);
  EXPECT_EQ(keybag_.dpic, vector_["keybag"]["DPIC"]);
  EXPECT_EQ(keybag_.classes.size(), 11u);
  for (auto& [cls, rec] : keybag_.classes) {
    EXPECT_EQ(rec.wrap, 2u) << cls;
    EXPECT_EQ(rec.ktyp, 0u) << cls;
  }
  EXPECT_EQ(hex(t_), vector_["pbkdf2_sha256_intermediate_hex"]);
  EXPECT_EQ(hex(derived_), vector_["derived_key_hex (mvt-ios extract-key output)"]);
  // The key file form round-trips.
  std::string err;
  EXPECT_EQ(parse_key_hex(hex(derived_), &err), derived_);
}

TEST_F(EncryptedVector, ClassManifestAndFileKeys) {
  BRIDLE_REQUIRE_SHARED(shared);
  (void)shared;
  std::string err;
  auto keys = BackupKeys::unlock(keybag_, derived_, &err);
  ASSERT_TRUE(keys) << err;
  for (auto& [cls, khex] : vector_["class_keys_hex"].items()) {
    auto k = keys->class_key(static_cast<std::uint32_t>(std::stoul(cls)));
    ASSERT_TRUE(k) << cls;
    EXPECT_EQ(hex(*k), khex.get<std::string>()) << cls;
  }
  EXPECT_EQ(hex(manifest_.manifest_key), vector_["ManifestKey_blob_hex"]);
  auto mk = keys->unwrap_manifest_key(manifest_.manifest_key, &err);
  ASSERT_TRUE(mk) << err;
  EXPECT_EQ(hex(*mk), vector_["manifest_db_key_hex"]);

  for (auto& f : vector_["files"]) {
    std::string id = f["fileID"];
    auto fk = keys->unwrap_file_key(unhex(f["EncryptionKey_blob_hex"].get<std::string>()),
                                    f["ProtectionClass"].get<std::uint32_t>(), &err);
    ASSERT_TRUE(fk) << id << ": " << err;
    EXPECT_EQ(hex(*fk), f["file_key_hex"].get<std::string>()) << id;
    if (f["relativePath"] == "Library/SMS/sms.db") {
      std::string ct = slurp(backup_ / id.substr(0, 2) / id);
      EXPECT_EQ(ct.size(), f["ciphertext_size"].get<std::size_t>());
      auto plain = decrypt_cbc(*fk, ct, true, &err);
      ASSERT_TRUE(plain) << err;
      EXPECT_EQ(plain->size(), f["plaintext_size"].get<std::size_t>());
      EXPECT_EQ(sha256_hex(*plain), f["plaintext_sha256"].get<std::string>());
    }
  }
  // A wrong key fails at the first class key.
  std::string wrong = derived_;
  wrong[0] = static_cast<char>(wrong[0] ^ 1);
  EXPECT_FALSE(BackupKeys::unlock(keybag_, wrong, &err));
  EXPECT_EQ(err, "wrong password or key");
}

TEST_F(EncryptedVector, DecryptBackupMatchesPlaintextBackup) {
  BRIDLE_REQUIRE_SHARED(shared);
  const auto plain_backup = shared / "corpus" / "mvt" / "ios_backup";
  Scratch s;
  const auto dest = s / "decrypted";
  DecryptOptions opts;
  opts.hashes = true;
  std::string err;
  auto t0 = std::chrono::steady_clock::now();
  auto rep = decrypt_backup(backup_, derived_, dest, opts, &err);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(rep) << err;
  std::printf("decrypt_backup: %zu files in %.3f s\n", rep->files, secs);
  for (auto& m : rep->messages) std::printf("  message: %s\n", m.c_str());
  EXPECT_EQ(rep->errors, 0u);
  EXPECT_EQ(rep->files, vector_["files"].size());

  EXPECT_EQ(sha256_file(dest / "Manifest.db"), vector_["manifest_db_plaintext_sha256"].get<std::string>());
  EXPECT_EQ(std::filesystem::file_size(dest / "Manifest.db"),
            vector_["manifest_db_plaintext_size"].get<std::uintmax_t>());
  for (auto& f : vector_["files"]) {
    std::string id = f["fileID"];
    auto out = dest / id.substr(0, 2) / id;
    ASSERT_TRUE(std::filesystem::exists(out)) << id;
    EXPECT_EQ(sha256_file(out), f["plaintext_sha256"].get<std::string>()) << id;
    auto ref = plain_backup / id.substr(0, 2) / id;
    ASSERT_TRUE(std::filesystem::exists(ref)) << ref;
    EXPECT_TRUE(slurp(out) == slurp(ref)) << id << " differs from " << ref;
  }
  for (const char* n : {"Info.plist", "Manifest.plist", "Status.plist"})
    EXPECT_EQ(slurp(dest / n), slurp(backup_ / n)) << n;
  ASSERT_TRUE(rep->info.contains("decrypted"));
  EXPECT_EQ(rep->info["decrypted"].size(), vector_["files"].size() + 4);
}

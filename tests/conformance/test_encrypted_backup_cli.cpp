// Encrypted backups through the CLI, on ../shared/corpus/ios_encrypted_backup (made from the
// plaintext corpus/mvt/ios_backup, password in password.txt): check-backup gives the same
// alerts and records as on the plaintext backup, decrypt-backup gives byte-identical files,
// extract-key gives the vector's key, the password never lands in any file, and no plaintext is
// left in the temporary folder.
#include <gtest/gtest.h>

#include <chrono>

#include "core/util.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

struct Corpus {
  fs::path enc, plain, res;
  std::string password;
};

std::optional<Corpus> corpus() {
  auto s = shared_dir();
  if (!s) return std::nullopt;
  Corpus c;
  c.enc = *s / "corpus" / "ios_encrypted_backup" / "00008030-0000000000000001";
  c.plain = *s / "corpus" / "mvt" / "ios_backup";
  c.res = *s / "corpus" / "mvt-results";
  c.password = trim(slurp(*s / "corpus" / "ios_encrypted_backup" / "password.txt"));
  return c;
}

#define REQUIRE_CORPUS(c)                                                                    \
  auto c##_opt = corpus();                                                                   \
  if (!c##_opt) GTEST_SKIP() << "skipped: ../shared/corpus not found (third-party data)";   \
  const Corpus& c = *c##_opt

TEST(EncryptedBackupCli, SameResultsAsPlaintextAndNoPlaintextLeft) {
  REQUIRE_CORPUS(c);
  Scratch d;
  fs::create_directories(d / "tmp");
  std::vector<std::string> env = {"XDG_DATA_HOME=" + (d / "xdg").string(), "BRIDLE_STIX2=",
                                  "TMPDIR=" + (d / "tmp").string(),
                                  "BRIDLE_IOS_BACKUP_PASSWORD=" + c.password};
  auto before = tree_hashes(c.enc);
  auto enc = run_bridle({"ios", "check-backup", c.enc.string(), "-i", (c.res / "test.stix2").string(), "-i",
                         (c.res / "demo.stix2").string(), "-o", (d / "enc").string()}, env);
  auto plain = run_bridle({"ios", "check-backup", c.plain.string(), "-i", (c.res / "test.stix2").string(), "-i",
                           (c.res / "demo.stix2").string(), "-o", (d / "plain").string()}, env);
  ASSERT_EQ(enc.exit_code, 1) << enc.err;
  ASSERT_EQ(plain.exit_code, 1) << plain.err;
  EXPECT_EQ(before, tree_hashes(c.enc));
  EXPECT_TRUE(fs::is_empty(d / "tmp")) << "plaintext or temporary files left in TMPDIR";
  EXPECT_EQ(slurp(d / "enc" / "alerts.json"), slurp(d / "plain" / "alerts.json"));
  for (auto& e : fs::directory_iterator(d / "plain")) {
    auto name = e.path().filename().string();
    if (name == "info.json" || name == "command.log" || name.rfind("timeline", 0) == 0) continue;
    if (name == "manifest.json") {
      // The encrypted corpus lists one more file (WhatsApp's LID.sqlite, which the plaintext
      // corpus has on disk but not in its Manifest) and records real sizes.
      EXPECT_EQ(Json::parse(slurp(e.path())).size() + 1, Json::parse(slurp(d / "enc" / name)).size());
      continue;
    }
    EXPECT_EQ(slurp(e.path()), slurp(d / "enc" / name)) << name;
  }
  auto info = Json::parse(slurp(d / "enc" / "info.json"));
  EXPECT_EQ(info["encrypted"], true);
  for (auto* f : {"info.json", "command.log", "alerts.json"})
    EXPECT_EQ(slurp(d / "enc" / f).find(c.password), std::string::npos) << f;
}

TEST(EncryptedBackupCli, WrongPasswordIsExitTwoBeforeAnyFileWork) {
  REQUIRE_CORPUS(c);
  Scratch d;
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_bridle({"ios", "check-backup", c.enc.string(), "-p", "not-the-password", "-o", (d / "o").string()},
                      {"XDG_DATA_HOME=" + (d / "xdg").string(), "BRIDLE_STIX2="});
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("wrong password"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("not-the-password"), std::string::npos);
  EXPECT_FALSE(fs::exists(d / "o" / "manifest.json"));
  EXPECT_LT(secs, 60.0);  // PBKDF2 with the real iteration counts, then one unwrap: no file work
}

TEST(EncryptedBackupCli, DecryptBackupAndExtractKey) {
  REQUIRE_CORPUS(c);
  Scratch d;
  std::vector<std::string> env = {"XDG_DATA_HOME=" + (d / "xdg").string()};
  auto key = run_bridle({"ios", "extract-key", c.enc.string(), "-p", c.password, "-k", (d / "key.txt").string()}, env);
  ASSERT_EQ(key.exit_code, 0) << key.err;
  auto vector = Json::parse(slurp(c.enc.parent_path() / "vector.json"));
  std::string k = trim(key.out);
  EXPECT_EQ(k.size(), 64u);
  EXPECT_NE(vector.dump().find(k), std::string::npos) << "derived key not in vector.json";
  EXPECT_EQ(slurp(d / "key.txt"), k);
  EXPECT_EQ(fs::status(d / "key.txt").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);

  auto dec = run_bridle({"ios", "decrypt-backup", c.enc.string(), "-d", (d / "dec").string(), "--key-file",
                         (d / "key.txt").string(), "-H"}, env);
  ASSERT_EQ(dec.exit_code, 0) << dec.err;
  std::size_t compared = 0;
  for (auto& e : fs::recursive_directory_iterator(c.plain)) {
    if (!e.is_regular_file()) continue;
    auto rel = fs::relative(e.path(), c.plain);
    auto name = rel.filename().string();
    if (name.size() != 40) continue;  // data files only (the plaintext Manifest.db differs)
    ASSERT_TRUE(fs::exists(d / "dec" / rel)) << rel;
    EXPECT_EQ(sha256_file(e.path()), sha256_file(d / "dec" / rel)) << rel;
    ++compared;
  }
  EXPECT_EQ(compared, 11u);
  auto info = Json::parse(slurp(d / "dec" / "info.json"));
  EXPECT_FALSE(info["encrypted"].empty());
  EXPECT_FALSE(info["decrypted"].empty());
  // And the decrypted copy checks like the plaintext backup.
  auto chk = run_bridle({"ios", "check-backup", (d / "dec").string(), "-i", (c.res / "demo.stix2").string()},
                        {"XDG_DATA_HOME=" + (d / "xdg").string(), "BRIDLE_STIX2="});
  EXPECT_EQ(chk.exit_code, 1) << chk.err;
}

}  // namespace

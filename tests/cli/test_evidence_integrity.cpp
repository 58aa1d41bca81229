// Evidence integrity (issue 8): every command leaves its input byte-identical (tree_hashes
// before == after, no file added), also when the evidence folder is read-only; an encrypted
// backup's plaintext never lands in $TMPDIR, after a normal run, a damaged file or a kill.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "core/util.hpp"
#include "support/backup_builder.hpp"
#include "support/fs_dump.hpp"
#include "support/support.hpp"

extern char** environ;

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kStix = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"TestSpy"},
 {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='evil-c2.example.com']","pattern_type":"stix"},
 {"type":"indicator","id":"indicator--2","pattern":"[app:id='com.evil.spy']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"},
 {"type":"relationship","id":"relationship--2","source_ref":"indicator--2","target_ref":"malware--1"}]})";

// A text that appears only in the plaintext of the encrypted backup.
const std::string kSecret = "PLAINTEXT-MARKER-7f3a9c http://evil-c2.example.com/x";

std::string sms_sql(const std::string& text) {
  return "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT);"
         "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, handle_id INTEGER,"
         " service TEXT, account TEXT, date INTEGER, date_read INTEGER, is_from_me INTEGER);"
         "INSERT INTO handle VALUES (1, '+15550001111');"
         "INSERT INTO message VALUES (1, 'G1', '" + text + "', 1, 'SMS', NULL, 650000000000000000, 0, 0);";
}

// ---- an encrypted backup (same construction as unit/test_ios_crypto.cpp) ----------------
std::string random_bytes(std::size_t n) {
  std::string s(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n));
  return s;
}
std::string wrap_key(std::string_view kek, std::string_view key) {  // RFC 3394
  std::string a(8, '\xA6');
  std::vector<std::string> r;
  for (std::size_t i = 0; i < key.size(); i += 8) r.emplace_back(key.substr(i, 8));
  const std::size_t n = r.size();
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  for (std::size_t j = 0; j < 6; ++j)
    for (std::size_t i = 0; i < n; ++i) {
      unsigned char in[16], out[32];
      int len = 0;
      std::memcpy(in, a.data(), 8);
      std::memcpy(in + 8, r[i].data(), 8);
      EVP_EncryptInit_ex(c, EVP_aes_256_ecb(), nullptr, reinterpret_cast<const unsigned char*>(kek.data()), nullptr);
      EVP_CIPHER_CTX_set_padding(c, 0);
      EVP_EncryptUpdate(c, out, &len, in, 16);
      std::uint64_t t = n * j + i + 1;
      a.assign(reinterpret_cast<char*>(out), 8);
      for (int k = 0; k < 8; ++k) a[7 - k] = static_cast<char>(a[7 - k] ^ ((t >> (8 * k)) & 0xff));
      r[i].assign(reinterpret_cast<char*>(out) + 8, 8);
    }
  EVP_CIPHER_CTX_free(c);
  std::string o = a;
  for (auto& x : r) o += x;
  return o;
}
std::string pbkdf2(std::string_view pw, std::string_view salt, int iter, const EVP_MD* md) {
  std::string out(32, '\0');
  PKCS5_PBKDF2_HMAC(pw.data(), static_cast<int>(pw.size()), reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iter, md, 32, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}
std::string be32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(v >> (24 - 8 * i));
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
std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) { o += d[c >> 4]; o += d[c & 15]; }
  return o;
}
Json data_node(std::string_view bytes) { return Json{{"$data", base64_encode(bytes)}}; }
std::string mbfile_blob(const std::string& rel, const std::string& ek, std::uint32_t pclass, std::uint64_t size) {
  Json root = {{"LastModified", 1600000000}, {"Flags", 0}, {"GroupID", 501}, {"Mode", 33188}, {"UserID", 501},
               {"InodeNumber", 1234}, {"Size", size}, {"ProtectionClass", pclass},
               {"RelativePath", Json{{"$uid", 5}}}, {"EncryptionKey", Json{{"$uid", 2}}}, {"$class", Json{{"$uid", 3}}}};
  Json objects = Json::array({"$null", root, Json{{"NS.data", data_node(ek)}, {"$class", Json{{"$uid", 4}}}},
                              Json{{"$classname", "MBFile"}, {"$classes", Json::array({"MBFile", "NSObject"})}},
                              Json{{"$classname", "NSMutableData"},
                                   {"$classes", Json::array({"NSMutableData", "NSData", "NSObject"})}},
                              rel});
  return make_plist(Json{{"$archiver", "NSKeyedArchiver"}, {"$version", 100000},
                         {"$top", Json{{"root", Json{{"$uid", 1}}}}}, {"$objects", objects}});
}

// Writes an encrypted backup holding sms.db (with kSecret) at dir; password "pw".
void build_encrypted_backup(const fs::path& dir) {
  std::string salt = random_bytes(20), dpsl = random_bytes(20);
  std::map<std::uint32_t, std::string> ck;
  for (std::uint32_t c = 1; c <= 4; ++c) ck[c] = random_bytes(32);
  std::string k = pbkdf2(pbkdf2("pw", dpsl, 1, EVP_sha256()), salt, 1, EVP_sha1());
  std::string kb = tlv_u32("VERS", 4) + tlv_u32("TYPE", 1) + tlv("UUID", std::string(16, 'U')) +
                   tlv("HMCK", std::string(40, 'H')) + tlv_u32("WRAP", 0) + tlv("SALT", salt) +
                   tlv_u32("ITER", 1) + tlv_u32("DPWT", 1) + tlv_u32("DPIC", 1) + tlv("DPSL", dpsl);
  for (auto& [c, key] : ck)
    kb += tlv("UUID", std::string(16, static_cast<char>('a' + c))) + tlv_u32("CLAS", c) + tlv_u32("WRAP", 2) +
          tlv_u32("KTYP", 0) + tlv("WPKY", wrap_key(k, key));
  kb += tlv("SIGN", std::string(20, 'S'));

  Scratch plain;
  make_sqlite(plain / "sms.db", sms_sql(kSecret));
  std::string sms = slurp(plain / "sms.db");
  std::string rel = "Library/SMS/sms.db";
  std::string id = sha1_hex("HomeDomain-" + rel);
  std::string fk = random_bytes(32);
  std::string ek = le32(3) + wrap_key(ck[3], fk);
  write_file(dir / id.substr(0, 2) / id, encrypt_cbc(fk, sms, true));
  std::string sql =
      "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);"
      "CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);"
      "INSERT INTO Files VALUES ('" + id + "','HomeDomain','" + rel + "',1,X'" +
      hex(mbfile_blob(rel, ek, 3, sms.size())) + "');";
  make_sqlite(plain / "Manifest.db", sql);
  std::string db = slurp(plain / "Manifest.db");
  std::string mk = random_bytes(32);
  write_file(dir / "Manifest.db", encrypt_cbc(mk, db, false));
  Json manifest = {{"BackupKeyBag", data_node(kb)}, {"ManifestKey", data_node(le32(4) + wrap_key(ck[4], mk))},
                   {"IsEncrypted", true}, {"Version", "10.0"},
                   {"Lockdown", Json{{"ProductVersion", "14.3"}, {"DeviceName", "test"}}}};
  write_file(dir / "Manifest.plist", make_plist(manifest));
  write_file(dir / "Info.plist", make_plist(Json{{"Product Version", "14.3"}}, false));
  write_file(dir / "Status.plist", make_plist(Json{{"IsFullBackup", false}}));
}

// ---- other fixtures ---------------------------------------------------------------------
// A database with uncheckpointed WAL content next to it (copied while the writer is open).
void make_wal_db(const fs::path& db, const std::string& text) {
  Scratch w;
  fs::path tmp = w / "x.db";
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(tmp.c_str(), &h), SQLITE_OK);
  std::string sql = "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;" + sms_sql("base");
  sql += "INSERT INTO message VALUES (2, 'G2', '" + text + "', 1, 'SMS', NULL, 650000000000000000, 0, 0);";
  ASSERT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  fs::create_directories(db.parent_path());
  fs::copy_file(tmp, db, fs::copy_options::overwrite_existing);
  fs::copy_file(fs::path(tmp.string() + "-wal"), fs::path(db.string() + "-wal"), fs::copy_options::overwrite_existing);
  sqlite3_close(h);
}

std::string tar_one(const std::string& name, const std::string& data) {  // ustar, one member
  std::string h(512, '\0');
  std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 99));
  std::snprintf(h.data() + 100, 8, "%07o", 0644);
  std::snprintf(h.data() + 108, 8, "%07o", 0);
  std::snprintf(h.data() + 116, 8, "%07o", 0);
  std::snprintf(h.data() + 124, 12, "%011o", static_cast<unsigned>(data.size()));
  std::snprintf(h.data() + 136, 12, "%011o", 1600000000u);
  h[156] = '0';
  std::memcpy(h.data() + 257, "ustar\0" "00", 8);
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h.data() + 148, 8, "%06o", sum);
  std::string body = data + std::string((512 - data.size() % 512) % 512, '\0');
  return h + body + std::string(1024, '\0');
}

struct Case {
  Scratch dir;
  fs::path stix = dir / "t.stix2";
  fs::path tmp = dir / "tmp";
  std::vector<std::string> env() const {
    return {"XDG_DATA_HOME=" + (dir / "xdg").string(), "BRIDLE_STIX2=", "TMPDIR=" + tmp.string(),
            "BRIDLE_IOS_BACKUP_PASSWORD=", "BRIDLE_ANDROID_BACKUP_PASSWORD="};
  }
  Case() {
    write_file(stix, kStix);
    fs::create_directories(tmp);
  }
  // Runs args against `evidence`, asserting it is unchanged; returns the result.
  RunResult run_checked(const fs::path& evidence, const std::vector<std::string>& args) const {
    auto before = tree_hashes(evidence);
    EXPECT_FALSE(before.empty()) << evidence;
    auto r = run_bridle(args, env());
    auto after = tree_hashes(evidence);
    EXPECT_EQ(before, after) << "evidence changed by: " << args[0] << " " << args[1] << "\n" << r.out << r.err;
    return r;
  }
};

// Every file under root whose bytes contain needle.
std::vector<std::string> files_containing(const fs::path& root, const std::string& needle) {
  std::vector<std::string> hits;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec) && slurp(it->path()).find(needle) != std::string::npos) hits.push_back(it->path());
  }
  return hits;
}
std::size_t entries(const fs::path& root) {
  std::size_t n = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) ++n;
  return n;
}

void make_fixtures(const fs::path& ev) {
  // iOS backup with a WAL sidecar next to sms.db.
  BackupBuilder b(ev / "backup");
  auto id = b.add_sqlite("HomeDomain", "Library/SMS/sms.db", sms_sql("hello"));
  b.finish();
  make_wal_db(ev / "backup" / id.substr(0, 2) / id, "wal row http://evil-c2.example.com/w");
  // Encrypted backup.
  build_encrypted_backup(ev / "enc");
  // iOS filesystem dump with a WAL database.
  write_file(ev / "fs/private/var/db/diagnostics/shutdown.log",
             "remaining client pid: 7 (/usr/libexec/nsurlsessiond)\nSIGTERM: [1700000000]\n");
  make_wal_db(ev / "fs/private/var/mobile/Library/SMS/sms.db", "fs wal http://evil-c2.example.com/f");
  // androidqf folder.
  write_file(ev / "qf/getprop.txt", "[persist.sys.timezone]: [Europe/Rome]\n[ro.build.version.sdk]: [33]\n");
  write_file(ev / "qf/packages.json",
             R"([{"name":"com.evil.spy","installer":"com.android.vending","system":false,"disabled":false,"files":[]}])");
  write_file(ev / "qf/files.json", R"([{"path":"/sdcard/a","modified_time":1593109532,"context":"c"}])");
  write_file(ev / "qf/acquisition.json", R"({"started":"2023-07-24T00:38:44Z"})");
  // bugreport folder.
  write_file(ev / "br/main_entry.txt", "dumpstate.txt");
  write_file(ev / "br/dumpstate.txt",
             "== dumpstate\n------ SYSTEM PROPERTIES ------\n[persist.sys.timezone]: [Europe/Rome]\n------ end\n"
             "DUMP OF SERVICE package:\nPackages:\n  Package [com.evil.spy] (1):\n    userId=10100\n" +
                 std::string(78, '-') + "\n");
  // adb backup.
  std::string sms = zlib_compress(R"([{"address":"1","body":"hi https://evil-c2.example.com/","date":"1645543781956","date_sent":"0"}])");
  write_file(ev / "ab/b.ab", "ANDROID BACKUP\n5\n1\nnone\n" +
                                 zlib_compress(tar_one("apps/com.android.providers.telephony/d_f/000000_sms_backup", sms)));
  // The filesystem dump and the androidqf folder again as archives (read in place).
  auto members_of = [](const fs::path& root) {
    std::vector<ArchiveMember> m;
    for (auto& e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file()) m.push_back(mfile(fs::relative(e.path(), root).generic_string(), slurp(e.path())));
    std::sort(m.begin(), m.end(), [](const ArchiveMember& a, const ArchiveMember& b) { return a.name < b.name; });
    return m;
  };
  fs::create_directories(ev / "fsarc");
  fs::create_directories(ev / "qfzip");
  write_archive(ev / "fsarc/dump.tar.gz", members_of(ev / "fs"), ArchiveFormat::TarGz);
  write_archive(ev / "qfzip/androidqf.zip", members_of(ev / "qf"), ArchiveFormat::Zip);
}

void run_all(const Case& c, const fs::path& ev, const fs::path& out) {
  auto o = [&](const char* n) { return (out / n).string(); };
  auto s = c.stix.string();
  auto r1 = c.run_checked(ev / "backup", {"ios", "check-backup", (ev / "backup").string(), "-i", s, "-o", o("b")});
  EXPECT_EQ(r1.exit_code, 1) << r1.out << r1.err;  // the WAL row is seen
  auto r2 = c.run_checked(ev / "enc", {"ios", "check-backup", (ev / "enc").string(), "-p", "pw", "-i", s, "-o", o("e")});
  EXPECT_EQ(r2.exit_code, 1) << r2.out << r2.err;
  auto r3 = c.run_checked(ev / "enc", {"ios", "decrypt-backup", (ev / "enc").string(), "-p", "pw", "-d", o("dec")});
  EXPECT_EQ(r3.exit_code, 0) << r3.out << r3.err;
  auto r4 = c.run_checked(ev / "fs", {"ios", "check-fs", (ev / "fs").string(), "-i", s, "-o", o("f")});
  EXPECT_EQ(r4.exit_code, 1) << r4.out << r4.err;
  auto r5 = c.run_checked(out / "b", {"ios", "check-iocs", o("b"), "-i", s, "-o", o("ci")});
  EXPECT_EQ(r5.exit_code, 1) << r5.out << r5.err;
  auto r6 = c.run_checked(ev / "qf", {"android", "check-androidqf", (ev / "qf").string(), "-i", s, "-o", o("q")});
  EXPECT_EQ(r6.exit_code, 1) << r6.out << r6.err;
  auto r7 = c.run_checked(ev / "br", {"android", "check-bugreport", (ev / "br").string(), "-i", s, "-o", o("r")});
  EXPECT_TRUE(r7.exit_code == 0 || r7.exit_code == 1) << r7.out << r7.err;
  auto r8 = c.run_checked(ev / "ab", {"android", "check-backup", (ev / "ab/b.ab").string(), "-i", s, "-o", o("a")});
  EXPECT_EQ(r8.exit_code, 1) << r8.out << r8.err;
  auto r9 = c.run_checked(ev / "fsarc", {"ios", "check-fs", (ev / "fsarc/dump.tar.gz").string(), "-i", s, "-o", o("fa")});
  EXPECT_EQ(r9.exit_code, 1) << r9.out << r9.err;
  auto r10 = c.run_checked(ev / "qfzip",
                           {"android", "check-androidqf", (ev / "qfzip/androidqf.zip").string(), "-i", s, "-o", o("qz")});
  EXPECT_EQ(r10.exit_code, 1) << r10.out << r10.err;
  auto r11 = c.run_checked(out / "q", {"android", "check-iocs", o("q"), "-i", s, "-o", o("qi")});
  EXPECT_EQ(r11.exit_code, 1) << r11.out << r11.err;
  auto r12 = c.run_checked(ev / "enc", {"ios", "extract-key", (ev / "enc").string(), "-p", "pw", "-k", o("key")});
  EXPECT_EQ(r12.exit_code, 0) << r12.out << r12.err;
  // Batch mode over every acquisition at once (with a store).
  auto r13 = c.run_checked(ev, {"scan", (ev / "backup").string(), (ev / "fs").string(), (ev / "qf").string(),
                                (ev / "fsarc/dump.tar.gz").string(), "-i", s, "-o", o("scan"), "--store",
                                (out / "store.sqlite").string()});
  EXPECT_EQ(r13.exit_code, 1) << r13.out << r13.err;
  EXPECT_TRUE(files_containing(c.tmp, "PLAINTEXT-MARKER").empty());
}

TEST(EvidenceIntegrity, EveryCommandLeavesEvidenceUntouched) {
  Case c;
  fs::path ev = c.dir / "evidence";
  make_fixtures(ev);
  run_all(c, ev, c.dir / "out");
  EXPECT_EQ(entries(c.tmp), 0u) << "files left in TMPDIR";
}

TEST(EvidenceIntegrity, ReadOnlyEvidence) {
  Case c;
  fs::path ev = c.dir / "evidence";
  make_fixtures(ev);
  std::system(("chmod -R a-w '" + ev.string() + "'").c_str());
  run_all(c, ev, c.dir / "out");
  std::system(("chmod -R u+w '" + ev.string() + "'").c_str());
  EXPECT_EQ(entries(c.tmp), 0u) << "files left in TMPDIR";
}

TEST(EvidenceIntegrity, NoPlaintextInTmpAfterDamageOrKill) {
  Case c;
  fs::path enc = c.dir / "enc";
  build_encrypted_backup(enc);
  // Damaged: the encrypted sms.db cut to a non-block length.
  std::string id = sha1_hex("HomeDomain-Library/SMS/sms.db");
  fs::path f = enc / id.substr(0, 2) / id;
  std::string bytes = slurp(f);
  write_file(f, bytes.substr(0, bytes.size() - 7));
  auto r = c.run_checked(enc, {"ios", "check-backup", enc.string(), "-p", "pw", "-i", c.stix.string(), "-o",
                               (c.dir / "o1").string()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(entries(c.tmp), 0u);
  write_file(f, bytes);
  // Killed mid-run (SIGKILL: nothing can clean up, so nothing may have been written).
  for (int delay_ms : {20, 80, 200}) {
    std::vector<std::string> args = {BRIDLE_BINARY, "ios", "check-backup", enc.string(), "-p", "pw",
                                     "-i", c.stix.string(), "-o", (c.dir / ("k" + std::to_string(delay_ms))).string()};
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) envs.emplace_back(*e);
    for (auto& e : c.env()) envs.push_back(e);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    ASSERT_EQ(posix_spawn(&pid, BRIDLE_BINARY, &fa, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&fa);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    int st = 0;
    ::waitpid(pid, &st, 0);
    EXPECT_TRUE(files_containing(c.tmp, "PLAINTEXT-MARKER").empty()) << delay_ms;
    EXPECT_TRUE(files_containing(c.tmp, "SQLite format 3").empty()) << delay_ms;
  }
}

}  // namespace

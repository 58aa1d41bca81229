// bridle-gen: seeded generator of realistic acquisitions for the benchmarks.
//
//   bridle-gen [--seed N] [--scale tiny|small|large] [--only ios,androidqf] [--ios-fs] [--ios-encrypted] OUT_DIR
//
// Writes, deterministically for a seed and a scale:
//   OUT_DIR/ios_backup/<UDID>/   iOS backup: Manifest.db (real schema, NSKeyedArchiver MBFile
//                                records), sms.db, Safari History.db, DataUsage.sqlite,
//                                WhatsApp ChatStorage.sqlite, Chrome History, WebKit
//                                observations.db, interactionC.db, TCC.db, plists
//   OUT_DIR/ios_backup_encrypted/<UDID>/   (--ios-encrypted) the same backup encrypted with
//                                the password "bridle-bench" (iOS's real PBKDF2 iteration counts)
//   OUT_DIR/ios_fs/, OUT_DIR/ios_fs.tar.gz   (--ios-fs) the same evidence as an iOS filesystem
//                                dump (private/var/...: files hard-linked to the backup's), as
//                                a folder and as a gzip'd tar made from it (tar + gzip -1)
//   OUT_DIR/androidqf/           packages.json, files.json, ps.txt, getprop.txt, settings_*.txt,
//                                dumpsys.txt, bugreport.zip (main_entry.txt + a large dumpstate)
//   OUT_DIR/planted.stix2        indicators matching rows planted at known positions
//   OUT_DIR/expected.json        the alerts a scan with planted.stix2 must raise
//   OUT_DIR/artifacts.txt        files the scan reads, and the SQL tables it selects (I/O floor)
// Everything is synthetic; planted "spyware" lives under example.org / example.net.
#include <openssl/evp.h>
#include <sqlite3.h>
#include <zip.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/util.hpp"
#include "support/backup_builder.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;
namespace fs = std::filesystem;

namespace {

struct Scale {
  std::string name;
  std::size_t sms, safari_items, safari_visits, manifest, datausage, whatsapp, chrome, observed,
      interactions, files_json, packages, processes;
  std::size_t dumpstate_bytes;
};

Scale scale_of(const std::string& s) {
  if (s == "tiny") return {"tiny", 1000, 250, 1000, 1000, 200, 500, 500, 100, 500, 1000, 50, 100, 1u << 20};
  if (s == "small")
    return {"small", 10000, 2500, 10000, 10000, 2000, 10000, 10000, 1000, 10000, 10000, 200, 300, 8u << 20};
  if (s == "large")
    return {"large", 1000000, 100000, 500000, 300000, 20000, 200000, 200000, 20000, 100000, 1000000, 800, 600,
            200u << 20};
  throw std::runtime_error("unknown scale " + s + " (tiny, small, large)");
}

// Planted indicator values (all fictional).
constexpr const char* kPlantDomain = "bench-spyware.example.org";
constexpr const char* kPlantSafariDomain = "exfil-bench.example.net";
constexpr const char* kPlantProcess = "benchagentd";
constexpr const char* kPlantApp = "com.bench.stalker";
constexpr const char* kPlantFilePath = "/data/local/tmp/bench_implant.bin";
constexpr const char* kPlantEmail = "pegasus-bench@example.org";

struct Rng {
  std::mt19937_64 g;
  explicit Rng(std::uint64_t seed) : g(seed) {}
  std::uint64_t next() { return g(); }
  std::size_t below(std::size_t n) { return n ? static_cast<std::size_t>(g() % n) : 0; }
  double unit() { return static_cast<double>(g() >> 11) * (1.0 / 9007199254740992.0); }
  std::string hex(std::size_t n) {
    static const char* d = "0123456789abcdef";
    std::string s(n, '0');
    for (auto& c : s) c = d[g() & 15];
    return s;
  }
  std::string guid() {
    std::string h = hex(32);
    for (auto& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
  }
};

const std::vector<std::string> kWords = {
    "hello", "see", "you", "tomorrow", "at", "the", "office", "call", "me", "when", "free", "ok",
    "thanks", "dinner", "tonight", "meeting", "moved", "to", "3pm", "running", "late", "love",
    "weekend", "plans", "train", "station", "coffee", "photo", "sent", "great", "news", "yes", "no",
    "maybe", "later", "home", "work", "parcel", "delivery", "code", "is", "your", "verification"};
const std::vector<std::string> kSites = {
    "news.example.com", "www.wikipedia.org", "maps.example.net", "shop.example.com", "mail.example.org",
    "video.example.com", "cdn.example.net", "docs.example.org", "weather.example.com", "bank.example.net",
    "social.example.com", "travel.example.org", "forum.example.net", "search.example.com"};

std::string sentence(Rng& r, std::size_t words) {
  std::string s;
  for (std::size_t i = 0; i < words; ++i) {
    if (i) s += ' ';
    s += kWords[r.below(kWords.size())];
  }
  return s;
}
std::string site_url(Rng& r) {
  return "https://" + kSites[r.below(kSites.size())] + "/" + sentence(r, 1) + "/" + std::to_string(r.below(100000));
}

// ---------------------------------------------------------------- sqlite helpers
struct Db {
  sqlite3* db = nullptr;
  explicit Db(const fs::path& p) {
    fs::create_directories(p.parent_path());
    fs::remove(p);
    if (sqlite3_open(p.c_str(), &db) != SQLITE_OK) throw std::runtime_error("open " + p.string());
    exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=4096;");
  }
  ~Db() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* e = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &e) != SQLITE_OK) {
      std::string m = e ? e : "?";
      sqlite3_free(e);
      throw std::runtime_error("sql: " + m + " in " + sql.substr(0, 120));
    }
  }
};
struct Stmt {
  sqlite3_stmt* st = nullptr;
  int col = 0;
  Stmt(Db& d, const char* sql) {
    if (sqlite3_prepare_v2(d.db, sql, -1, &st, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("prepare: ") + sqlite3_errmsg(d.db));
  }
  ~Stmt() { sqlite3_finalize(st); }
  Stmt& i(std::int64_t v) { sqlite3_bind_int64(st, ++col, v); return *this; }
  Stmt& d(double v) { sqlite3_bind_double(st, ++col, v); return *this; }
  Stmt& t(const std::string& v) { sqlite3_bind_text(st, ++col, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); return *this; }
  Stmt& b(const std::string& v) { sqlite3_bind_blob(st, ++col, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); return *this; }
  Stmt& null() { sqlite3_bind_null(st, ++col); return *this; }
  void step() {
    if (sqlite3_step(st) != SQLITE_DONE) throw std::runtime_error(std::string("step: ") + sqlite3_errmsg(sqlite3_db_handle(st)));
    sqlite3_reset(st);
    col = 0;
  }
};

void progress(const std::string& what, std::chrono::steady_clock::time_point t0) {
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "  %-40s %7.1fs\n", what.c_str(), s);
}

// ---------------------------------------------------------------- encrypted backup
// An encrypted twin of the iOS backup, built alongside it: same Manifest rows and files, each
// file AES-256-CBC encrypted with its own key (wrapped with protection class 3's key), MBFile
// records carrying EncryptionKey, Manifest.db encrypted with the ManifestKey, and a keybag with
// iOS's own iteration counts (PBKDF2-SHA256 10,000,000 × then PBKDF2-SHA1 10,000 ×).
constexpr const char* kBenchPassword = "bridle-bench";

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}
std::string le32(std::uint32_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16), static_cast<char>(v >> 24)};
}
std::string tlv(const std::string& tag, const std::string& value) {
  return tag + be32(static_cast<std::uint32_t>(value.size())) + value;
}

std::string aes_wrap(const std::string& kek, const std::string& key) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  std::string out(key.size() + 16, '\0');
  int len = 0, fl = 0;
  bool ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_wrap(), nullptr, reinterpret_cast<const unsigned char*>(kek.data()), nullptr) == 1 &&
            EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                              reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &fl) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) throw std::runtime_error("AES key wrap failed");
  out.resize(static_cast<std::size_t>(len + fl));
  return out;
}

// Encrypts file `in` into `out` (AES-256-CBC, IV 0), streamed; PKCS#7 padding when pad.
void encrypt_file(const std::string& key, const fs::path& in, const fs::path& out, bool pad) {
  static const unsigned char iv[16] = {};
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_256_cbc(), nullptr, reinterpret_cast<const unsigned char*>(key.data()), iv);
  EVP_CIPHER_CTX_set_padding(ctx, pad ? 1 : 0);
  fs::create_directories(out.parent_path());
  std::FILE* fi = std::fopen(in.c_str(), "rb");
  std::FILE* fo = std::fopen(out.c_str(), "wb");
  if (!fi || !fo) throw std::runtime_error("cannot encrypt " + in.string());
  std::vector<unsigned char> buf(1 << 20), obuf((1 << 20) + 32);
  bool ok = true;
  for (;;) {
    std::size_t n = std::fread(buf.data(), 1, buf.size(), fi);
    if (n == 0) break;
    int len = 0;
    ok = ok && EVP_EncryptUpdate(ctx, obuf.data(), &len, buf.data(), static_cast<int>(n)) == 1;
    ok = ok && std::fwrite(obuf.data(), 1, static_cast<std::size_t>(len), fo) == static_cast<std::size_t>(len);
  }
  int len = 0;
  ok = ok && EVP_EncryptFinal_ex(ctx, obuf.data(), &len) == 1;
  ok = ok && std::fwrite(obuf.data(), 1, static_cast<std::size_t>(len), fo) == static_cast<std::size_t>(len);
  std::fclose(fi);
  ok = std::fclose(fo) == 0 && ok;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) throw std::runtime_error("encryption failed for " + in.string());
}

struct EncryptedTwin {
  fs::path root;
  Rng rng;
  std::map<std::uint32_t, std::string> class_keys;
  std::string salt, dpsl, derived;
  std::uint32_t iter = 10'000, dpic = 10'000'000;
  std::unique_ptr<Db> manifest;  // plaintext Manifest.db, encrypted at the end
  std::unique_ptr<Stmt> ins;

  EncryptedTwin(fs::path r, std::uint64_t seed) : root(std::move(r)), rng(seed) {
    for (std::uint32_t c = 1; c <= 4; ++c) class_keys[c] = bytes(32);
    salt = bytes(20);
    dpsl = bytes(20);
    std::string t(32, '\0'), k(32, '\0');
    PKCS5_PBKDF2_HMAC(kBenchPassword, static_cast<int>(std::strlen(kBenchPassword)),
                      reinterpret_cast<const unsigned char*>(dpsl.data()), 20, static_cast<int>(dpic), EVP_sha256(), 32,
                      reinterpret_cast<unsigned char*>(t.data()));
    PKCS5_PBKDF2_HMAC(t.data(), 32, reinterpret_cast<const unsigned char*>(salt.data()), 20, static_cast<int>(iter),
                      EVP_sha1(), 32, reinterpret_cast<unsigned char*>(k.data()));
    derived = k;
    fs::remove_all(root);
    fs::create_directories(root);
    manifest = std::make_unique<Db>(root / "Manifest.db.plain");
    manifest->exec("CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);"
                   "CREATE INDEX FilesDomainIdx ON Files(domain);CREATE INDEX FilesRelativePathIdx ON Files(relativePath);"
                   "CREATE INDEX FilesFlagsIdx ON Files(flags);"
                   "CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);BEGIN;");
    ins = std::make_unique<Stmt>(*manifest, "INSERT OR REPLACE INTO Files VALUES (?,?,?,?,?)");
  }
  std::string bytes(std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng.next() & 0xff);
    return s;
  }
  static std::string mbfile(const std::string& rel, std::int64_t size, std::int64_t mtime, int mode,
                            const std::string& ek) {
    Json data = {{"$data", base64_encode(ek)}};
    Json archive = {
        {"$archiver", "NSKeyedArchiver"},
        {"$version", 100000},
        {"$top", {{"root", {{"$uid", 1}}}}},
        {"$objects",
         Json::array({"$null",
                      {{"LastModified", mtime}, {"LastStatusChange", mtime}, {"Birth", mtime}, {"Mode", mode},
                       {"UserID", 501}, {"GroupID", 501}, {"InodeNumber", 1234}, {"Size", size}, {"Flags", 0},
                       {"ProtectionClass", 3}, {"RelativePath", {{"$uid", 2}}}, {"EncryptionKey", {{"$uid", 4}}},
                       {"$class", {{"$uid", 3}}}},
                      rel,
                      {{"$classname", "MBFile"}, {"$classes", Json::array({"MBFile", "NSObject"})}},
                      {{"NS.data", data}, {"$class", {{"$uid", 5}}}},
                      {{"$classname", "NSMutableData"}, {"$classes", Json::array({"NSMutableData", "NSData", "NSObject"})}}})}};
    return make_plist(archive, true);
  }
  // A Manifest row; `plain` (a data file of the plain backup) is encrypted into the twin.
  void row(const std::string& domain, const std::string& rel, int flags, std::int64_t size, std::int64_t mtime,
           int mode, const fs::path* plain) {
    std::string id = sha1_hex(domain + "-" + rel);
    std::string blob;
    if (flags == 1) {
      std::string fk = bytes(32);
      blob = mbfile(rel, size, mtime, mode, le32(3) + aes_wrap(class_keys[3], fk));
      if (plain) encrypt_file(fk, *plain, root / id.substr(0, 2) / id, true);
    } else {
      blob = BackupBuilder::mbfile_blob(rel, size, mtime, mode);
    }
    ins->t(id).t(domain).t(rel).i(flags).b(blob).step();
  }
  void finish(const fs::path& plain_root) {
    ins.reset();
    manifest->exec("COMMIT");
    manifest.reset();
    std::string mk = bytes(32);
    encrypt_file(mk, root / "Manifest.db.plain", root / "Manifest.db", false);  // page-sized: no padding
    fs::remove(root / "Manifest.db.plain");
    std::string kb = tlv("VERS", be32(4)) + tlv("TYPE", be32(1)) + tlv("UUID", bytes(16)) + tlv("HMCK", bytes(40)) +
                     tlv("WRAP", be32(0)) + tlv("SALT", salt) + tlv("ITER", be32(iter)) + tlv("DPWT", be32(1)) +
                     tlv("DPIC", be32(dpic)) + tlv("DPSL", dpsl);
    for (auto& [cls, key] : class_keys)
      kb += tlv("UUID", bytes(16)) + tlv("CLAS", be32(cls)) + tlv("WRAP", be32(2)) + tlv("KTYP", be32(0)) +
            tlv("WPKY", aes_wrap(derived, key));
    kb += tlv("SIGN", bytes(20));
    Json mp = {{"BackupKeyBag", {{"$data", base64_encode(kb)}}},
               {"ManifestKey", {{"$data", base64_encode(le32(4) + aes_wrap(class_keys[4], mk))}}},
               {"IsEncrypted", true},
               {"Version", "10.0"},
               {"Lockdown", {{"ProductVersion", "17.1.2"}}}};
    write_file(root / "Manifest.plist", make_plist(mp, false));
    for (auto* f : {"Info.plist", "Status.plist"}) fs::copy_file(plain_root / f, root / f, fs::copy_options::overwrite_existing);
  }
};

// ---------------------------------------------------------------- iOS backup
struct IosGen {
  fs::path root;
  Rng& rng;
  const Scale& sc;
  Json& expected;
  std::vector<std::string>& artifacts;   // files read by the scan
  std::vector<std::string>& tables;      // "db<TAB>table" selected by the scan
  std::unique_ptr<Db> manifest;
  std::unique_ptr<Stmt> ins;
  std::vector<std::pair<std::string, fs::path>> fs_files;  // filesystem-dump path, backup file
  EncryptedTwin* twin = nullptr;  // --ios-encrypted
  std::int64_t base_time = 1700000000;  // Nov 2023

  void manifest_row(const std::string& domain, const std::string& rel, int flags, std::int64_t size,
                    std::int64_t mtime, int mode) {
    std::string id = sha1_hex(domain + "-" + rel);
    ins->t(id).t(domain).t(rel).i(flags).b(BackupBuilder::mbfile_blob(rel, size, mtime, mode)).step();
    if (twin) {
      fs::path p = root / id.substr(0, 2) / id;
      bool has_file = flags == 1 && fs::exists(p);
      twin->row(domain, rel, flags, size, mtime, mode, has_file ? &p : nullptr);
    }
  }
  // Where a backup domain's file lives in a filesystem dump (app containers get a UUID
  // derived from the bundle/group id).
  static std::string fs_path(const std::string& domain, const std::string& rel) {
    auto uuid = [](const std::string& id) {
      std::string h = sha1_hex(id);
      for (auto& c : h) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
    };
    if (domain == "HomeDomain") return "private/var/mobile/" + rel;
    if (domain == "WirelessDomain") return "private/var/wireless/" + rel;
    if (domain == "RootDomain") return "private/var/root/" + rel;
    if (domain.rfind("AppDomainGroup-", 0) == 0)
      return "private/var/mobile/Containers/Shared/AppGroup/" + uuid(domain.substr(15)) + "/" + rel;
    if (domain.rfind("AppDomain-", 0) == 0)
      return "private/var/mobile/Containers/Data/Application/" + uuid(domain.substr(10)) + "/" + rel;
    return "private/var/mobile/" + rel;
  }
  // The same evidence as a filesystem dump: a folder of hard links (copies when linking
  // fails) and a .tar.gz of it.
  void write_fs_dump(const fs::path& dir, const fs::path& tgz, std::vector<std::string>& fs_artifacts) {
    auto t0 = std::chrono::steady_clock::now();
    fs::remove_all(dir);
    for (auto& [rel, src] : fs_files) {
      fs::path dst = dir / rel;
      fs::create_directories(dst.parent_path());
      std::error_code ec;
      fs::create_hard_link(src, dst, ec);
      if (ec) fs::copy_file(src, dst, fs::copy_options::overwrite_existing);
      fs_artifacts.push_back(dst.string());
    }
    progress("iOS filesystem dump folder", t0);
    std::string cmd = "tar -C '" + dir.string() + "' -cf - private | gzip -1 > '" + tgz.string() + "'";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
    progress("iOS filesystem dump .tar.gz", t0);
  }
  fs::path data_path(const std::string& domain, const std::string& rel) {
    std::string id = sha1_hex(domain + "-" + rel);
    auto p = root / id.substr(0, 2) / id;
    fs::create_directories(p.parent_path());
    return p;
  }
  // A database file registered in the Manifest after `fill` wrote it.
  template <class Fill>
  void add_db(const std::string& domain, const std::string& rel, const std::vector<std::string>& tbls, Fill&& fill) {
    auto p = data_path(domain, rel);
    {
      Db d(p);
      d.exec("BEGIN");
      fill(d);
      d.exec("COMMIT");
    }
    manifest_row(domain, rel, 1, static_cast<std::int64_t>(fs::file_size(p)), base_time, 0100644);
    artifacts.push_back(p.string());
    for (auto& t : tbls) tables.push_back(p.string() + "\t" + t);
    fs_files.emplace_back(fs_path(domain, rel), p);
  }
  void add_plain(const std::string& domain, const std::string& rel, const std::string& content) {
    auto p = data_path(domain, rel);
    write_file(p, content);
    manifest_row(domain, rel, 1, static_cast<std::int64_t>(content.size()), base_time, 0100644);
    artifacts.push_back(p.string());
    fs_files.emplace_back(fs_path(domain, rel), p);
  }
  void expect(const std::string& module, const std::string& value, std::size_t count = 1) {
    expected.push_back({{"module", module}, {"value", value}, {"min_count", count}});
  }

  void sms() {
    auto t0 = std::chrono::steady_clock::now();
    std::size_t n = sc.sms, plant = n / 2 + 7;
    add_db("HomeDomain", "Library/SMS/sms.db", {"message", "handle"}, [&](Db& d) {
      d.exec(R"SQL(
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT, service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT);
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT, replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT, attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT, account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER, is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0, is_from_me INTEGER DEFAULT 0, is_empty INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0, payload_data BLOB, message_summary_info BLOB);
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT, transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT, total_bytes INTEGER DEFAULT 0);
CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE, attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id));
)SQL");
      std::size_t handles = std::max<std::size_t>(10, n / 200);
      Stmt h(d, "INSERT INTO handle (ROWID, id, country, service) VALUES (?,?,?,?)");
      for (std::size_t i = 1; i <= handles; ++i) {
        std::string id = (i == 3) ? std::string(kPlantEmail) : "+1555" + std::to_string(1000000 + i);
        h.i(static_cast<std::int64_t>(i)).t(id).t("us").t(i % 3 ? "iMessage" : "SMS").step();
      }
      Stmt m(d, "INSERT INTO message (ROWID, guid, text, handle_id, service, account, date, date_read, "
                "date_delivered, is_delivered, is_finished, is_from_me, is_read, attributedBody) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
      std::string body(48, '\x01');
      std::int64_t mac = (base_time - 978307200LL) * 1000000000LL;
      for (std::size_t i = 1; i <= n; ++i) {
        std::string text = sentence(rng, 3 + rng.below(12));
        if (rng.below(20) == 0) text += " " + site_url(rng);
        if (i == plant) text = std::string("Your parcel is held, pay the fee: https://track.") + kPlantDomain + "/p/" + rng.hex(6);
        std::int64_t h_id = (i == plant + 1) ? 3 : 1 + static_cast<std::int64_t>(rng.below(handles));
        if (h_id == 3 && i != plant + 1) h_id = 4;
        bool me = rng.below(2);
        std::int64_t date = mac + static_cast<std::int64_t>(i) * 60'000'000'000LL;
        m.i(static_cast<std::int64_t>(i)).t(rng.guid()).t(text).i(h_id).t(h_id % 3 ? "iMessage" : "SMS")
            .t("e:owner@example.net").i(date).i(me ? 0 : date + 30'000'000'000LL).i(date).i(1).i(1).i(me).i(1)
            .b(body).step();
      }
    });
    expect("sms", kPlantDomain);
    expect("sms", kPlantEmail);
    progress("sms.db (" + std::to_string(n) + " messages)", t0);
  }

  void safari() {
    auto t0 = std::chrono::steady_clock::now();
    std::size_t items = sc.safari_items, visits = sc.safari_visits, plant = items / 3 + 1;
    add_db("HomeDomain", "Library/Safari/History.db", {"history_items", "history_visits"}, [&](Db& d) {
      d.exec(R"SQL(
CREATE TABLE history_items (id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL UNIQUE, domain_expansion TEXT NULL, visit_count INTEGER NOT NULL, daily_visit_counts BLOB NOT NULL, weekly_visit_counts BLOB NULL, autocomplete_triggers BLOB NULL, should_recompute_derived_visit_counts INTEGER NOT NULL, visit_count_score INTEGER NOT NULL, status_code INTEGER NOT NULL DEFAULT 0);
CREATE TABLE history_visits (id INTEGER PRIMARY KEY AUTOINCREMENT, history_item INTEGER NOT NULL REFERENCES history_items(id) ON DELETE CASCADE, visit_time REAL NOT NULL, title TEXT NULL, load_successful BOOLEAN NOT NULL DEFAULT 1, http_non_get BOOLEAN NOT NULL DEFAULT 0, synthesized BOOLEAN NOT NULL DEFAULT 0, redirect_source INTEGER NULL UNIQUE REFERENCES history_visits(id) ON DELETE CASCADE, redirect_destination INTEGER NULL UNIQUE REFERENCES history_visits(id) ON DELETE CASCADE, origin INTEGER NOT NULL DEFAULT 0, generation INTEGER NOT NULL DEFAULT 0, attributes INTEGER NOT NULL DEFAULT 0, score INTEGER NOT NULL DEFAULT 0);
CREATE INDEX history_visits__last_visit ON history_visits (history_item, visit_time DESC, synthesized ASC);
)SQL");
      Stmt it(d, "INSERT INTO history_items (id, url, domain_expansion, visit_count, daily_visit_counts, "
                 "should_recompute_derived_visit_counts, visit_count_score) VALUES (?,?,?,?,?,0,0)");
      for (std::size_t i = 1; i <= items; ++i) {
        std::string url = site_url(rng) + "?i=" + std::to_string(i);
        if (i == plant) url = std::string("https://") + kPlantSafariDomain + "/c2/" + rng.hex(8);
        it.i(static_cast<std::int64_t>(i)).t(url).t("example").i(static_cast<std::int64_t>(visits / items)).b("\x01").step();
      }
      Stmt v(d, "INSERT INTO history_visits (id, history_item, visit_time, title, load_successful) VALUES (?,?,?,?,1)");
      double mac = static_cast<double>(base_time - 978307200LL);
      for (std::size_t i = 1; i <= visits; ++i) {
        std::size_t item = (i <= items) ? i : 1 + rng.below(items);
        v.i(static_cast<std::int64_t>(i)).i(static_cast<std::int64_t>(item)).d(mac + static_cast<double>(i) * 37.25)
            .t(sentence(rng, 4)).step();
      }
    });
    expect("safari_history", kPlantSafariDomain);
    progress("Safari History.db (" + std::to_string(visits) + " visits)", t0);
  }

  void datausage() {
    auto t0 = std::chrono::steady_clock::now();
    std::size_t n = sc.datausage, plant = n - n / 4;
    add_db("WirelessDomain", "Library/Databases/DataUsage.sqlite", {"ZPROCESS", "ZLIVEUSAGE"}, [&](Db& d) {
      d.exec(R"SQL(
CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFIRSTTIMESTAMP TIMESTAMP, ZTIMESTAMP TIMESTAMP, ZBUNDLENAME VARCHAR, ZPROCNAME VARCHAR);
CREATE TABLE ZLIVEUSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZKIND INTEGER, ZMETADATA INTEGER, ZTAG INTEGER, ZHASPROCESS INTEGER, ZBILLCYCLEEND TIMESTAMP, ZTIMESTAMP TIMESTAMP, ZWIFIIN FLOAT, ZWIFIOUT FLOAT, ZWWANIN FLOAT, ZWWANOUT FLOAT);
)SQL");
      Stmt p(d, "INSERT INTO ZPROCESS VALUES (?,8,1,?,?,?,?)");
      Stmt l(d, "INSERT INTO ZLIVEUSAGE VALUES (?,6,1,0,NULL,0,?,NULL,?,?,?,?,?)");
      double mac = static_cast<double>(base_time - 978307200LL);
      std::size_t lu = 0;
      for (std::size_t i = 1; i <= n; ++i) {
        // Installed apps ("App/bundle", listed in Info.plist) and system daemons.
        static const char* kSys[] = {"apsd", "assetsd", "cloudd", "akd", "accountsd", "backboardd", "bluetoothd"};
        std::string bundle = (i % 10 == 0) ? "" : "com.example.app" + std::to_string(i % 500);
        std::string proc = bundle.empty() ? std::string(kSys[i % 7]) : "App" + std::to_string(i % 500) + "/" + bundle;
        if (i == plant) proc = kPlantProcess;
        double t = mac + static_cast<double>(i) * 11.5;
        if (i == plant || bundle.empty()) p.i(static_cast<std::int64_t>(i)).d(t).d(t + 5).null().t(proc).step();
        else p.i(static_cast<std::int64_t>(i)).d(t).d(t + 5).t(bundle).t(proc).step();
        if (i % 4 != 0)
          l.i(static_cast<std::int64_t>(++lu)).i(static_cast<std::int64_t>(i)).d(t + 5).d(rng.below(1 << 20))
              .d(rng.below(1 << 18)).d(rng.below(1 << 16)).d(rng.below(1 << 14)).step();
      }
    });
    expect("datausage", kPlantProcess);
    expect("unknown_processes", kPlantProcess);
    progress("DataUsage.sqlite (" + std::to_string(n) + " processes)", t0);
  }

  void whatsapp() {
    auto t0 = std::chrono::steady_clock::now();
    std::size_t n = sc.whatsapp, plant = n / 5 + 3;
    add_db("AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ChatStorage.sqlite",
           {"ZWAMESSAGE", "ZWACHATSESSION", "ZWAMEDIAITEM", "ZWAMESSAGEDATAITEM", "ZWAGROUPINFO"}, [&](Db& d) {
      d.exec(R"SQL(
CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, ZCHATSESSION INTEGER, ZFROMJID TEXT, ZTOJID TEXT, ZTEXT TEXT, ZMESSAGEDATE REAL, ZMESSAGETYPE INTEGER, ZISFROMME INTEGER);
CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, ZMESSAGE INTEGER, ZAUTHORNAME TEXT, ZMEDIAURL TEXT);
CREATE TABLE ZWAMESSAGEDATAITEM (Z_PK INTEGER PRIMARY KEY, ZMESSAGE INTEGER, ZCONTENT1 TEXT, ZCONTENT2 TEXT, ZMATCHEDTEXT TEXT, ZSUMMARY TEXT, ZTITLE TEXT);
CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, ZCONTACTJID TEXT, ZPARTNERNAME TEXT, ZSESSIONTYPE INTEGER, ZARCHIVED INTEGER, ZREMOVED INTEGER, ZHIDDEN INTEGER, ZMESSAGECOUNTER INTEGER, ZLASTMESSAGEDATE REAL, ZGROUPINFO INTEGER);
CREATE TABLE ZWAGROUPINFO (Z_PK INTEGER PRIMARY KEY, ZCHATSESSION INTEGER, ZCREATIONDATE REAL);
)SQL");
      std::size_t chats = std::max<std::size_t>(5, n / 500);
      double mac = static_cast<double>(base_time - 978307200LL);
      Stmt c(d, "INSERT INTO ZWACHATSESSION VALUES (?,?,?,0,0,0,0,?,?,NULL)");
      for (std::size_t i = 1; i <= chats; ++i)
        c.i(static_cast<std::int64_t>(i)).t("1555" + std::to_string(2000000 + i) + "@s.whatsapp.net")
            .t("Contact " + std::to_string(i)).i(static_cast<std::int64_t>(n / chats)).d(mac + 1e6).step();
      Stmt m(d, "INSERT INTO ZWAMESSAGE VALUES (?,?,?,?,?,?,0,?)");
      for (std::size_t i = 1; i <= n; ++i) {
        std::size_t chat = 1 + rng.below(chats);
        std::string jid = "1555" + std::to_string(2000000 + chat) + "@s.whatsapp.net";
        std::string text = sentence(rng, 2 + rng.below(10));
        if (rng.below(25) == 0) text += " " + site_url(rng);
        if (i == plant) text = std::string("check this https://wa.") + kPlantDomain + "/x/" + rng.hex(6);
        bool me = rng.below(2);
        m.i(static_cast<std::int64_t>(i)).i(static_cast<std::int64_t>(chat)).t(me ? "" : jid).t(me ? jid : "")
            .t(text).d(mac + static_cast<double>(i) * 20.0).i(me).step();
      }
    });
    expect("whatsapp", kPlantDomain);
    progress("WhatsApp ChatStorage (" + std::to_string(n) + " messages)", t0);
  }

  void chrome() {
    auto t0 = std::chrono::steady_clock::now();
    std::size_t n = sc.chrome, urls = std::max<std::size_t>(10, n / 4), plant = urls / 2;
    add_db("AppDomain-com.google.chrome.ios", "Library/Application Support/Google/Chrome/Default/History",
           {"urls", "visits"}, [&](Db& d) {
      d.exec("CREATE TABLE urls (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR);"
             "CREATE TABLE visits (id INTEGER PRIMARY KEY, url INTEGER NOT NULL, visit_time INTEGER NOT NULL, from_visit INTEGER);");
      Stmt u(d, "INSERT INTO urls VALUES (?,?,?)");
      for (std::size_t i = 1; i <= urls; ++i) {
        std::string url = site_url(rng);
        if (i == plant) url = std::string("https://cdn.") + kPlantDomain + "/chrome";
        u.i(static_cast<std::int64_t>(i)).t(url).t(sentence(rng, 3)).step();
      }
      Stmt v(d, "INSERT INTO visits VALUES (?,?,?,?)");
      std::int64_t webkit = (base_time + 11644473600LL) * 1000000LL;
      for (std::size_t i = 1; i <= n; ++i)
        v.i(static_cast<std::int64_t>(i)).i(static_cast<std::int64_t>(i <= urls ? i : 1 + rng.below(urls)))
            .i(webkit + static_cast<std::int64_t>(i) * 13'000'000).i(0).step();
    });
    expect("chrome_history", kPlantDomain);
    progress("Chrome History (" + std::to_string(n) + " visits)", t0);
  }

  void webkit_observations() {
    auto t0 = std::chrono::steady_clock::now();
    std::size_t n = sc.observed, plant = n / 2;
    add_db("AppDomain-com.apple.mobilesafari", "Library/WebKit/WebsiteData/ResourceLoadStatistics/observations.db",
           {"ObservedDomains"}, [&](Db& d) {
      d.exec("CREATE TABLE ObservedDomains (domainID INTEGER PRIMARY KEY, registrableDomain TEXT NOT NULL UNIQUE,"
             " lastSeen REAL NOT NULL, hadUserInteraction INTEGER NOT NULL, mostRecentUserInteractionTime REAL NOT NULL,"
             " grandfathered INTEGER, mostRecentWebPushInteractionTime REAL);");
      Stmt s(d, "INSERT INTO ObservedDomains VALUES (?,?,?,?,?,0,-1.0)");
      for (std::size_t i = 1; i <= n; ++i) {
        std::string dom = (i == plant) ? std::string(kPlantDomain) : "site" + std::to_string(i) + ".example.com";
        s.i(static_cast<std::int64_t>(i)).t(dom).d(static_cast<double>(base_time + i)).i(i % 2)
            .d(static_cast<double>(base_time)).step();
      }
    });
    expect("webkit_resource_load_statistics", kPlantDomain);
    progress("WebKit observations.db (" + std::to_string(n) + " domains)", t0);
  }

  void interaction_c() {
    auto t0 = std::chrono::steady_clock::now();
    std::size_t n = sc.interactions;
    add_db("HomeDomain", "Library/CoreDuet/People/interactionC.db", {"ZINTERACTIONS", "ZCONTACTS"}, [&](Db& d) {
      d.exec(R"SQL(
CREATE TABLE ZINTERACTIONS (Z_PK INTEGER PRIMARY KEY, ZSENDER INTEGER, ZSTARTDATE REAL, ZENDDATE REAL, ZBUNDLEID TEXT, ZACCOUNT TEXT, ZTARGETBUNDLEID TEXT, ZDIRECTION INTEGER, ZMECHANISM INTEGER, ZRECIPIENTCOUNT INTEGER, ZDOMAINIDENTIFIER TEXT, ZDERIVEDINTENTIDENTIFIER TEXT, ZGROUPNAME TEXT, ZCREATIONDATE REAL, ZUPDATEDATE REAL, ZCONTENTURL TEXT, ZLOCATIONUUID TEXT);
CREATE TABLE ZCONTACTS (Z_PK INTEGER PRIMARY KEY, ZDISPLAYNAME TEXT, ZIDENTIFIER TEXT, ZPERSONID TEXT, ZPERSONIDTYPE INTEGER, ZCUSTOMIDENTIFIER TEXT, ZINCOMINGRECIPIENTCOUNT INTEGER, ZINCOMINGSENDERCOUNT INTEGER, ZOUTGOINGRECIPIENTCOUNT INTEGER, ZINTERACTIONRECIPIENT INTEGER, ZFIRSTINCOMINGRECIPIENTDATE REAL, ZFIRSTINCOMINGSENDERDATE REAL, ZFIRSTOUTGOINGRECIPIENTDATE REAL, ZLASTINCOMINGSENDERDATE REAL, ZLASTINCOMINGRECIPIENTDATE REAL, ZLASTOUTGOINGRECIPIENTDATE REAL);
CREATE TABLE ZATTACHMENT (Z_PK INTEGER PRIMARY KEY, ZCONTENTTEXT TEXT, ZUTI TEXT, ZCONTENTURL TEXT);
CREATE TABLE Z_1INTERACTIONS (Z_1ATTACHMENTS INTEGER, Z_3INTERACTIONS INTEGER);
CREATE TABLE Z_2INTERACTIONRECIPIENT (Z_2RECIPIENTS INTEGER, Z_3INTERACTIONRECIPIENT INTEGER);
)SQL");
      std::size_t contacts = std::max<std::size_t>(5, n / 100);
      Stmt c(d, "INSERT INTO ZCONTACTS (Z_PK, ZDISPLAYNAME, ZIDENTIFIER, ZPERSONID) VALUES (?,?,?,?)");
      for (std::size_t i = 1; i <= contacts; ++i)
        c.i(static_cast<std::int64_t>(i)).t("Contact " + std::to_string(i)).t("+1555" + std::to_string(3000000 + i))
            .t(rng.guid()).step();
      Stmt s(d, "INSERT INTO ZINTERACTIONS (Z_PK, ZSENDER, ZSTARTDATE, ZENDDATE, ZBUNDLEID, ZACCOUNT, ZDIRECTION, "
                "ZMECHANISM, ZRECIPIENTCOUNT, ZCREATIONDATE, ZUPDATEDATE) VALUES (?,?,?,?,?,?,?,?,1,?,?)");
      double mac = static_cast<double>(base_time - 978307200LL);
      for (std::size_t i = 1; i <= n; ++i) {
        double t = mac + static_cast<double>(i) * 45.0;
        s.i(static_cast<std::int64_t>(i)).i(static_cast<std::int64_t>(1 + rng.below(contacts))).d(t).d(t + 3)
            .t(i % 2 ? "com.apple.MobileSMS" : "net.whatsapp.WhatsApp").t("owner@example.net")
            .i(static_cast<std::int64_t>(i % 2)).i(4).d(t).d(t).step();
      }
    });
    progress("interactionC.db (" + std::to_string(n) + " interactions)", t0);
  }

  void tcc() {
    add_db("HomeDomain", "Library/TCC/TCC.db", {"access"}, [&](Db& d) {
      d.exec("CREATE TABLE access (service TEXT NOT NULL, client TEXT NOT NULL, client_type INTEGER NOT NULL,"
             " auth_value INTEGER NOT NULL, auth_reason INTEGER NOT NULL, auth_version INTEGER NOT NULL, csreq BLOB,"
             " policy_id INTEGER, indirect_object_identifier_type INTEGER, indirect_object_identifier TEXT NOT NULL"
             " DEFAULT 'UNUSED', indirect_object_code_identity BLOB, flags INTEGER, last_modified INTEGER NOT NULL"
             " DEFAULT (CAST(strftime('%s','now') AS INTEGER)), PRIMARY KEY (service, client, client_type, indirect_object_identifier));");
      Stmt s(d, "INSERT INTO access (service, client, client_type, auth_value, auth_reason, auth_version, last_modified) "
                "VALUES (?,?,0,?,2,1,?)");
      const char* svcs[] = {"kTCCServiceCamera", "kTCCServiceMicrophone", "kTCCServicePhotos", "kTCCServiceAddressBook",
                            "kTCCServiceLocation"};
      for (std::size_t i = 0; i < 200; ++i)
        s.t(svcs[i % 5]).t("com.example.app" + std::to_string(i / 5)).i(i % 3 ? 2 : 0)
            .i(base_time - static_cast<std::int64_t>(i) * 3600).step();
      s.t("kTCCServiceMicrophone").t(kPlantApp).i(2).i(base_time).step();
    });
  }

  void filler_manifest() {
    // Realistic file rows without data files (the Manifest module reads only Manifest.db):
    // app containers, camera roll, caches, WebKit storage with domains in file names.
    auto t0 = std::chrono::steady_clock::now();
    std::size_t n = sc.manifest, plant = n / 3;
    for (std::size_t i = 0; i < n; ++i) {
      std::string domain, rel;
      switch (i % 6) {
        case 0: domain = "CameraRollDomain"; rel = "Media/DCIM/1" + std::to_string(i / 6000 % 100) + "APPLE/IMG_" + std::to_string(i % 10000) + ".HEIC"; break;
        case 1: domain = "AppDomain-com.example.app" + std::to_string(i % 300); rel = "Documents/data/" + rng.hex(12) + ".bin"; break;
        case 2: domain = "AppDomain-com.example.app" + std::to_string(i % 300); rel = "Library/Caches/https_" + kSites[i % kSites.size()] + "_0/" + std::to_string(i) + ".cache"; break;
        case 3: domain = "HomeDomain"; rel = "Library/Mobile Documents/" + sentence(rng, 2) + "/" + rng.hex(10) + ".txt"; break;
        case 4: domain = "MediaDomain"; rel = "Media/PhotoData/Thumbnails/V2/DCIM/" + std::to_string(i) + ".JPG"; break;
        default: domain = "AppDomainGroup-group.com.example.shared" + std::to_string(i % 50); rel = "Library/Preferences/" + rng.hex(8) + ".plist"; break;
      }
      if (i == plant) { domain = "AppDomain-com.example.app7"; rel = std::string("Library/Caches/https_cdn.") + kPlantDomain + "_0/beacon.bin"; }
      int dir = rng.below(10) == 0;
      manifest_row(domain, rel + (dir ? "" : ""), dir ? 2 : 1, dir ? 0 : static_cast<std::int64_t>(rng.below(5'000'000)),
                   base_time - static_cast<std::int64_t>(rng.below(86400 * 400)), dir ? 040755 : 0100644);
    }
    expect("manifest", kPlantDomain);
    progress("Manifest rows (" + std::to_string(n) + ")", t0);
  }

  void run() {
    fs::create_directories(root);
    manifest = std::make_unique<Db>(root / "Manifest.db");
    manifest->exec("CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);"
                   "CREATE INDEX FilesDomainIdx ON Files(domain);CREATE INDEX FilesRelativePathIdx ON Files(relativePath);"
                   "CREATE INDEX FilesFlagsIdx ON Files(flags);"
                   "CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);BEGIN;");
    ins = std::make_unique<Stmt>(*manifest, "INSERT OR REPLACE INTO Files VALUES (?,?,?,?,?)");
    for (const char* dirrel : {"", "Library", "Library/SMS", "Library/Safari", "Library/Preferences"})
      manifest_row("HomeDomain", dirrel, 2, 0, base_time, 040755);
    sms();
    safari();
    datausage();
    whatsapp();
    chrome();
    webkit_observations();
    interaction_c();
    tcc();
    add_plain("HomeDomain", "Library/Preferences/.GlobalPreferences.plist",
              make_plist({{"AppleLocale", "en_US"}, {"LDMGlobalEnabled", false}}, true));
    add_plain("HomeDomain", "Library/Preferences/com.apple.Preferences.plist",
              make_plist({{"AppleLanguages", Json::array({"en-US"})}}, true));
    filler_manifest();
    ins.reset();
    manifest->exec("COMMIT");
    manifest.reset();
    artifacts.push_back((root / "Manifest.db").string());
    tables.push_back((root / "Manifest.db").string() + "\tFiles");
    Json info = {{"Build Version", "21B101"}, {"Device Name", "Bench iPhone"}, {"Display Name", "Bench iPhone"},
                 {"GUID", "0123456789ABCDEF"}, {"Product Type", "iPhone15,2"}, {"Product Version", "17.1.2"},
                 {"Serial Number", "F00000000000"}, {"Target Identifier", "00008120-0000BE0C00000001"},
                 {"Target Type", "Device"}, {"Unique Identifier", "00008120-0000BE0C00000001"},
                 {"Last Backup Date", "date:1700100000"},
                 {"Installed Applications", Json::array({"net.whatsapp.WhatsApp", "com.google.chrome.ios"})}};
    for (int k = 0; k < 500; ++k) info["Installed Applications"].push_back("com.example.app" + std::to_string(k));
    write_file(root / "Info.plist", make_plist(info, false));
    write_file(root / "Manifest.plist",
               make_plist({{"IsEncrypted", false}, {"Version", "10.0"}, {"Lockdown", {{"ProductVersion", "17.1.2"}}}}, false));
    write_file(root / "Status.plist", make_plist({{"IsFullBackup", false}, {"Version", "3.3"}}, false));
    for (auto* f : {"Info.plist", "Manifest.plist", "Status.plist"}) artifacts.push_back((root / f).string());
  }
};

// ---------------------------------------------------------------- androidqf
struct AqfGen {
  fs::path root;
  Rng& rng;
  const Scale& sc;
  Json& expected;
  std::vector<std::string>& artifacts;

  void expect(const std::string& module, const std::string& value) {
    expected.push_back({{"module", module}, {"value", value}, {"min_count", 1}});
  }

  void files_json() {
    auto t0 = std::chrono::steady_clock::now();
    std::size_t n = sc.files_json, plant = n / 2 + 11;
    std::ofstream o(root / "files.json", std::ios::binary);
    o << "[";
    char buf[1024];
    for (std::size_t i = 0; i < n; ++i) {
      std::string path;
      switch (i % 4) {
        case 0: path = "/sdcard/DCIM/Camera/IMG_" + std::to_string(20230000 + i) + ".jpg"; break;
        case 1: path = "/sdcard/Android/data/com.example.app" + std::to_string(i % 400) + "/files/" + rng.hex(10); break;
        case 2: path = "/data/local/tmp/cache" + std::to_string(i); break;
        default: path = "/sdcard/Download/" + sentence(rng, 2) + std::to_string(i) + ".pdf"; break;
      }
      for (auto& c : path) if (c == ' ') c = '_';
      if (i == plant) path = kPlantFilePath;
      long t = 1690000000 + static_cast<long>(rng.below(20000000));
      std::snprintf(buf, sizeof buf,
                    "%s{\"path\":\"%s\",\"size\":%zu,\"mode\":\"-rw-rw----\",\"user_id\":0,\"user_name\":\"\","
                    "\"group_id\":1015,\"group_name\":\"\",\"changed_time\":%ld,\"modified_time\":%ld,"
                    "\"access_time\":%ld,\"error\":\"\",\"context\":\"u:object_r:sdcardfs:s0\",\"sha1\":\"\","
                    "\"sha256\":\"%s\",\"sha512\":\"\",\"md5\":\"\"}",
                    i ? "," : "", path.c_str(), rng.below(10'000'000), t, t + 100, t + 200,
                    (i % 8 == 0) ? rng.hex(64).c_str() : "");
      o << buf;
    }
    o << "]";
    artifacts.push_back((root / "files.json").string());
    expect("aqf_files", kPlantFilePath);
    progress("files.json (" + std::to_string(n) + " entries)", t0);
  }

  void packages() {
    Json list = Json::array();
    for (std::size_t i = 0; i < sc.packages; ++i) {
      std::string name = (i == sc.packages / 2) ? std::string(kPlantApp) : "com.example.app" + std::to_string(i);
      bool sys = i % 3 == 0;
      Json f = {{"path", "/data/app/~~" + rng.hex(8) + "/" + name + "-" + rng.hex(8) + "/base.apk"},
                {"local_name", ""}, {"md5", rng.hex(32)}, {"sha1", rng.hex(40)}, {"sha256", rng.hex(64)},
                {"sha512", rng.hex(128)}, {"error", ""}, {"verified_certificate", true},
                {"certificate", {{"Md5", rng.hex(32)}, {"Sha1", rng.hex(40)}, {"Sha256", rng.hex(64)},
                                 {"ValidFrom", "2010-06-25T23:07:16Z"}, {"ValidTo", "2044-02-15T23:07:16Z"},
                                 {"Issuer", "CN=Example"}, {"Subject", "CN=Example"}, {"SignatureAlgorithm", "SHA256-RSA"},
                                 {"SerialNumber", 1000 + i}}},
                {"certificate_error", ""}, {"trusted_certificate", true}};
      list.push_back({{"name", name}, {"files", Json::array({f})}, {"installer", sys ? "null" : "com.android.vending"},
                      {"uid", 10000 + i}, {"disabled", false}, {"system", sys}, {"third_party", !sys}});
    }
    write_file(root / "packages.json", list.dump(4));
    artifacts.push_back((root / "packages.json").string());
    expect("aqf_packages", kPlantApp);
  }

  void ps() {
    std::string s = "USER           PID  PPID     VSZ    RSS WCHAN            ADDR S NAME\n";
    char buf[256];
    for (std::size_t i = 1; i <= sc.processes; ++i) {
      std::string name = i == sc.processes / 2 ? std::string(kPlantProcess)
                        : i < 50 ? "[kworker/" + std::to_string(i) + ":0]" : "com.example.app" + std::to_string(i);
      std::snprintf(buf, sizeof buf, "%-10s %8zu %5zu %7zu %6zu 0                   0 S %s\n",
                    i < 50 ? "root" : "u0_a100", i, i < 50 ? std::size_t{2} : std::size_t{1}, 57912 + i, 2084 + i,
                    name.c_str());
      s += buf;
    }
    write_file(root / "ps.txt", s);
    artifacts.push_back((root / "ps.txt").string());
    expect("aqf_processes", kPlantProcess);
  }

  static std::string dashes() { return std::string(79, '-'); }

  std::string dumpsys_services(bool big) {
    std::ostringstream o;
    o << dashes() << "\nDUMP OF SERVICE package:\nActivity Resolver Table:\n  Non-Data Actions:\n"
      << "      android.intent.action.MAIN:\n        " << rng.hex(7) << " com.example.app1/.Main filter " << rng.hex(7)
      << "\n\nPackages:\n";
    std::size_t pk = big ? sc.packages : 20;
    for (std::size_t i = 0; i < pk; ++i) {
      std::string name = (i == pk / 2) ? std::string(kPlantApp) : "com.example.app" + std::to_string(i);
      o << "  Package [" << name << "] (" << rng.hex(7) << "):\n    userId=" << 10000 + i
        << "\n    pkg=Package{" << rng.hex(7) << " " << name << "}\n    codePath=/data/app/" << name
        << "-1\n    versionCode=" << i + 1 << " minSdk=26 targetSdk=33\n    versionName=1." << i
        << "\n    timeStamp=2023-11-0" << 1 + i % 9 << " 10:00:00\n    firstInstallTime=2023-10-01 10:00:00\n"
        << "    lastUpdateTime=2023-11-01 10:00:00\n    installerPackageName=com.android.vending\n";
    }
    o << "\n" << dashes() << "\nDUMP OF SERVICE dbinfo:\nApplications Database Info:\n\n"
      << dashes() << "\nDUMP OF SERVICE accessibility:\nACCESSIBILITY MANAGER (dumpsys accessibility)\n\n"
      << dashes() << "\nDUMP OF SERVICE appops:\nCurrent AppOps Service state:\n\n" << dashes() << "\n";
    return o.str();
  }

  void dumpstate_zip() {
    auto t0 = std::chrono::steady_clock::now();
    std::string ds;
    ds.reserve(sc.dumpstate_bytes + (1 << 20));
    ds += "========================================================\n== dumpstate: 2023-11-15 10:00:00\n"
          "========================================================\n\nBuild: UP1A.231005.007\n"
          "Build fingerprint: 'google/bench/bench:14/UP1A.231005.007/1:user/release-keys'\n\n";
    ds += "------ SYSTEM PROPERTIES (getprop) ------\n";
    for (int i = 0; i < 800; ++i) ds += "[ro.bench.prop" + std::to_string(i) + "]: [" + rng.hex(8) + "]\n";
    ds += "[ro.build.version.security_patch]: [2023-10-05]\n------ 0.030s was the duration of 'SYSTEM PROPERTIES' ------\n";
    // A large SYSTEM LOG (most of a real dumpstate's bulk) with logcat-like lines.
    ds += "------ SYSTEM LOG (logcat -v threadtime -v printable -v uid -d *:v) ------\n";
    std::string services = dumpsys_services(true);
    char buf[512];
    std::size_t target = sc.dumpstate_bytes > services.size() ? sc.dumpstate_bytes - services.size() : 0;
    std::size_t line = 0;
    while (ds.size() < target) {
      ++line;
      std::snprintf(buf, sizeof buf, "11-15 10:%02zu:%02zu.%03zu  %5zu  %5zu %5zu %c %-16s: %s\n", line / 60000 % 60,
                    line / 1000 % 60, line % 1000, 1000 + rng.below(9000), 1000 + rng.below(9000),
                    1000 + rng.below(9000), "VDIWE"[rng.below(5)], kWords[rng.below(kWords.size())].c_str(),
                    sentence(rng, 6 + rng.below(10)).c_str());
      ds += buf;
      if (line % 50000 == 0) {  // service sections interleaved every so often, as dumpsys does
        ds += dashes() + "\nDUMP OF SERVICE bench_filler" + std::to_string(line) + ":\n" + sentence(rng, 40) + "\n";
      }
    }
    ds += "------ 1.234s was the duration of 'SYSTEM LOG' ------\n";
    ds += services;
    auto zpath = root / "bugreport.zip";
    fs::remove(zpath);
    int ze = 0;
    zip_t* z = zip_open(zpath.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &ze);
    if (!z) throw std::runtime_error("zip_open");
    const std::string entry = "bugreport-bench-UP1A-2023-11-15-10-00-00.txt";
    static std::string main_entry, version = "2.0";
    main_entry = entry;
    auto add = [&](const std::string& name, const std::string& data) {
      zip_source_t* s = zip_source_buffer(z, data.data(), data.size(), 0);
      zip_int64_t idx = zip_file_add(z, name.c_str(), s, ZIP_FL_OVERWRITE);
      if (idx < 0) throw std::runtime_error("zip_file_add");
      zip_set_file_compression(z, static_cast<zip_uint64_t>(idx), ZIP_CM_DEFLATE, 1);
    };
    add("main_entry.txt", main_entry);
    add("version.txt", version);
    add(entry, ds);
    if (zip_close(z) != 0) throw std::runtime_error("zip_close");
    artifacts.push_back(zpath.string());
    progress("bugreport.zip (" + std::to_string(ds.size() >> 20) + " MB dumpstate)", t0);
  }

  void run() {
    fs::create_directories(root);
    files_json();
    packages();
    ps();
    std::string gp;
    for (int i = 0; i < 400; ++i) gp += "[ro.bench.prop" + std::to_string(i) + "]: [" + rng.hex(8) + "]\n";
    gp += "[ro.build.version.release]: [14]\n[ro.build.version.security_patch]: [2023-10-05]\n"
          "[ro.product.model]: [Bench Phone]\n[ro.product.brand]: [google]\n";
    write_file(root / "getprop.txt", gp);
    artifacts.push_back((root / "getprop.txt").string());
    for (const char* ns : {"system", "secure", "global"}) {
      std::string s;
      for (int i = 0; i < 150; ++i) s += std::string(ns) + "_key" + std::to_string(i) + "=" + std::to_string(i % 7) + "\n";
      s += "package_verifier_enable=1\n";
      write_file(root / (std::string("settings_") + ns + ".txt"), s);
      artifacts.push_back((root / (std::string("settings_") + ns + ".txt")).string());
    }
    write_file(root / "dumpsys.txt", dumpsys_services(false));
    artifacts.push_back((root / "dumpsys.txt").string());
    dumpstate_zip();
  }
};

std::string stix_bundle() {
  Json objs = Json::array();
  objs.push_back({{"type", "malware"}, {"spec_version", "2.1"}, {"id", "malware--b0000000-0000-4000-8000-000000000001"},
                  {"created", "2026-01-01T00:00:00.000Z"}, {"modified", "2026-01-01T00:00:00.000Z"},
                  {"name", "BenchSpyware"}, {"description", "Fictional spyware planted by bridle-gen."},
                  {"is_family", false}});
  std::vector<std::string> patterns = {
      std::string("[domain-name:value = '") + kPlantDomain + "']",
      std::string("[domain-name:value = '") + kPlantSafariDomain + "']",
      std::string("[process:name = '") + kPlantProcess + "']",
      std::string("[app:id = '") + kPlantApp + "']",
      std::string("[file:path = '") + kPlantFilePath + "']",
      std::string("[email-addr:value = '") + kPlantEmail + "']",
  };
  int k = 0;
  for (auto& p : patterns) {
    char id[64], rid[80];
    std::snprintf(id, sizeof id, "indicator--b0000000-0000-4000-8000-0000000001%02d", k);
    std::snprintf(rid, sizeof rid, "relationship--b0000000-0000-4000-8000-0000000002%02d", k);
    ++k;
    objs.push_back({{"type", "indicator"}, {"spec_version", "2.1"}, {"id", id}, {"created", "2026-01-01T00:00:00.000Z"},
                    {"modified", "2026-01-01T00:00:00.000Z"}, {"indicator_types", Json::array({"malicious-activity"})},
                    {"pattern", p}, {"pattern_type", "stix"}, {"valid_from", "2026-01-01T00:00:00Z"}});
    objs.push_back({{"type", "relationship"}, {"spec_version", "2.1"}, {"id", rid}, {"created", "2026-01-01T00:00:00.000Z"},
                    {"modified", "2026-01-01T00:00:00.000Z"}, {"relationship_type", "indicates"}, {"source_ref", id},
                    {"target_ref", "malware--b0000000-0000-4000-8000-000000000001"}});
  }
  return Json{{"type", "bundle"}, {"id", "bundle--b0000000-0000-4000-8000-000000000000"}, {"objects", objs}}.dump(2);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  std::string scale = "small", only = "ios,androidqf";
  bool ios_fs = false, ios_encrypted = false;
  fs::path out;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--seed") seed = std::stoull(val());
    else if (a == "--scale") scale = val();
    else if (a == "--only") only = val();
    else if (a == "--ios-fs") ios_fs = true;
    else if (a == "--ios-encrypted") ios_encrypted = true;
    else if (a == "-h" || a == "--help") {
      std::cout << "usage: bridle-gen [--seed N] [--scale tiny|small|large] [--only ios,androidqf] [--ios-fs] [--ios-encrypted] OUT_DIR\n";
      return 0;
    } else if (out.empty()) out = a;
    else { std::cerr << "unexpected argument " << a << "\n"; return 2; }
  }
  if (out.empty()) { std::cerr << "usage: bridle-gen [--seed N] [--scale tiny|small|large] [--only ios,androidqf] [--ios-fs] [--ios-encrypted] OUT_DIR\n"; return 2; }
  try {
    Scale sc = scale_of(scale);
    fs::create_directories(out);
    auto t0 = std::chrono::steady_clock::now();
    Json expected = {{"seed", seed}, {"scale", scale}, {"ios_backup", Json::array()}, {"androidqf", Json::array()}};
    auto want = [&](const char* w) { return ("," + only + ",").find(std::string(",") + w + ",") != std::string::npos; };
    if (want("ios")) {
      std::vector<std::string> arts, tables;
      Rng rng(seed * 0x9E3779B97F4A7C15ULL + 1);
      fs::remove_all(out / "ios_backup");
      IosGen g{out / "ios_backup" / "00008120-0000BE0C00000001", rng, sc, expected["ios_backup"], arts, tables, nullptr, nullptr, {}, nullptr, 1700000000};
      std::unique_ptr<EncryptedTwin> twin;
      if (ios_encrypted) {
        auto tt = std::chrono::steady_clock::now();
        twin = std::make_unique<EncryptedTwin>(out / "ios_backup_encrypted" / "00008120-0000BE0C00000001",
                                               seed * 0x9E3779B97F4A7C15ULL + 3);
        progress("encrypted backup keybag (PBKDF2)", tt);
        g.twin = twin.get();
      }
      g.run();
      if (twin) {
        auto tt = std::chrono::steady_clock::now();
        twin->finish(g.root);
        expected["ios_backup_encrypted_password"] = kBenchPassword;
        progress("encrypted backup Manifest", tt);
      }
      std::ofstream a(out / "ios_backup_artifacts.txt");
      for (auto& s : arts) a << "file\t" << s << "\n";
      for (auto& s : tables) a << "table\t" << s << "\n";
      if (ios_fs) {
        std::vector<std::string> fs_arts;
        g.write_fs_dump(out / "ios_fs", out / "ios_fs.tar.gz", fs_arts);
        // The floor of a dump: the same files and tables (hard links of the backup's files).
        std::ofstream f(out / "ios_fs_artifacts.txt");
        for (auto& s : fs_arts) f << "file\t" << s << "\n";
        for (auto& s : tables) f << "table\t" << s << "\n";
        // A dump has no Manifest.db: every planted alert but the Manifest one is expected.
        expected["ios_fs"] = Json::array();
        for (auto& e : expected["ios_backup"])
          if (e["module"] != "manifest") expected["ios_fs"].push_back(e);
      }
    }
    if (want("androidqf")) {
      std::vector<std::string> arts;
      Rng rng(seed * 0x9E3779B97F4A7C15ULL + 2);
      fs::remove_all(out / "androidqf");
      AqfGen g{out / "androidqf", rng, sc, expected["androidqf"], arts};
      g.run();
      std::ofstream a(out / "androidqf_artifacts.txt");
      for (auto& s : arts) a << "file\t" << s << "\n";
    }
    write_file(out / "planted.stix2", stix_bundle());
    write_file(out / "expected.json", expected.dump(2) + "\n");
    progress("total (" + scale + ", seed " + std::to_string(seed) + ")", t0);
  } catch (const std::exception& e) {
    std::cerr << "bridle-gen: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

// Encrypted databases read in place: ios::open_cbc_reader (random-access AES-256-CBC, zero IV,
// PKCS#7) and SqliteDb::open_image (the read-only "bridle-image" VFS). Databases are built
// from SQL text, encrypted here with OpenSSL, and every row read through the VFS is compared
// with the plain database; reads crossing block, chunk and page boundaries and at EOF are
// compared with the plaintext; malformed files fail with a message naming the file.
#include <openssl/evp.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>
#include <set>
#include <thread>

#include "acquisition/ios_crypto.hpp"
#include "core/util.hpp"
#include "formats/sqlite.hpp"
#include "support/support.hpp"

using namespace bridle;
using bridle::test::encrypt_cbc;
using bridle::test::Scratch;
using bridle::test::make_sqlite;
using bridle::test::slurp;
using bridle::test::write_file;

namespace {

const std::string kKey = std::string("0123456789abcdef0123456789ABCDEF");
const std::string kOtherKey = std::string("fedcba9876543210FEDCBA9876543210");

std::string pseudo_random(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// Every row of every table, as JSON text, in rowid order.
std::vector<std::string> dump(SqliteDb& db) {
  std::vector<std::string> tables, out;
  EXPECT_TRUE(db.query("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name", [&](const SqliteRow& r) {
    tables.push_back(r.text(0));
    return true;
  }));
  for (const auto& t : tables) {
    out.push_back("table " + t);
    SqliteError e;
    bool ok = db.query("SELECT * FROM \"" + t + "\" ORDER BY rowid", [&](const SqliteRow& r) {
      Json row = Json::array();
      for (int i = 0; i < r.columns(); ++i) row.push_back(r.value(i, true));
      out.push_back(row.dump());
      return true;
    }, &e);
    EXPECT_TRUE(ok) << t << ": " << e.message;
  }
  return out;
}

// A database with several tables, overflow pages (large blobs/text) and an index.
std::string sample_sql(int rows, int page_size) {
  std::string sql = "PRAGMA page_size=" + std::to_string(page_size) + ";\n" +
                    "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, date INTEGER, "
                    "service TEXT, data BLOB, score REAL);\n"
                    "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT UNIQUE);\n"
                    "CREATE INDEX message_date ON message(date);\nBEGIN;\n";
  for (int i = 0; i < 50; ++i)
    sql += "INSERT INTO handle VALUES (" + std::to_string(i + 1) + ", '+4179" + std::to_string(1000000 + i) + "');\n";
  for (int i = 0; i < rows; ++i) {
    std::string n = std::to_string(i);
    sql += "INSERT INTO message VALUES (NULL, 'guid-" + n + "', 'text ' || hex(randomblob(" +
           std::to_string(i % 97) + ")) || ' https://example' || " + n + " || '.org/p', " +
           std::to_string(600000000 + i * 37) + ", 'iMessage', " +
           (i % 50 == 0 ? "zeroblob(" + std::to_string(3000 + i) + ")" : "randomblob(" + std::to_string(i % 40) + ")") +
           ", " + std::to_string(i) + ".25);\n";
  }
  sql += "COMMIT;\n";
  return sql;
}

struct Encrypted {
  std::string plain;
  fs::path enc;
};

Encrypted encrypted_db(const Scratch& d, const std::string& name, const std::string& sql) {
  make_sqlite(d / (name + ".db"), sql);
  Encrypted e;
  e.plain = slurp(d / (name + ".db"));
  e.enc = d / (name + ".enc");
  write_file(e.enc, encrypt_cbc(kKey, e.plain));
  return e;
}

std::unique_ptr<SqliteDb> open_enc(const fs::path& p, std::string* why = nullptr,
                                   std::optional<std::uint64_t> expected = std::nullopt) {
  std::string err;
  ios::CbcReaderOptions opt;
  opt.expected_size = expected;
  auto r = ios::open_cbc_reader(kKey, p, opt, &err);
  if (!r) {
    if (why) *why = err;
    return nullptr;
  }
  SqliteError se;
  auto db = SqliteDb::open_image(std::move(r), p.filename().string(), &se);
  if (!db && why) *why = se.message;
  return db;
}

std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> s;
  for (auto& e : fs::directory_iterator(dir)) s.insert(e.path().filename().string());
  return s;
}

}  // namespace

TEST(CbcImage, EveryRowEqualsThePlainDatabase) {
  Scratch d;
  for (int page : {512, 4096, 65536}) {
    SCOPED_TRACE("page size " + std::to_string(page));
    auto e = encrypted_db(d, "p" + std::to_string(page), sample_sql(3000, page));
    ASSERT_GT(e.plain.size(), 4 * ios::kCbcChunk);
    auto plain = SqliteDb::open(d / ("p" + std::to_string(page) + ".db"), nullptr);
    ASSERT_TRUE(plain);
    std::string why;
    auto img = open_enc(e.enc, &why);
    ASSERT_TRUE(img) << why;
    auto a = dump(*plain), b = dump(*img);
    EXPECT_EQ(a.size(), b.size());
    EXPECT_TRUE(a == b);
    // An index walk (random page order) and a sort spilling past a tiny cache agree too.
    for (const char* q : {"SELECT ROWID, date FROM message WHERE date BETWEEN 600010000 AND 600050000 ORDER BY date DESC",
                          "SELECT guid, length(data) FROM message ORDER BY text, guid"}) {
      std::vector<std::string> ra, rb;
      plain->query(q, [&](const SqliteRow& r) { ra.push_back(r.text(0) + "|" + r.text(1)); return true; });
      ASSERT_TRUE(img->query("PRAGMA cache_size=8", [](const SqliteRow&) { return true; }));
      img->query(q, [&](const SqliteRow& r) { rb.push_back(r.text(0) + "|" + r.text(1)); return true; });
      EXPECT_FALSE(ra.empty());
      EXPECT_TRUE(ra == rb) << q;
    }
    EXPECT_EQ(img->quick_check(), "ok");
  }
}

TEST(CbcImage, ReadsAtAnyOffsetMatchThePlaintext) {
  Scratch d;
  const std::size_t K = ios::kCbcChunk;
  for (std::size_t size : {std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17}, std::size_t{31},
                           K - 1, K, K + 1, K + 16, 3 * K + 5, 11 * K + 16}) {
    SCOPED_TRACE("size " + std::to_string(size));
    std::string plain = pseudo_random(size, static_cast<unsigned>(size));
    write_file(d / "f.enc", encrypt_cbc(kKey, plain));
    std::string err;
    auto r = ios::open_cbc_reader(kKey, d / "f.enc", {}, &err);
    ASSERT_TRUE(r) << err;
    ASSERT_EQ(r->size(), size);
    // Whole file, then reads crossing 16-byte blocks and chunk boundaries, backwards (cache
    // evictions), and ending exactly at EOF.
    std::string all(size, '\0');
    ASSERT_TRUE(r->read(0, all.data(), size, &err)) << err;
    EXPECT_TRUE(all == plain);
    std::vector<std::pair<std::size_t, std::size_t>> probes;
    for (std::size_t b : {std::size_t{0}, std::size_t{15}, std::size_t{16}, K - 16, K - 1, K, K + 15, 2 * K - 3, 5 * K + 7})
      for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{16}, std::size_t{17}, std::size_t{4096}, K + 33})
        if (b < size) probes.push_back({b, std::min(n, size - b)});
    probes.push_back({size - 1, 1});
    probes.push_back({size > 100 ? size - 100 : 0, size > 100 ? 100 : size});
    std::mt19937 rng(7);
    for (int i = 0; i < 200; ++i) {
      std::size_t off = rng() % size;
      probes.push_back({off, 1 + rng() % std::min<std::size_t>(size - off, 3 * K)});
    }
    for (auto it = probes.rbegin(); it != probes.rend(); ++it) {
      auto [off, n] = *it;
      std::string got(n, '\0');
      ASSERT_TRUE(r->read(off, got.data(), n, &err)) << err;
      ASSERT_TRUE(got == plain.substr(off, n)) << "offset " << off << " length " << n;
    }
    // Past the end: refused, buffer untouched, never an over-read.
    char buf[32];
    EXPECT_FALSE(r->read(size, buf, 1, &err));
    EXPECT_NE(err.find("past the end"), std::string::npos) << err;
    EXPECT_FALSE(r->read(size - 1, buf, 2, &err));
    EXPECT_FALSE(r->read(UINT64_MAX - 1, buf, 8, &err));
    EXPECT_TRUE(r->read(size, buf, 0, &err));
  }
}

TEST(CbcImage, UnpaddedManifestStyleKeepsEveryByte) {
  Scratch d;
  auto plain = pseudo_random(2 * ios::kCbcChunk, 3);
  write_file(d / "m.enc", encrypt_cbc(kKey, plain, /*pad=*/false));
  ios::CbcReaderOptions opt;
  opt.strip_padding = false;
  std::string err;
  auto r = ios::open_cbc_reader(kKey, d / "m.enc", opt, &err);
  ASSERT_TRUE(r) << err;
  ASSERT_EQ(r->size(), plain.size());
  std::string got(plain.size(), '\0');
  ASSERT_TRUE(r->read(0, got.data(), got.size(), &err));
  EXPECT_TRUE(got == plain);
}

TEST(CbcImage, MalformedFilesFailWithTheFileName) {
  Scratch d;
  std::string plain = pseudo_random(5000, 11);
  std::string ct = encrypt_cbc(kKey, plain);
  auto check = [&](const std::string& name, const std::string& bytes, const std::string& expect,
                   std::optional<std::uint64_t> expected_size = std::nullopt,
                   std::string_view key = kKey) {
    SCOPED_TRACE(name);
    write_file(d / name, bytes);
    ios::CbcReaderOptions opt;
    opt.expected_size = expected_size;
    std::string err;
    auto r = ios::open_cbc_reader(key, d / name, opt, &err);
    EXPECT_FALSE(r);
    EXPECT_NE(err.find(name), std::string::npos) << err;
    EXPECT_NE(err.find(expect), std::string::npos) << err;
  };
  check("odd-length", ct.substr(0, ct.size() - 5), "not a multiple of 16");
  check("empty", "", "no PKCS#7 padding");
  // Truncated by whole blocks: the new last block is not padding.
  check("truncated", ct.substr(0, ct.size() - 16), "invalid PKCS#7 padding");
  // Not padded at all (last plaintext byte 0x00 is no valid pad).
  std::string unpadded = plain.substr(0, 4992);
  unpadded.back() = '\0';
  check("unpadded", encrypt_cbc(kKey, unpadded, false), "invalid PKCS#7 padding");
  // Pad bytes that disagree: flip a bit of the second-to-last ciphertext block, which flips
  // the same bit of the last plaintext block (CBC) only.
  {
    std::string bad = ct;
    bad[bad.size() - 17 - 1] ^= 0x01;  // plaintext byte size-2 of the last block
    check("bad-padding", bad, "invalid PKCS#7 padding");
  }
  check("wrong-key", ct, "invalid PKCS#7 padding", std::nullopt, kOtherKey);
  check("size-mismatch", ct, "MBFile Size", plain.size() + 1);
  check("size-mismatch-short", ct, "5000", 4096);
  // A symlink is never followed; a folder is no file.
  write_file(d / "real", ct);
  fs::create_symlink(d / "real", d / "link");
  std::string err;
  EXPECT_FALSE(ios::open_cbc_reader(kKey, d / "link", {}, &err));
  EXPECT_NE(err.find("link"), std::string::npos) << err;
  fs::create_directory(d / "dir");
  EXPECT_FALSE(ios::open_cbc_reader(kKey, d / "dir", {}, &err));
  EXPECT_FALSE(ios::open_cbc_reader(kKey, d / "absent", {}, &err));
  EXPECT_NE(err.find("absent"), std::string::npos) << err;
  EXPECT_FALSE(ios::open_cbc_reader("short key", d / "real", {}, &err));
  // The right size is accepted.
  ios::CbcReaderOptions right;
  right.expected_size = 5000;
  EXPECT_TRUE(ios::open_cbc_reader(kKey, d / "real", right, &err)) << err;
}

TEST(CbcImage, FileTruncatedAfterOpenFailsTheQueryWithoutCrashing) {
  Scratch d;
  auto e = encrypted_db(d, "t", sample_sql(2000, 4096));
  std::string why;
  auto db = open_enc(e.enc, &why);
  ASSERT_TRUE(db) << why;
  // Shrink the evidence file under the open connection (a hostile or changing file).
  ASSERT_EQ(::truncate(e.enc.c_str(), 8192), 0);
  SqliteError se;
  std::size_t rows = 0;
  bool ok = db->query("SELECT * FROM message", [&](const SqliteRow&) { ++rows; return true; }, &se);
  EXPECT_FALSE(ok);
  EXPECT_NE(se.message.find("t.enc"), std::string::npos) << se.message;
  EXPECT_NE(se.message.find("shorter than when it was opened"), std::string::npos) << se.message;
}

TEST(CbcImage, GarbageThatDecryptsWithValidPaddingIsNotADatabase) {
  Scratch d;
  std::string junk = pseudo_random(20000, 5);
  write_file(d / "junk.enc", encrypt_cbc(kKey, junk));
  std::string why;
  EXPECT_FALSE(open_enc(d / "junk.enc", &why));
  EXPECT_NE(why.find("junk.enc"), std::string::npos) << why;
  // A valid header over damaged pages: opening may work, queries fail cleanly.
  auto e = encrypted_db(d, "dmg", sample_sql(1500, 4096));
  std::string damaged = e.plain;
  for (std::size_t i = 8192; i < damaged.size(); i += 4096) damaged[i] = static_cast<char>(0xff);
  write_file(d / "dmg2.enc", encrypt_cbc(kKey, damaged));
  auto db = open_enc(d / "dmg2.enc", &why);
  if (db) {
    SqliteError se;
    bool ok = db->query("SELECT * FROM message", [](const SqliteRow&) { return true; }, &se);
    EXPECT_FALSE(ok);
    EXPECT_TRUE(se.corrupt) << se.message;
  }
}

TEST(CbcImage, ReadOnlyNothingCreatedNoWal) {
  Scratch d;
  // A database last written in WAL mode (header bytes 18/19 == 2), checkpointed.
  make_sqlite(d / "w.db", "PRAGMA journal_mode=WAL; CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 'x'), (2, 'y');");
  std::string plain = slurp(d / "w.db");
  ASSERT_EQ(plain[18], 2);
  ASSERT_EQ(plain[19], 2);
  fs::create_directory(d / "ev");
  write_file(d / "ev" / "w.enc", encrypt_cbc(kKey, plain));
  fs::permissions(d / "ev" / "w.enc", fs::perms::owner_read);
  auto before = listing(d / "ev");
  std::string ct_before = slurp(d / "ev" / "w.enc");
  std::string why;
  auto db = open_enc(d / "ev" / "w.enc", &why);
  ASSERT_TRUE(db) << why;
  std::vector<std::string> rows;
  ASSERT_TRUE(db->query("SELECT a, b FROM t ORDER BY a", [&](const SqliteRow& r) {
    rows.push_back(r.text(0) + r.text(1));
    return true;
  }));
  EXPECT_EQ(rows, (std::vector<std::string>{"1x", "2y"}));
  // Writes of any kind are refused; journal mode cannot become WAL.
  sqlite3* h = db->handle();
  EXPECT_NE(sqlite3_exec(h, "CREATE TABLE u(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(h, "INSERT INTO t VALUES (3, 'z')", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(h, "DELETE FROM t", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_exec(h, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
  std::string mode;
  db->query("PRAGMA journal_mode", [&](const SqliteRow& r) {
    mode = r.text(0);
    return false;
  });
  EXPECT_NE(mode, "wal");
  EXPECT_EQ(sqlite3_db_readonly(h, "main"), 1);
  rows.clear();
  db->query("SELECT count(*) FROM t", [&](const SqliteRow& r) {
    rows.push_back(r.text(0));
    return false;
  });
  EXPECT_EQ(rows, (std::vector<std::string>{"2"}));
  db.reset();
  EXPECT_EQ(listing(d / "ev"), before);
  EXPECT_TRUE(slurp(d / "ev" / "w.enc") == ct_before);
}

TEST(CbcImage, ConcurrentConnectionsEachWithTheirOwnReader) {
  Scratch d;
  auto e = encrypted_db(d, "c", sample_sql(2000, 4096));
  auto plain = SqliteDb::open(d / "c.db", nullptr);
  ASSERT_TRUE(plain);
  const auto expect = dump(*plain);
  std::vector<std::thread> ts;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      auto db = open_enc(e.enc);
      if (db && dump(*db) == expect) ++good;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(good.load(), 4);
}

namespace {
// Contents of this process's open, deleted SQLite temporary files (sorter spills).
std::vector<std::string> open_sqlite_temp_files() {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = fs::read_symlink(e.path(), ec).string();
    if (ec || target.find("etilqs_") == std::string::npos) continue;
    out.push_back(slurp(e.path()));
  }
  return out;
}
}  // namespace

TEST(CbcImage, SortSpillsReachTheDiskEncrypted) {
  Scratch d;
  std::string sql = "CREATE TABLE t (a TEXT);\nBEGIN;\n";
  for (int i = 0; i < 30000; ++i)
    sql += "INSERT INTO t VALUES ('SECRETMARKER-" + std::to_string(i * 7919 % 30000) + "-' || hex(randomblob(60)));\n";
  sql += "COMMIT;\n";
  auto e = encrypted_db(d, "s", sql);
  auto probe = [](SqliteDb& db, std::size_t* files, bool* marker, std::size_t* rows) {
    *files = 0;
    *marker = false;
    *rows = 0;
    ASSERT_TRUE(db.query("PRAGMA cache_size=8", [](const SqliteRow&) { return true; }));
    std::string prev;
    bool sorted = true;
    ASSERT_TRUE(db.query("SELECT a FROM t ORDER BY a DESC", [&](const SqliteRow& r) {
      if (*rows == 0) {
        auto temps = open_sqlite_temp_files();
        *files = temps.size();
        for (auto& t : temps) *marker = *marker || t.find("SECRETMARKER") != std::string::npos;
      }
      std::string a = r.text(0);
      if (!prev.empty() && a > prev) sorted = false;
      prev = a;
      ++*rows;
      return true;
    }));
    EXPECT_TRUE(sorted);
  };
  std::size_t files = 0, rows = 0;
  bool marker = false;
  // Control: a plain database's spill holds the rows in clear (so the probe sees spills).
  auto plain = SqliteDb::open(d / "s.db", nullptr);
  ASSERT_TRUE(plain);
  probe(*plain, &files, &marker, &rows);
  EXPECT_EQ(rows, 30000u);
  ASSERT_GT(files, 0u) << "the sort did not spill: the test proves nothing";
  EXPECT_TRUE(marker);
  // Through the image VFS: spills exist, encrypted.
  std::string why;
  auto img = open_enc(e.enc, &why);
  ASSERT_TRUE(img) << why;
  probe(*img, &files, &marker, &rows);
  EXPECT_EQ(rows, 30000u);
  EXPECT_GT(files, 0u);
  EXPECT_FALSE(marker) << "plaintext rows in a temporary file";
}

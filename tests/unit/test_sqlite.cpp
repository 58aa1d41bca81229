// SqliteDb: read-only, evidence-preserving access; WAL application on a private copy;
// conversions; hostile inputs; recovery through the sqlite3 tool.
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>

#include "core/util.hpp"
#include "formats/sqlite.hpp"
#include "support/support.hpp"

namespace bridle {
namespace {

namespace fs = std::filesystem;
using test::Scratch;

std::int64_t count_rows(SqliteDb& db, const std::string& sql) {
  std::int64_t n = -1;
  SqliteError e;
  EXPECT_TRUE(db.query(sql, [&](const SqliteRow& r) {
    n = r.integer(0);
    return true;
  }, &e)) << e.message;
  return n;
}

bool has_sidecars(const fs::path& dir) {
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    auto name = e.path().filename().string();
    for (const char* suf : {"-shm", "-wal", "-journal"})
      if (name.size() > std::strlen(suf) && name.ends_with(suf)) return true;
  }
  return false;
}

void evidence_untouched(bool read_only_dir) {
  Scratch s;
  fs::path dir = s / "evidence";
  test::make_sqlite(dir / "sms.db",
                    "CREATE TABLE message(ROWID INTEGER PRIMARY KEY, text TEXT);"
                    "INSERT INTO message(text) VALUES ('hello'), ('world');");
  if (read_only_dir) {
    fs::permissions(dir / "sms.db", fs::perms::owner_read | fs::perms::group_read);
    fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  }
  auto before = test::tree_hashes(dir);
  {
    SqliteError err;
    auto db = SqliteDb::open(dir / "sms.db", &err);
    ASSERT_TRUE(db) << err.message;
    EXPECT_FALSE(db->wal_applied());
    EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM message"), 2);
    EXPECT_EQ(db->quick_check(), "ok");
    // While open, nothing may appear next to the evidence either.
    EXPECT_FALSE(has_sidecars(dir));
  }
  EXPECT_EQ(test::tree_hashes(dir), before);
  EXPECT_FALSE(has_sidecars(dir));
}

TEST(Sqlite, ImmutableOpenLeavesWritableTreeByteIdentical) { evidence_untouched(false); }
TEST(Sqlite, ImmutableOpenLeavesReadOnlyTreeByteIdentical) { evidence_untouched(true); }

// Builds db + -wal (+ -shm) in `fixture` whose newest rows live only in the WAL.
void make_wal_fixture(const fs::path& fixture, bool with_shm) {
  Scratch live;
  fs::path db_path = live / "live.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "PRAGMA journal_mode=WAL;"
                         "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);"
                         "INSERT INTO t(v) VALUES ('checkpointed');"
                         "PRAGMA wal_checkpoint(TRUNCATE);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_wal_autocheckpoint(db, 0);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO t(v) VALUES ('wal1'), ('wal2'), ('wal3');", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  fs::create_directories(fixture);
  fs::copy_file(db_path, fixture / "data.db");
  fs::copy_file(live / "live.db-wal", fixture / "data.db-wal");
  if (with_shm) fs::copy_file(live / "live.db-shm", fixture / "data.db-shm");
  sqlite3_close(db);
  ASSERT_GT(fs::file_size(fixture / "data.db-wal"), 0u);
}

void wal_is_applied(bool with_shm, bool read_only_dir) {
  Scratch s;
  fs::path fixture = s / "fixture";
  make_wal_fixture(fixture, with_shm);
  if (read_only_dir) fs::permissions(fixture, fs::perms::owner_read | fs::perms::owner_exec);
  auto before = test::tree_hashes(fixture);
  {
    SqliteError err;
    auto db = SqliteDb::open(fixture / "data.db", &err);
    ASSERT_TRUE(db) << err.message;
    EXPECT_TRUE(db->wal_applied());
    EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM t"), 4);
    std::vector<std::string> vals;
    db->query("SELECT v FROM t ORDER BY id", [&](const SqliteRow& r) {
      vals.push_back(r.text(0));
      return true;
    });
    EXPECT_EQ(vals, (std::vector<std::string>{"checkpointed", "wal1", "wal2", "wal3"}));
    EXPECT_EQ(test::tree_hashes(fixture), before);
  }
  EXPECT_EQ(test::tree_hashes(fixture), before);
  // Without the WAL (simulated by the immutable path) only the checkpointed row exists:
  // proves the rows above really came from the -wal.
  Scratch s2;
  fs::copy_file(fixture / "data.db", s2 / "data.db");
  auto plain = SqliteDb::open(s2 / "data.db", nullptr);
  ASSERT_TRUE(plain);
  EXPECT_EQ(count_rows(*plain, "SELECT count(*) FROM t"), 1);
}

TEST(Sqlite, WalRowsAreReadAndFixtureUnchanged) { wal_is_applied(true, false); }
TEST(Sqlite, WalWithoutShmInReadOnlyFolder) { wal_is_applied(false, true); }

TEST(Sqlite, NotADatabaseIsReportedCorrupt) {
  Scratch s;
  std::string junk;
  for (int i = 0; i < 8192; ++i) junk += static_cast<char>((i * 37 + 11) & 0xff);
  test::write_file(s / "junk.db", junk);
  auto before = test::tree_hashes(s.path());
  SqliteError err;
  auto db = SqliteDb::open(s / "junk.db", &err);
  EXPECT_FALSE(db);
  EXPECT_TRUE(err.corrupt);
  EXPECT_FALSE(err.message.empty());
  EXPECT_EQ(test::tree_hashes(s.path()), before);

  test::write_file(s / "text.db", "SQLite format 3\0 but not really, just some text that is long");
  err = {};
  EXPECT_FALSE(SqliteDb::open(s / "text.db", &err));
  EXPECT_TRUE(err.corrupt) << err.message;
}

TEST(Sqlite, MissingFileAndDirectoryAreNotCorrupt) {
  Scratch s;
  SqliteError err;
  EXPECT_FALSE(SqliteDb::open(s / "absent.db", &err));
  EXPECT_FALSE(err.corrupt);
  EXPECT_FALSE(err.message.empty());
  EXPECT_FALSE(SqliteDb::open(s.path(), &err));
  EXPECT_FALSE(err.corrupt);
  EXPECT_FALSE(fs::exists(s / "absent.db"));
}

TEST(Sqlite, AwkwardPathsAreUriEscaped) {
  Scratch s;
  fs::path dir = s / "a dir %20 ?x #frag & ü";
  fs::path file = dir / "my db?mode=rw#.sqlite";
  test::make_sqlite(file, "CREATE TABLE t(x); INSERT INTO t VALUES (42);");
  auto before = test::tree_hashes(s.path());
  SqliteError err;
  auto db = SqliteDb::open(file, &err);
  ASSERT_TRUE(db) << err.message;
  EXPECT_EQ(count_rows(*db, "SELECT x FROM t"), 42);
  db.reset();
  EXPECT_EQ(test::tree_hashes(s.path()), before);
  EXPECT_EQ(sqlite_file_uri("/a b/%/?#/é", "mode=ro"), "file:///a%20b/%25/%3F%23/%C3%A9?mode=ro");
  EXPECT_EQ(sqlite_file_uri("//net/x", ""), "file:////net/x");
}

TEST(Sqlite, ParametersAreBoundAsText) {
  Scratch s;
  test::make_sqlite(s / "p.db",
                    "CREATE TABLE f(domain TEXT, path TEXT);"
                    "INSERT INTO f VALUES ('HomeDomain','Library/SMS/sms.db'),"
                    "('HomeDomain','Library/x''; DROP TABLE f; --'),('AppDomain','a');");
  auto db = SqliteDb::open(s / "p.db", nullptr);
  ASSERT_TRUE(db);
  std::vector<std::string> got;
  SqliteError err;
  ASSERT_TRUE(db->query("SELECT path FROM f WHERE domain = ? AND path LIKE ? ORDER BY path",
                        {"HomeDomain", "Library/%"}, [&](const SqliteRow& r) {
                          got.push_back(r.text(r.index("path")));
                          return true;
                        }, &err)) << err.message;
  EXPECT_EQ(got, (std::vector<std::string>{"Library/SMS/sms.db", "Library/x'; DROP TABLE f; --"}));
  got.clear();
  ASSERT_TRUE(db->query("SELECT path FROM f WHERE path = ?1", {"Library/x'; DROP TABLE f; --"},
                        [&](const SqliteRow& r) {
                          got.push_back(r.text(0));
                          return true;
                        }));
  EXPECT_EQ(got.size(), 1u);
  // Stopping early.
  int calls = 0;
  EXPECT_TRUE(db->query("SELECT * FROM f", [&](const SqliteRow&) { return ++calls < 2; }));
  EXPECT_EQ(calls, 2);
  // Errors are reported, not thrown.
  EXPECT_FALSE(db->query("SELECT nope FROM f", [](const SqliteRow&) { return true; }, &err));
  EXPECT_FALSE(err.corrupt);
  EXPECT_NE(err.message.find("nope"), std::string::npos);
  // More parameters than placeholders is an error.
  EXPECT_FALSE(db->query("SELECT ?1", {"a", "b"}, [](const SqliteRow&) { return true; }, &err));
  // The database is read-only.
  EXPECT_FALSE(db->query("DELETE FROM f", [](const SqliteRow&) { return true; }, &err));
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM f"), 3);
  // A throwing callback becomes an error.
  EXPECT_FALSE(db->query("SELECT * FROM f", [](const SqliteRow&) -> bool {
    throw std::runtime_error("boom");
  }, &err));
  EXPECT_NE(err.message.find("boom"), std::string::npos);
}

TEST(Sqlite, ValueConversionsLikePythonSqlite3) {
  Scratch s;
  test::make_sqlite(s / "v.db",
                    "CREATE TABLE v(i INTEGER, r REAL, t TEXT, b BLOB, n);"
                    "INSERT INTO v VALUES (-9007199254740993, 1.5, 'héllo', x'00ff41e282ac', NULL);"
                    "INSERT INTO v VALUES (9223372036854775807, -0.25, CAST(x'61ff62' AS TEXT), x'', NULL);");
  auto db = SqliteDb::open(s / "v.db", nullptr);
  ASSERT_TRUE(db);
  std::vector<Json> rows;
  std::vector<Json> rows_b64;
  ASSERT_TRUE(db->query("SELECT i, r, t, b, n FROM v ORDER BY rowid", [&](const SqliteRow& r) {
    Json a = Json::array(), b = Json::array();
    for (int i = 0; i < r.columns(); ++i) {
      a.push_back(r.value(i));
      b.push_back(r.value(i, true));
    }
    rows.push_back(a);
    rows_b64.push_back(b);
    EXPECT_EQ(r.type(0), SQLITE_INTEGER);
    EXPECT_TRUE(r.is_null(4));
    EXPECT_EQ(r.name(3), "b");
    EXPECT_EQ(r.index("B"), 3);
    EXPECT_EQ(r.index("zz"), -1);
    return true;
  }));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].get<std::int64_t>(), -9007199254740993LL);
  EXPECT_TRUE(rows[0][1].is_number_float());
  EXPECT_EQ(rows[0][1].get<double>(), 1.5);
  EXPECT_EQ(rows[0][2], "héllo");
  EXPECT_EQ(rows[0][3], std::string(1, '\0') + "\\xffA€");  // NUL is valid UTF-8 (as in Python)
  EXPECT_EQ(rows_b64[0][3], "AP9B4oKs");
  EXPECT_TRUE(rows[0][4].is_null());
  EXPECT_EQ(rows[1][0].get<std::int64_t>(), INT64_MAX);
  EXPECT_EQ(rows[1][2], "a\\xffb");  // TEXT that is not UTF-8
  EXPECT_EQ(rows[1][3], "");
  EXPECT_EQ(rows_b64[1][3], "");
  // Serialisable (no invalid UTF-8 reaches the JSON writer).
  EXPECT_NO_THROW((void)Json(rows).dump());
}

TEST(Sqlite, SchemaHelpers) {
  Scratch s;
  test::make_sqlite(s / "h.db",
                    "CREATE TABLE ZPROCESS(Z_PK INTEGER PRIMARY KEY, ZPROCNAME TEXT, \"odd \"\"col\" INT);"
                    "CREATE VIEW vw AS SELECT * FROM ZPROCESS;");
  auto db = SqliteDb::open(s / "h.db", nullptr);
  ASSERT_TRUE(db);
  EXPECT_TRUE(db->has_table("ZPROCESS"));
  EXPECT_TRUE(db->has_table("zprocess"));
  EXPECT_TRUE(db->has_table("vw"));
  EXPECT_FALSE(db->has_table("ZLIVEUSAGE"));
  EXPECT_FALSE(db->has_table("x' OR '1'='1"));
  EXPECT_EQ(db->columns("ZPROCESS"), (std::vector<std::string>{"Z_PK", "ZPROCNAME", "odd \"col"}));
  EXPECT_TRUE(db->columns("missing").empty());
  EXPECT_EQ(db->quick_check(), "ok");
}

TEST(Sqlite, NestedQueriesInsideCallbacks) {
  Scratch s;
  test::make_sqlite(s / "n.db",
                    "CREATE TABLE a(id INTEGER); INSERT INTO a VALUES (1),(2),(3);"
                    "CREATE TABLE b(a_id INTEGER, v TEXT); INSERT INTO b VALUES (1,'x'),(3,'y'),(3,'z');");
  auto db = SqliteDb::open(s / "n.db", nullptr);
  ASSERT_TRUE(db);
  std::vector<std::string> out;
  ASSERT_TRUE(db->query("SELECT id FROM a ORDER BY id", [&](const SqliteRow& r) {
    std::string id = r.text(0);
    db->query("SELECT v FROM b WHERE a_id = ? ORDER BY v", {id}, [&](const SqliteRow& r2) {
      out.push_back(id + r2.text(0));
      return true;
    });
    return true;
  }));
  EXPECT_EQ(out, (std::vector<std::string>{"1x", "3y", "3z"}));
}

TEST(Sqlite, RunawayQueryIsInterrupted) {
  Scratch s;
  test::make_sqlite(s / "slow.db", "CREATE TABLE t(x);");
  SqliteOptions opts;
  opts.query_timeout = std::chrono::milliseconds(300);
  auto db = SqliteDb::open(s / "slow.db", opts, nullptr);
  ASSERT_TRUE(db);
  auto t0 = std::chrono::steady_clock::now();
  SqliteError err;
  bool ok = db->query(
      "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT max(i) FROM c",
      [](const SqliteRow&) { return true; }, &err);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(ok);
  EXPECT_NE(err.message.find("timed out"), std::string::npos) << err.message;
  EXPECT_LT(took, std::chrono::seconds(10));
  // The handle stays usable, and the budget is per query.
  EXPECT_EQ(count_rows(*db, "SELECT count(*) FROM t"), 0);
  db->set_query_timeout(std::chrono::milliseconds(0));
  EXPECT_EQ(count_rows(*db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c "
                            "WHERE i < 1000) SELECT count(*) FROM c"),
            1000);
}

TEST(Sqlite, CorruptDatabaseIsRecoveredFromACopy) {
  Scratch s;
  fs::path good = s / "good.db";
  {
    std::string sql = "CREATE TABLE t(id INTEGER PRIMARY KEY, txt TEXT);BEGIN;";
    for (int i = 1; i <= 2000; ++i) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "INSERT INTO t VALUES (%d, 'row%05d", i, i);
      sql += buf + std::string(100, 'x') + "');";
    }
    sql += "COMMIT;";
    test::make_sqlite(good, sql);
  }
  // Overwrite a leaf page in the middle of the table in a copy.
  fs::path bad = s / "evidence" / "bad.db";
  fs::create_directories(bad.parent_path());
  std::string bytes = test::slurp(good);
  ASSERT_GT(bytes.size(), 20u * 4096u);
  std::fill(bytes.begin() + 9 * 4096, bytes.begin() + 10 * 4096, '\xff');
  test::write_file(bad, bytes);
  auto before = test::tree_hashes(bad.parent_path());

  SqliteError err;
  auto db = SqliteDb::open(bad, &err);
  ASSERT_TRUE(db) << err.message;  // sqlite_master itself is intact
  EXPECT_FALSE(db->query("SELECT count(*) FROM t", [](const SqliteRow&) { return true; }, &err));
  EXPECT_TRUE(err.corrupt) << err.message;
  EXPECT_NE(db->quick_check(), "ok");
  db.reset();

  TempDir tmp("bridle-test-recover");
  std::string why;
  auto recovered = sqlite_recover_copy(bad, tmp, &why);
  if (!recovered && why.find("not installed") != std::string::npos)
    GTEST_SKIP() << "sqlite3 command-line tool not available: " << why;
  ASSERT_TRUE(recovered) << why;
  EXPECT_EQ(recovered->parent_path().parent_path(), tmp.path());
  auto rdb = SqliteDb::open(*recovered, &err);
  ASSERT_TRUE(rdb) << err.message;
  std::int64_t n = count_rows(*rdb, "SELECT count(*) FROM t");
  EXPECT_GE(n, 1500);
  EXPECT_LT(n, 2000);
  std::string first, last;
  rdb->query("SELECT txt FROM t WHERE id = 1", [&](const SqliteRow& r) {
    first = r.text(0);
    return true;
  });
  rdb->query("SELECT txt FROM t WHERE id = 2000", [&](const SqliteRow& r) {
    last = r.text(0);
    return true;
  });
  EXPECT_EQ(first, "row00001" + std::string(100, 'x'));
  EXPECT_EQ(last, "row02000" + std::string(100, 'x'));
  EXPECT_EQ(rdb->quick_check(), "ok");
  // The evidence is untouched and nothing was written next to it.
  EXPECT_EQ(test::tree_hashes(bad.parent_path()), before);
}

TEST(Sqlite, RecoveryOfGarbageFailsCleanly) {
  Scratch s;
  test::write_file(s / "junk.db", std::string(4096, '\x42'));
  TempDir tmp("bridle-test-recover");
  std::string why;
  auto r = sqlite_recover_copy(s / "junk.db", tmp, &why);
  if (r) {
    // Whatever came back must be a readable (possibly empty) database.
    auto db = SqliteDb::open(*r, nullptr);
    EXPECT_TRUE(db);
  } else {
    EXPECT_FALSE(why.empty());
  }
  std::string why2;
  EXPECT_FALSE(sqlite_recover_copy(s / "absent.db", tmp, &why2));
  EXPECT_FALSE(why2.empty());
}

}  // namespace
}  // namespace bridle

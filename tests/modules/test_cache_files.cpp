// CacheFiles: every Cache.db in the dump, grouped by path, URL indicators.
#include <gtest/gtest.h>

#include "support/fs_dump.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kSql =
    "CREATE TABLE cfurl_cache_response (entry_ID INTEGER PRIMARY KEY, version INTEGER, hash_value INTEGER,"
    " storage_policy INTEGER, request_key TEXT, time_stamp TEXT, partition TEXT);"
    "INSERT INTO cfurl_cache_response VALUES (1, 0, 42, 0, 'http://evil.example.com/x', '2021-01-01 10:00:00', NULL);"
    "INSERT INTO cfurl_cache_response VALUES (2, 0, 43, 0, 'https://benign.example.net/', '2021-01-01 10:00:01', NULL);";

TEST(CacheFiles, GroupedRecordsAndUrlMatch) {
  Scratch d;
  make_sqlite(d / "dump/private/var/mobile/Library/Caches/com.a/Cache.db", kSql);
  make_sqlite(d / "dump/private/var/mobile/Containers/Data/Application/X/Library/Caches/com.b/Cache.db", kSql);
  write_file(d / "dump/private/var/mobile/Library/Caches/com.c/NotCache.db", "x");
  auto src = open_fs(d / "dump");
  auto run = run_fs_module(*src, d, "CacheFiles", "cache_files", stix_bundle({"[domain-name:value='evil.example.com']"}));
  ASSERT_TRUE(run.doc.is_object());
  ASSERT_EQ(run.doc.size(), 2u);
  auto& g = run.doc["private/var/mobile/Library/Caches/com.a/Cache.db"];
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0]["entry_id"], 1);
  EXPECT_EQ(g[0]["url"], "http://evil.example.com/x");
  EXPECT_EQ(g[0]["isodate"], "2021-01-01 10:00:00");
  EXPECT_EQ(g[0]["cache_file"], "private/var/mobile/Library/Caches/com.a/Cache.db");
  auto crit = run.alerts(Level::Critical);
  ASSERT_EQ(crit.size(), 2u);
  EXPECT_EQ(crit[0]->event_time, "2021-01-01 10:00:00");
  for (auto* a : crit) EXPECT_TRUE(run.doc.contains(a->event["cache_file"].get<std::string>()));
}

TEST(CacheFiles, DamagedDatabaseIsReported) {
  Scratch d;
  write_file(d / "dump/private/var/mobile/Library/Caches/com.a/Cache.db", std::string(4096, 'Z'));
  auto src = open_fs(d / "dump");
  auto run = run_fs_module(*src, d, "CacheFiles", "cache_files");
  EXPECT_TRUE(run.result.partial());
}

}  // namespace

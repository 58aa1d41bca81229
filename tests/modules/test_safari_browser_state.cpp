// SafariBrowserState: tabs, session history blobs, schema variants, indicator matches.
#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "core/util.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/backup_builder.hpp"
#include "support/module_runner.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kStix = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"Spy"},
 {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='evil-c2.example.com']","pattern_type":"stix"},
 {"type":"indicator","id":"indicator--2","pattern":"[domain-name:value='redirector.example.net']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"},
 {"type":"relationship","id":"relationship--2","source_ref":"indicator--2","target_ref":"malware--1"}]})";

const char* kModernSchema =
    "CREATE TABLE tabs (id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT NOT NULL UNIQUE, title TEXT,"
    " url TEXT, user_visible_url TEXT, order_index INTEGER NOT NULL DEFAULT 0, last_viewed_time REAL,"
    " browser_window_uuid TEXT, browser_window_id INTEGER);"
    "CREATE TABLE tab_sessions (id INTEGER PRIMARY KEY AUTOINCREMENT, tab_uuid TEXT NOT NULL UNIQUE,"
    " session_data BLOB, uncompressed_session_data_size INTEGER NOT NULL DEFAULT 0);";

std::string session_blob() {
  Json pl = {{"SessionHistory",
              {{"SessionHistoryCurrentIndex", 1},
               {"SessionHistoryEntries",
                Json::array({{{"SessionHistoryEntryOriginalURL", "http://news.example.org/"},
                              {"SessionHistoryEntryTitle", "News"},
                              {"SessionHistoryEntryURL", "https://news.example.org/"},
                              {"SessionHistoryEntryData", {{"$data", base64_encode(std::string(10, 'z'))}}}},
                             {{"SessionHistoryEntryOriginalURL", "https://redirector.example.net/r"},
                              {"SessionHistoryEntryTitle", "Landing"},
                              {"SessionHistoryEntryURL", "https://evil-c2.example.com/landing"}}})}}},
             {"SessionHistoryVersion", 1}};
  return std::string("\x00\x00\x00\x02", 4) + make_plist(pl, true);
}

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

TEST(SafariBrowserState, TabsWithSessionHistory) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite("HomeDomain", "Library/Safari/BrowserState.db",
               std::string(kModernSchema) +
                   "INSERT INTO tabs VALUES (1, 'U1', 'NSO is bad', 'https://en.wikipedia.org/wiki/NSO_Group',"
                   " 'https://en.wikipedia.org/wiki/NSO_Group', 0, 654598606.156382, 'W', 1);"
                   "INSERT INTO tabs VALUES (2, 'U2', 'Landing', 'https://www.example.com/',"
                   " 'https://www.example.com/', 1, 654598700.0, 'W', 1);"
                   "INSERT INTO tabs VALUES (3, 'U3', 'No session row', 'https://evil-c2.example.com.example.org/',"
                   " 'https://x/', 2, 654598800.0, 'W', 1);"
                   "INSERT INTO tab_sessions VALUES (1, 'U1', NULL, 0);"
                   "INSERT INTO tab_sessions VALUES (2, 'U2', X'" + hex(session_blob()) + "', 0);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "SafariBrowserState", kStix);
  ASSERT_EQ(r.records.size(), 3u);
  const Json& t1 = r.records[0];
  std::vector<std::string> keys;
  for (auto& [k, v] : t1.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"tab_title", "tab_url", "tab_visible_url", "last_viewed_timestamp",
                                            "session_data", "safari_browser_state_db"}));
  EXPECT_EQ(t1["last_viewed_timestamp"], "2021-09-29 08:56:46.156382");
  EXPECT_EQ(t1["session_data"], Json::array());
  std::string id = IosBackupSource::file_id("HomeDomain", "Library/Safari/BrowserState.db");
  EXPECT_EQ(t1["safari_browser_state_db"], id.substr(0, 2) + "/" + id);

  const Json& t2 = r.records[1];
  ASSERT_EQ(t2["session_data"].size(), 2u);
  EXPECT_EQ(t2["session_data"][0]["entry_title"], "http://news.example.org/");
  EXPECT_EQ(t2["session_data"][0]["entry_url"], "https://news.example.org/");
  EXPECT_EQ(t2["session_data"][0]["data_length"], 10);
  EXPECT_EQ(t2["session_data"][1]["data_length"], 0);

  // Tab 2: entry_url (evil-c2) and the original URL (redirector) match; tab 3's look-alike
  // host does not.
  std::set<std::string> matched;
  for (auto& a : r.result.alerts) {
    ASSERT_TRUE(a.matched);
    EXPECT_EQ(a.level, Level::Critical);
    EXPECT_EQ(a.event["tab_title"], "Landing");
    matched.insert(a.matched->value);
  }
  EXPECT_EQ(matched, (std::set<std::string>{"evil-c2.example.com", "redirector.example.net"}));

  bool found = false;
  for (auto& t : r.result.timeline)
    if (t.plugin == "SafariBrowserState" && t.event == "tab" &&
        t.description == "NSO is bad - https://en.wikipedia.org/wiki/NSO_Group") {
      found = true;
      EXPECT_EQ(t.timestamp, "2021-09-29 08:56:46.156382");
    }
  EXPECT_TRUE(found);
  EXPECT_FALSE(r.result.partial());
}

TEST(SafariBrowserState, LegacySchemaAndProfiles) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  // iOS < 12: no tab_sessions, the blob is in tabs.
  b.add_sqlite("HomeDomain", "Library/Safari/BrowserState.db",
               "CREATE TABLE tabs (id INTEGER PRIMARY KEY, title TEXT, url TEXT, user_visible_url TEXT,"
               " last_viewed_time REAL, session_data BLOB);"
               "INSERT INTO tabs VALUES (1, 'Old', 'https://old.example/', 'https://old.example/', 500000000.0, X'" +
                   hex(session_blob()) + "');");
  b.add_sqlite("AppDomain-com.apple.mobilesafari", "Library/Safari/Profiles/P1/BrowserState.db",
               std::string(kModernSchema) +
                   "INSERT INTO tabs VALUES (1, 'U1', 'Work', 'https://work.example/', 'https://work.example/', 0,"
                   " 600000000.0, 'W', 1);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "SafariBrowserState", kStix);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0]["session_data"].size(), 2u);
  EXPECT_EQ(r.records[1]["tab_title"], "Work");
  EXPECT_EQ(r.records[1]["session_data"], Json::array());
  EXPECT_FALSE(r.result.partial());
}

TEST(SafariBrowserState, BadSessionBlobIsReportedNotFatal) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite("HomeDomain", "Library/Safari/BrowserState.db",
               std::string(kModernSchema) +
                   "INSERT INTO tabs VALUES (1, 'U1', 'T', 'https://a.example/', 'https://a.example/', 0, 600000000.0, 'W', 1);"
                   "INSERT INTO tab_sessions VALUES (1, 'U1', X'0000000062706c6973743030ffff', 0);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "SafariBrowserState", kStix);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0]["session_data"], Json::array());
  EXPECT_TRUE(r.result.partial());
}

TEST(SafariBrowserState, DatabaseWithoutTabsIsUnreadable) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite("HomeDomain", "Library/Safari/BrowserState.db", "CREATE TABLE x (a);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "SafariBrowserState", kStix);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.partial());
}

}  // namespace

// SafariHistory: records, indicator matches, the fast cross-domain redirect heuristic.
#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/backup_builder.hpp"
#include "support/module_runner.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kStix = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"Pegasus"},
 {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='free247downloads.com']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"}]})";

const char* kSchema =
    "CREATE TABLE history_items (id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, visit_count INTEGER);"
    "CREATE TABLE history_visits (id INTEGER PRIMARY KEY, history_item INTEGER NOT NULL, visit_time REAL NOT NULL,"
    " title TEXT, load_successful BOOLEAN DEFAULT 1, redirect_source INTEGER, redirect_destination INTEGER);";

std::vector<const Alert*> heuristic_alerts(const ScanResult& r) {
  std::vector<const Alert*> out;
  for (auto& a : r.alerts)
    if (!a.matched) out.push_back(&a);
  return out;
}

TEST(SafariHistory, RecordsAndInjectionHeuristic) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  // Visit 1: http://yahoo.fr redirected in 3 ms to the Pegasus URL (visit 2).
  // Visit 3: http://example.com -> https://example.com (same domain, not flagged).
  // Visit 5: http://news.example.org -> https://other.example.net 1.5 s later (not flagged).
  // Visit 7: https://bank.example -> https://login.example.net fast (not http://, not flagged).
  b.add_sqlite("HomeDomain", "Library/Safari/History.db",
               std::string(kSchema) +
                   "INSERT INTO history_items VALUES (1, 'http://yahoo.fr/', 1),"
                   " (2, 'https://bun54l2b67.get1tn0w.free247downloads.com:30495/szev4hz', 1),"
                   " (3, 'http://example.com/', 1), (4, 'https://www.example.com/', 1),"
                   " (5, 'http://news.example.org/', 1), (6, 'https://other.example.net/', 1),"
                   " (7, 'https://bank.example/', 1), (8, 'https://login.example.net/', 1);"
                   "INSERT INTO history_visits VALUES (1, 1, 600000000.5, 'y', 1, NULL, 2),"
                   " (2, 2, 600000000.503, 'p', 1, 1, NULL),"
                   " (3, 3, 600000100.0, 'e', 1, NULL, 4), (4, 4, 600000100.2, 'e', 1, 3, NULL),"
                   " (5, 5, 600000200.0, 'n', 1, NULL, 6), (6, 6, 600000201.5, 'o', 1, 5, NULL),"
                   " (7, 7, 600000300.0, 'b', 1, NULL, 8), (8, 8, 600000300.1, 'l', 1, 7, NULL);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "SafariHistory", kStix);

  ASSERT_EQ(r.records.size(), 8u);
  const Json& first = r.records[0];
  std::vector<std::string> keys;
  for (auto& [k, v] : first.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "url", "visit_id", "timestamp", "isodate", "redirect_source",
                                            "redirect_destination", "safari_history_db"}));
  EXPECT_EQ(first["url"], "http://yahoo.fr/");
  EXPECT_EQ(first["timestamp"], 600000000.5);
  EXPECT_EQ(first["isodate"], "2020-01-06 10:40:00.500000");
  EXPECT_EQ(first["redirect_destination"], 2);
  EXPECT_TRUE(first["redirect_source"].is_null());
  std::string id = IosBackupSource::file_id("HomeDomain", "Library/Safari/History.db");
  EXPECT_EQ(first["safari_history_db"], id.substr(0, 2) + "/" + id);

  auto h = heuristic_alerts(r.result);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0]->level, Level::Medium);
  EXPECT_EQ(h[0]->message.rfind("Redirect took less than a second! (0.003s)", 0), 0u) << h[0]->message;
  EXPECT_NE(h[0]->message.find("http://yahoo.fr/"), std::string::npos);
  EXPECT_NE(h[0]->message.find("free247downloads.com:30495/szev4hz"), std::string::npos);
  EXPECT_EQ(h[0]->event_time, "2020-01-06 10:40:00.500000");

  // The Pegasus URL matches the domain indicator (CRITICAL); nothing else does.
  std::size_t ioc = 0;
  for (auto& a : r.result.alerts)
    if (a.matched) {
      ++ioc;
      EXPECT_EQ(a.level, Level::Critical);
      EXPECT_EQ(a.event["visit_id"], 2);
    }
  EXPECT_EQ(ioc, 1u);

  // Timeline rows.
  bool found = false;
  for (auto& t : r.result.timeline)
    if (t.plugin == "SafariHistory" && t.event == "safari_history" &&
        t.description == "Safari visit to http://yahoo.fr/ (ID: 1, Visit ID: 1)") {
      found = true;
      EXPECT_EQ(t.timestamp, "2020-01-06 10:40:00.500000");
    }
  EXPECT_TRUE(found);
}

TEST(SafariHistory, VisitIdsAreScopedPerDatabaseAndProfilesAreRead) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  // Default history: visit 1 (http://a.example) points to visit 2, which in THIS db is
  // on the same domain 5 s later. The profile db has a visit 2 on another domain 0.1 s
  // after: it must not be paired with the default db's visit 1.
  b.add_sqlite("AppDomain-com.apple.mobilesafari", "Library/Safari/History.db",
               std::string(kSchema) +
                   "INSERT INTO history_items VALUES (1, 'http://a.example/', 1), (2, 'https://a.example/x', 1);"
                   "INSERT INTO history_visits VALUES (1, 1, 600000000.0, '', 1, NULL, 2),"
                   " (2, 2, 600000005.0, '', 1, 1, NULL);");
  b.add_sqlite("AppDomain-com.apple.mobilesafari", "Library/Safari/Profiles/ABCD-1234/History.db",
               std::string(kSchema) +
                   "INSERT INTO history_items VALUES (10, 'https://b.example.net/', 1);"
                   "INSERT INTO history_visits VALUES (2, 10, 600000000.1, '', 1, NULL, NULL);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "SafariHistory", kStix);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_TRUE(heuristic_alerts(r.result).empty());
  std::set<std::string> dbs;
  for (auto& rec : r.records) dbs.insert(rec["safari_history_db"].get<std::string>());
  EXPECT_EQ(dbs.size(), 2u);
}

TEST(SafariHistory, OldSchemaWithoutRedirectColumns) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite("HomeDomain", "Library/Safari/History.db",
               "CREATE TABLE history_items (id INTEGER PRIMARY KEY, url TEXT);"
               "CREATE TABLE history_visits (id INTEGER PRIMARY KEY, history_item INTEGER, visit_time REAL);"
               "INSERT INTO history_items VALUES (1, 'https://www.free247downloads.com/');"
               "INSERT INTO history_visits VALUES (1, 1, 600000000.0);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "SafariHistory", kStix);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_TRUE(r.records[0]["redirect_destination"].is_null());
  EXPECT_EQ(r.result.alerts.size(), 1u);
  EXPECT_FALSE(r.result.partial());
}

TEST(SafariHistory, LookAlikeDomainDoesNotMatch) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite("HomeDomain", "Library/Safari/History.db",
               std::string(kSchema) +
                   "INSERT INTO history_items VALUES (1, 'https://free247downloads.com.example.org/', 1),"
                   " (2, 'https://notfree247downloads.com/', 1);"
                   "INSERT INTO history_visits VALUES (1, 1, 600000000.0, '', 1, NULL, NULL),"
                   " (2, 2, 600000001.0, '', 1, NULL, NULL);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "SafariHistory", kStix);
  EXPECT_EQ(r.records.size(), 2u);
  EXPECT_TRUE(r.result.alerts.empty());
}

TEST(SafariHistory, DamagedOrForeignDatabaseIsUnreadable) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_file("HomeDomain", "Library/Safari/History.db", std::string(4096, 'x'));
  b.add_sqlite("HomeDomain", "Library/Safari/Profiles/P1/History.db", "CREATE TABLE other (a);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "SafariHistory", kStix);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.partial());
  EXPECT_EQ(r.result.exit_code(), 3);
}

TEST(SafariHistory, MissingDatabaseIsNotAProblem) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_manifest_only("HomeDomain", "Library/Safari", 2);
  b.finish();
  auto r = run_ios_module(dir / "backup", "SafariHistory", kStix);
  EXPECT_TRUE(r.records.empty());
  EXPECT_FALSE(r.result.partial());
}

}  // namespace

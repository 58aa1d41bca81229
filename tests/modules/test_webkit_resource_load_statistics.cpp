// WebkitResourceLoadStatistics: per-app observations.db, probed columns, indicator matches.
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
 {"type":"malware","id":"malware--1","name":"Spy"},
 {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='evil-c2.example.com']","pattern_type":"stix"},
 {"type":"indicator","id":"indicator--2","pattern":"[domain-name:value='tracker.example']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"},
 {"type":"relationship","id":"relationship--2","source_ref":"indicator--2","target_ref":"malware--1"}]})";

constexpr const char* kRel = "Library/WebKit/WebsiteData/ResourceLoadStatistics/observations.db";

std::vector<std::string> keys_of(const Json& j) {
  std::vector<std::string> k;
  for (auto& [key, v] : j.items()) k.push_back(key);
  return k;
}

TEST(WebkitResourceLoadStatistics, RecordsAcrossAppsWithProbedColumns) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  // Modern schema with both optional time columns.
  b.add_sqlite("AppDomain-com.google.chrome.ios", kRel,
               "CREATE TABLE ObservedDomains (domainID INTEGER PRIMARY KEY, registrableDomain TEXT NOT NULL,"
               " lastSeen REAL NOT NULL, hadUserInteraction INTEGER NOT NULL, mostRecentUserInteractionTime REAL NOT NULL,"
               " grandfathered INTEGER, mostRecentWebPushInteractionTime REAL);"
               "INSERT INTO ObservedDomains VALUES (1, 'google.com', 1634560250.0, 1, 1634560030.76862, 0, -1.0);"
               "INSERT INTO ObservedDomains VALUES (2, 'evil-c2.example.com', 1634560030.0, 0, -1.0, 0, 1634560031.5);");
  // Old schema: no optional columns.
  b.add_sqlite("AppDomain-com.example.app", kRel,
               "CREATE TABLE ObservedDomains (domainID INTEGER PRIMARY KEY, registrableDomain TEXT NOT NULL,"
               " lastSeen REAL NOT NULL, hadUserInteraction INTEGER NOT NULL);"
               "INSERT INTO ObservedDomains VALUES (7, 'tracker.example.org', 1600000000.0, 0);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "WebkitResourceLoadStatistics", kStix);
  ASSERT_EQ(r.records.size(), 3u);
  // Records come in (domain, relativePath) order of the Manifest.
  const Json& old = r.records[0];
  EXPECT_EQ(keys_of(old), (std::vector<std::string>{"domain_id", "registrable_domain", "last_seen",
                                                    "had_user_interaction", "last_seen_isodate", "domain", "path"}));
  EXPECT_EQ(old["domain"], "AppDomain-com.example.app");
  EXPECT_EQ(old["path"], kRel);

  const Json& g = r.records[1];
  EXPECT_EQ(keys_of(g), (std::vector<std::string>{"domain_id", "registrable_domain", "last_seen", "had_user_interaction",
                                                  "last_seen_isodate", "domain", "path",
                                                  "most_recent_user_interaction_time",
                                                  "most_recent_user_interaction_time_isodate",
                                                  "most_recent_web_push_interaction_time"}));
  EXPECT_EQ(g["last_seen"], 1634560250.0);
  EXPECT_EQ(g["had_user_interaction"], true);
  EXPECT_EQ(g["last_seen_isodate"], "2021-10-18 12:30:50.000000");
  EXPECT_EQ(g["most_recent_user_interaction_time_isodate"], "2021-10-18 12:27:10.768620");
  const Json& e = r.records[2];
  EXPECT_FALSE(e.contains("most_recent_user_interaction_time_isodate"));
  EXPECT_EQ(e["most_recent_web_push_interaction_time_isodate"], "2021-10-18 12:27:11.500000");

  // Only the exact indicator domain matches (tracker.example.org is not tracker.example).
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].event["registrable_domain"], "evil-c2.example.com");
  EXPECT_EQ(r.result.alerts[0].level, Level::Critical);

  bool found = false;
  for (auto& t : r.result.timeline)
    if (t.plugin == "WebkitResourceLoadStatistics" && t.event == "visit" && t.timestamp == "2021-10-18 12:30:50.000000" &&
        t.description == "Webkit resource loaded from google.com by app in domain AppDomain-com.google.chrome.ios")
      found = true;
  EXPECT_TRUE(found);
  EXPECT_FALSE(r.result.partial());
}

TEST(WebkitResourceLoadStatistics, MissingTableIsUnreadable) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite("AppDomain-com.example.app", kRel, "CREATE TABLE OperatingDates (year INTEGER);");
  b.add_file("AppDomain-com.example.other", kRel, "not a database at all, just some bytes..........");
  b.finish();
  auto r = run_ios_module(dir / "backup", "WebkitResourceLoadStatistics", kStix);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.partial());
}

}  // namespace

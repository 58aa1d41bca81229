// FirefoxHistory: visits x history (microsecond dates), the i1000000s_local key, indicators.
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

const char* kBrowserDb =
    "CREATE TABLE history (id INTEGER PRIMARY KEY, guid TEXT, url TEXT, title TEXT);"
    "CREATE TABLE visits (id INTEGER PRIMARY KEY, siteID INTEGER, date REAL, type INTEGER, is_local TINYINT);"
    "CREATE TABLE favicons (id INTEGER PRIMARY KEY, url TEXT, width INTEGER, height INTEGER, type INTEGER,"
    " date REAL);"
    "CREATE TABLE favicon_sites (id INTEGER PRIMARY KEY, siteID INTEGER, faviconID INTEGER);"
    "INSERT INTO history VALUES (1, 'g1', 'https://example.com/', 'Example');"
    "INSERT INTO history VALUES (2, 'g2', 'https://a.evil.org/p', NULL);"
    "INSERT INTO visits VALUES (1, 1, 1585526400123456, 1, 1);"
    "INSERT INTO visits VALUES (2, 2, 1585526401000000, 2, 0);"
    "INSERT INTO favicons VALUES (5, 'https://example.com/f.ico', 16, 16, 1, 1585526402);"
    "INSERT INTO favicon_sites VALUES (1, 2, 5);";

TEST(FirefoxHistory, VisitsAndIndicators) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("AppDomainGroup-group.org.mozilla.ios.Firefox", "profile.profile/browser.db", kBrowserDb);
  b.finish();
  auto stix = stix_with("[domain-name:value='evil.org']");
  auto r = run_ios_module(b.root(), "FirefoxHistory", stix);
  ASSERT_EQ(r.records.size(), 2u);
  // A REAL date divides to a float and keeps its fraction (INTEGER dates give whole seconds).
  EXPECT_EQ(r.records[0]["isodate"], "2020-03-30 00:00:00.123456");
  EXPECT_EQ(r.records[0]["i1000000s_local"], 1);
  EXPECT_EQ(r.records[1]["url"], "https://a.evil.org/p");
  EXPECT_TRUE(r.records[1]["title"].is_null());
  std::vector<std::string> keys;
  for (auto& [k, v] : r.records[0].items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"id", "isodate", "url", "title", "i1000000s_local", "type"}));
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_TRUE(has_timeline_row(r.result, "2020-03-30 00:00:01.000000", "firefox_history",
                               "Firefox visit with ID 2 to URL: https://a.evil.org/p"));
}

}  // namespace

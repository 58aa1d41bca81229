// ChromeFavicon: favicon records (last update, else last request), sorted by date, URL indicators.
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

TEST(ChromeFavicon, RecordsSortedAndIndicators) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("AppDomain-com.google.chrome.ios", "Library/Application Support/Google/Chrome/Default/Favicons",
               "CREATE TABLE icon_mapping (id INTEGER PRIMARY KEY, page_url LONGVARCHAR, icon_id INTEGER);"
               "CREATE TABLE favicons (id INTEGER PRIMARY KEY, url LONGVARCHAR, icon_type INTEGER);"
               "CREATE TABLE favicon_bitmaps (id INTEGER PRIMARY KEY, icon_id INTEGER, last_updated INTEGER,"
               " last_requested INTEGER);"
               "INSERT INTO icon_mapping VALUES (1, 'https://example.com/', 1);"
               "INSERT INTO icon_mapping VALUES (2, 'https://news.example.net/', 2);"
               "INSERT INTO favicons VALUES (1, 'https://example.com/favicon.ico', 1);"
               "INSERT INTO favicons VALUES (2, 'https://cdn.evil.org/i.png', 1);"
               "INSERT INTO favicon_bitmaps VALUES (1, 1, 13230000005000000, 0);"
               "INSERT INTO favicon_bitmaps VALUES (2, 2, 0, 13230000000000000);");
  b.finish();
  auto stix = stix_with("[domain-name:value='evil.org']");
  auto r = run_ios_module(b.root(), "ChromeFavicon", stix);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"url": "https://news.example.net/", "icon_url": "https://cdn.evil.org/i.png",
      "timestamp": 13230000000000000, "isodate": "2020-03-30 00:00:00.000000"})"));
  EXPECT_EQ(r.records[1]["isodate"], "2020-03-30 00:00:05.000000");
  ASSERT_EQ(r.result.alerts.size(), 1u);  // the icon URL
  EXPECT_EQ(r.result.alerts[0].event["url"], "https://news.example.net/");
  EXPECT_TRUE(has_timeline_row(r.result, "2020-03-30 00:00:00.000000", "new_favicon",
                               "https://cdn.evil.org/i.png from https://news.example.net/"));
}

}  // namespace

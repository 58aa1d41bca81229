// ChromeHistory: urls x visits records, Chrome time, URL indicators, timeline.
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

const char* kHistory =
    "CREATE TABLE urls (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR);"
    "CREATE TABLE visits (id INTEGER PRIMARY KEY, url INTEGER NOT NULL, visit_time INTEGER NOT NULL,"
    " from_visit INTEGER);"
    "INSERT INTO urls VALUES (1, 'https://example.com/', 'Example');"
    "INSERT INTO urls VALUES (2, 'https://bad.evil.org/x', 'Bad');"
    "INSERT INTO visits VALUES (10, 2, 13230000001000000, 11);"
    "INSERT INTO visits VALUES (11, 1, 13230000000000000, 0);";

TEST(ChromeHistory, VisitsIndicatorsTimeline) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("AppDomain-com.google.chrome.ios", "Library/Application Support/Google/Chrome/Default/History",
               kHistory);
  b.finish();
  auto stix = stix_with("[domain-name:value='evil.org']");
  auto r = run_ios_module(b.root(), "ChromeHistory", stix);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"id": 1, "url": "https://example.com/", "visit_id": 11,
      "timestamp": 13230000000000000, "isodate": "2020-03-30 00:00:00.000000", "redirect_source": 0})"));
  EXPECT_EQ(r.records[1]["isodate"], "2020-03-30 00:00:01.000000");
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].level, Level::Critical);
  EXPECT_EQ(r.result.alerts[0].matched->value, "evil.org");
  EXPECT_TRUE(has_timeline_row(r.result, "2020-03-30 00:00:01.000000", "visit",
                               "2 - https://bad.evil.org/x (visit ID: 10, redirect source: 11)"));
}

}  // namespace

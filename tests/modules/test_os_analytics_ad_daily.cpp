// OSAnalyticsADDaily over plist fixtures: netUsageBaseline records, process indicators,
// Operation Triangulation's BackupAgent, malformed entries.
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
 {"type":"malware","id":"malware--1","name":"TestSpy"},
 {"type":"indicator","id":"indicator--1","pattern":"[process:name='bh']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"}]})";

ModuleRun run_addaily(const Scratch& dir, const std::string& plist) {
  BackupBuilder b(dir / "backup");
  b.add_file("HomeDomain", "Library/Preferences/com.apple.osanalytics.addaily.plist", plist);
  b.finish();
  return run_ios_module(dir / "backup", "OSAnalyticsADDaily", kStix);
}

Json sample() {
  Json base = Json::object();
  base["com.apple.mobilesafari"] = Json::array({"date:1625000000", 100, 200, Json{{"$real", 3.5}}, 4});
  base["bh"] = Json::array({"date:1625000100", 0, 0, 1, 1});
  base["bhX"] = Json::array({"date:1625000100", 0, 0, 1, 1});
  base["BackupAgent"] = Json::array({"date:1625000200", 5, 6, 7, 8});
  base["BackupAgent2"] = Json::array({"date:1625000200", 5, 6, 7, 8});
  return Json{{"netUsageBaseline", base}, {"other", 1}};
}

TEST(OSAnalyticsADDaily, RecordsAlertsAndTimeline) {
  Scratch d;
  auto r = run_addaily(d, make_plist(sample(), true));
  ASSERT_EQ(r.records.size(), 5u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"package": "com.apple.mobilesafari", "ts": "2021-06-29 20:53:20.000000",
      "wifi_in": 100, "wifi_out": 200, "wwan_in": 3.5, "wwan_out": 4})"));
  ASSERT_EQ(r.result.alerts.size(), 2u);
  const Alert* ioc = nullptr;
  const Alert* tri = nullptr;
  for (auto& a : r.result.alerts) (a.matched ? ioc : tri) = &a;
  ASSERT_TRUE(ioc && tri);
  EXPECT_EQ(ioc->level, Level::Critical);
  EXPECT_EQ(ioc->message, "Found a known suspicious process name \"bh\" matching indicators from \"TestSpy\"");
  EXPECT_EQ(tri->level, Level::Critical);
  EXPECT_EQ(tri->message,
            "Operation Triangulation: BackupAgent process seen in netUsageBaseline "
            "(HomeDomain/Library/Preferences/com.apple.osanalytics.addaily.plist) on 2021-06-29 20:56:40.000000");
  EXPECT_EQ(tri->event_time, "2021-06-29 20:56:40.000000");
  ASSERT_EQ(r.result.timeline.size(), 5u);
  bool found = false;
  for (auto& t : r.result.timeline)
    if (t.description == "com.apple.mobilesafari WIFI IN: 100, WIFI OUT: 200 - WWAN IN: 3.5, WWAN OUT: 4") {
      found = true;
      EXPECT_EQ(t.timestamp, "2021-06-29 20:53:20.000000");
      EXPECT_EQ(t.event, "osanalytics_addaily");
      EXPECT_EQ(t.plugin, "OSAnalyticsADDaily");
    }
  EXPECT_TRUE(found);
}

TEST(OSAnalyticsADDaily, MalformedEntriesAndFiles) {
  Json base = Json::object();
  base["short"] = Json::array({"date:1625000000", 1});
  base["scalar"] = 5;
  Scratch d;
  auto r = run_addaily(d, make_plist(Json{{"netUsageBaseline", base}}, false));
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0]["wifi_in"], 1);
  EXPECT_TRUE(r.records[0]["wwan_out"].is_null());
  EXPECT_TRUE(r.records[1]["ts"].is_null());
  EXPECT_FALSE(r.result.partial());
  // No netUsageBaseline: nothing, and not an error.
  Scratch d2;
  auto r2 = run_addaily(d2, make_plist(Json{{"other", 1}}, true));
  EXPECT_TRUE(r2.records.empty());
  EXPECT_FALSE(r2.result.partial());
  // Garbage: unreadable.
  Scratch d3;
  auto r3 = run_addaily(d3, "<?xml version=\"1.0\"?><plist><dict><key>x</key>");
  EXPECT_TRUE(r3.result.partial());
}

}  // namespace

// ProfileEvents: MCProfileEvents.plist events, LOW alert per event, process and profile indicators.
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

TEST(ProfileEvents, EventsAlertsIndicators) {
  Scratch d;
  BackupBuilder b(d / "backup");
  Json events = {{"ProfileEvents",
                  Json::array({{{"com.example.profile", {{"timestamp", "date:1600000000"},
                                                         {"operation", "install"},
                                                         {"process", "/usr/libexec/mdmd"},
                                                         {"Extra", 1}}}},
                               {{"com.example.other", {{"operation", "remove"}}}}})}};
  b.add_file("SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles",
             "Library/ConfigurationProfiles/MCProfileEvents.plist", make_plist(events));
  b.finish();
  auto stix = stix_with("[process:name='mdmd']");
  auto r = run_ios_module(b.root(), "ProfileEvents", stix);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"profile_id": "com.example.profile", "timestamp": "2020-09-13 12:26:40.000000",
      "operation": "install", "process": "/usr/libexec/mdmd", "extra": 1})"));
  EXPECT_EQ(r.records[1], Json::parse(R"({"profile_id": "com.example.other", "timestamp": "", "operation": "remove",
      "process": ""})"));
  ASSERT_EQ(r.result.alerts.size(), 3u);
  EXPECT_EQ(r.result.alerts[0].level, Level::Low);
  EXPECT_EQ(r.result.alerts[0].message,
            "On 2020-09-13 12:26:40.000000 process \"/usr/libexec/mdmd\" started operation \"install\" of profile "
            "\"com.example.profile\"");
  EXPECT_EQ(r.result.alerts[0].event_time, "2020-09-13 12:26:40.000000");
  int low = 0, critical = 0;
  for (auto& a : r.result.alerts) {
    if (a.level == Level::Low) ++low;
    if (a.level == Level::Critical) {
      ++critical;
      EXPECT_EQ(a.matched->value, "mdmd");
      EXPECT_EQ(a.event["profile_id"], "com.example.profile");
    }
  }
  EXPECT_EQ(low, 2);
  EXPECT_EQ(critical, 1);
  EXPECT_TRUE(has_timeline_row(r.result, "2020-09-13 12:26:40.000000", "profile_operation",
                               "Process /usr/libexec/mdmd started operation install of profile com.example.profile"));
}

}  // namespace

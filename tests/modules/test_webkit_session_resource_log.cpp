// WebkitSessionResourceLog: grouped records, redirect chain, one CRITICAL alert per matching domain.
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

const char* kTwo = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"Spy"},
 {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='evil.org']","pattern_type":"stix"},
 {"type":"indicator","id":"indicator--2","pattern":"[domain-name:value='bad.net']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"},
 {"type":"relationship","id":"relationship--2","source_ref":"indicator--2","target_ref":"malware--1"}]})";

TEST(WebkitSessionResourceLog, ChainAndDomainAlerts) {
  Scratch d;
  BackupBuilder b(d / "backup");
  Json log = {{"browsingStatistics",
               Json::array({{{"PrevalentResourceOrigin", "b.evil.org"},
                             {"topFrameUniqueRedirectsFrom", Json::array({"a.example.com"})},
                             {"topFrameUniqueRedirectsTo", Json::array({{{"origin", "c.bad.net"}}})},
                             {"subframeUnderTopFrameOrigins", Json::array()},
                             {"hadUserInteraction", false},
                             {"lastSeen", "date:1600000000"}},
                            {{"PrevalentResourceOrigin", "plain.example"}}})}};
  std::string id = b.add_file("HomeDomain",
                              "Library/WebKit/WebsiteData/ResourceLoadStatistics/full_browsing_session_resourceLog.plist",
                              make_plist(log));
  b.finish();
  auto r = run_ios_module(b.root(), "WebkitSessionResourceLog", kTwo);
  ASSERT_TRUE(r.records.is_object());
  ASSERT_EQ(r.records.size(), 1u);
  const Json& list = r.records[id.substr(0, 2) + "/" + id];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["origin"], "b.evil.org");
  EXPECT_EQ(list[0]["redirect_source"], Json::array({"a.example.com"}));
  EXPECT_EQ(list[0]["user_interaction"], false);
  EXPECT_EQ(list[0]["last_seen"], "2020-09-13 12:26:40.000000");
  EXPECT_TRUE(list[0]["most_recent_interaction"].is_null());
  EXPECT_EQ(list[0]["redirect_chain"],
            "SOURCE: \"a.example.com\" -> ORIGIN: \"b.evil.org\" -> DESTINATION: \"c.bad.net\"");
  EXPECT_EQ(list[1]["redirect_source"], "");
  EXPECT_FALSE(list[1].contains("redirect_chain"));
  ASSERT_EQ(r.result.alerts.size(), 2u);
  for (auto& a : r.result.alerts) {
    EXPECT_EQ(a.level, Level::Critical);
    EXPECT_EQ(a.event["redirect_chain"], list[0]["redirect_chain"]);
  }
  EXPECT_TRUE(r.result.timeline.empty());
}

}  // namespace

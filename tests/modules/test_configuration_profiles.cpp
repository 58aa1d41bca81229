// ConfigurationProfiles: profile-* plists of the profiles container, ProfileId indicators,
// the notificationsettings heuristic (with and without indicators), timeline.
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

constexpr const char* kDomain = "SysSharedContainerDomain-systemgroup.com.apple.configurationprofiles";

std::filesystem::path build(const Scratch& d) {
  BackupBuilder b(d / "backup");
  Json profile = {{"PayloadDisplayName", "Silent"},
                  {"PayloadDescription", "Hides things"},
                  {"PayloadType", "Configuration"},
                  {"PayloadUUID", "11111111-2222-3333-4444-555555555555"},
                  {"InstallDate", "date:1600000000"},
                  {"SignerCerts", Json::array({{{"$data", "AAEC"}}})},
                  {"PayloadContent", Json::array({{{"PayloadType", "com.apple.notificationsettings"}}})}};
  b.add_file(kDomain, "Library/ConfigurationProfiles/profile-abc.stub", make_plist(profile));
  Json benign = {{"PayloadDisplayName", "Wi-Fi"}, {"PayloadType", "Configuration"}, {"PayloadUUID", "AAAA"},
                 {"PayloadContent", Json::array({{{"PayloadType", "com.apple.wifi.managed"}}})}};
  b.add_file(kDomain, "Library/ConfigurationProfiles/profile-def.stub", make_plist(benign));
  b.add_file(kDomain, "Library/ConfigurationProfiles/ProfileTruth.plist", make_plist(Json::object()));
  b.add_file(kDomain, "Library/ConfigurationProfiles/profile-bad.stub", "not a plist");
  b.finish();
  return b.root();
}

TEST(ConfigurationProfiles, RecordsIndicatorAndHeuristic) {
  Scratch d;
  auto root = build(d);
  auto stix = stix_with("[configuration-profile:id='11111111-2222-3333-4444-555555555555']");
  auto r = run_ios_module(root, "ConfigurationProfiles", stix);
  ASSERT_EQ(r.records.size(), 3u);  // profile-abc, profile-bad (empty plist), profile-def
  const Json& p = r.records[0];
  EXPECT_EQ(p["relative_path"], "Library/ConfigurationProfiles/profile-abc.stub");
  EXPECT_EQ(p["domain"], kDomain);
  EXPECT_EQ(p["install_date"], "2020-09-13 12:26:40.000000");
  EXPECT_EQ(p["plist"]["SignerCerts"][0], "AAEC");
  std::vector<std::string> keys;
  for (auto& [k, v] : p.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"file_id", "relative_path", "domain", "plist", "install_date"}));
  EXPECT_EQ(r.records[1]["plist"], Json::object());
  EXPECT_TRUE(r.result.partial());  // profile-bad
  ASSERT_EQ(r.result.alerts.size(), 2u);
  int medium = 0, critical = 0;
  for (auto& a : r.result.alerts) {
    if (a.level == Level::Medium) {
      ++medium;
      EXPECT_EQ(a.message,
                "Found a potentially suspicious configuration profile \"Silent\" with payload type "
                "com.apple.notificationsettings");
    }
    if (a.level == Level::Critical) {
      ++critical;
      EXPECT_EQ(a.matched->value, "11111111-2222-3333-4444-555555555555");
    }
  }
  EXPECT_EQ(medium, 1);
  EXPECT_EQ(critical, 1);
  EXPECT_TRUE(has_timeline_row(r.result, "2020-09-13 12:26:40.000000", "configuration_profile_install",
                               "Configuration installed: 11111111-2222-3333-4444-555555555555 - Silent: Hides things"));
}

TEST(ConfigurationProfiles, HeuristicRunsWithoutIndicators) {
  Scratch d;
  auto root = build(d);
  auto r = run_ios_module(root, "ConfigurationProfiles");
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].level, Level::Medium);
}

}  // namespace

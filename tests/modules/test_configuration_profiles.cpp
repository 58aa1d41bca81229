// ConfigurationProfiles: profile-* plists of the profiles container, ProfileId indicators,
// the notificationsettings heuristic (with and without indicators), timeline.
#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/backup_builder.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

struct Run {
  ScanResult result;
  Json records = Json::array();
};

// Runs one module over a finished backup, with an optional STIX2 bundle.
Run scan(const std::filesystem::path& backup, const Scratch& out, const std::string& module,
         const std::string& slug, const char* stix = nullptr) {
  std::string err;
  auto src = IosBackupSource::open(backup, &err);
  EXPECT_TRUE(src) << err;
  IndicatorSet set;
  if (stix) {
    EXPECT_TRUE(set.load_bundle(stix, "test.stix2"));
  }
  IndicatorIndex index(set);
  auto mods = ModuleRegistry::instance().create(kIosBackup);
  EXPECT_TRUE(select_modules(mods, {module}, &err)) << err;
  ScanOptions opts;
  opts.output_dir = out.path();
  opts.threads = 1;
  opts.module_options.have_indicators = stix != nullptr;
  Run r;
  r.result = Engine(stix ? &set : nullptr, stix ? &index : nullptr).run(std::move(mods), src.get(), nullptr, opts);
  auto file = out / (slug + ".json");
  if (std::filesystem::exists(file)) r.records = Json::parse(slurp(file));
  return r;
}

[[maybe_unused]] bool has_row(const ScanResult& r, const std::string& ts, const std::string& event, const std::string& desc) {
  for (auto& t : r.timeline)
    if (t.timestamp == ts && t.event == event && t.description == desc) return true;
  return false;
}

[[maybe_unused]] std::string stix_with(const std::string& pattern) {
  return R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"Spy"},
 {"type":"indicator","id":"indicator--1","pattern":")" + pattern + R"(","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"}]})";
}

}  // namespace

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
  Scratch out;
  auto stix = stix_with("[configuration-profile:id='11111111-2222-3333-4444-555555555555']");
  auto r = scan(root, out, "ConfigurationProfiles", "configuration_profiles", stix.c_str());
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
  EXPECT_TRUE(has_row(r.result, "2020-09-13 12:26:40.000000", "configuration_profile_install",
                      "Configuration installed: 11111111-2222-3333-4444-555555555555 - Silent: Hides things"));
}

TEST(ConfigurationProfiles, HeuristicRunsWithoutIndicators) {
  Scratch d;
  auto root = build(d);
  Scratch out;
  auto r = scan(root, out, "ConfigurationProfiles", "configuration_profiles");
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].level, Level::Medium);
}

}  // namespace

// ProfileEvents: MCProfileEvents.plist events, LOW alert per event, process and profile indicators.
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
  Scratch out;
  auto stix = stix_with("[process:name='mdmd']");
  auto r = scan(b.root(), out, "ProfileEvents", "profile_events", stix.c_str());
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
  EXPECT_TRUE(has_row(r.result, "2020-09-13 12:26:40.000000", "profile_operation",
                      "Process /usr/libexec/mdmd started operation install of profile com.example.profile"));
}

}  // namespace

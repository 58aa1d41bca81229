// LocationdClients: client records, converted times, base64 token, HIGH process/path indicators.
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

TEST(LocationdClients, ClientsIndicatorsTimeline) {
  Scratch d;
  BackupBuilder b(d / "backup");
  Json clients = {
      {"com.apple.locationd.bundle-/System/Library/LocationBundles/IonosphereHarvest.bundle:",
       {{"LocationTimeStopped", 600000000.5}, {"Authorization", 2},
        {"BundlePath", "/System/Library/LocationBundles/IonosphereHarvest.bundle"}}},
      {"com.evil.app:",
       {{"BundleId", "com.evil.app"}, {"ConsumptionPeriodBegin", 600000000.0}, {"ClientStorageToken", {{"$data", "AAEC"}}},
        {"Executable", "/private/var/containers/Bundle/Application/X/Evil.app/Evil"}, {"Registered", true}}},
      {"Version", 3}};
  b.add_file("RootDomain", "Library/Caches/locationd/clients.plist", make_plist(clients));
  b.finish();
  Scratch out;
  auto stix = stix_with("[process:name='com.evil.app']");
  auto r = scan(b.root(), out, "LocationdClients", "locationd_clients", stix.c_str());
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0]["package"], "com.apple.locationd.bundle-/System/Library/LocationBundles/IonosphereHarvest.bundle");
  EXPECT_EQ(r.records[0]["LocationTimeStopped"], "2020-01-06 10:40:00.500000");
  EXPECT_EQ(r.records[1]["package"], "com.evil.app");
  EXPECT_EQ(r.records[1]["ClientStorageToken"], "AAEC");
  EXPECT_EQ(r.records[1]["ConsumptionPeriodBegin"], "2020-01-06 10:40:00.000000");
  ASSERT_EQ(r.result.alerts.size(), 1u);  // package tail and BundleId: one indicator, one value
  EXPECT_EQ(r.result.alerts[0].level, Level::High);
  EXPECT_TRUE(has_row(r.result, "2020-01-06 10:40:00.500000", "LocationTimeStopped",
                      "LocationTimeStopped from com.apple.locationd.bundle-/System/Library/LocationBundles/"
                      "IonosphereHarvest.bundle"));
  EXPECT_TRUE(has_row(r.result, "2020-01-06 10:40:00.000000", "ConsumptionPeriodBegin",
                      "ConsumptionPeriodBegin from com.evil.app"));
}

TEST(LocationdClients, FilePathIndicator) {
  Scratch d;
  BackupBuilder b(d / "backup");
  Json clients = {{"x:", {{"Executable", "/private/var/db/com.apple.xpc.roleaccountd.staging/bh"}}}};
  b.add_file("RootDomain", "Library/Caches/locationd/clients.plist", make_plist(clients));
  b.finish();
  Scratch out;
  auto stix = stix_with("[file:path='/private/var/db/com.apple.xpc.roleaccountd.staging/']");
  auto r = scan(b.root(), out, "LocationdClients", "locationd_clients", stix.c_str());
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].level, Level::High);
}

}  // namespace

// LocationdClients: client records, converted times, base64 token, HIGH process/path indicators.
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
  auto stix = stix_with("[process:name='com.evil.app']");
  auto r = run_ios_module(b.root(), "LocationdClients", stix);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0]["package"], "com.apple.locationd.bundle-/System/Library/LocationBundles/IonosphereHarvest.bundle");
  EXPECT_EQ(r.records[0]["LocationTimeStopped"], "2020-01-06 10:40:00.500000");
  EXPECT_EQ(r.records[1]["package"], "com.evil.app");
  EXPECT_EQ(r.records[1]["ClientStorageToken"], "AAEC");
  EXPECT_EQ(r.records[1]["ConsumptionPeriodBegin"], "2020-01-06 10:40:00.000000");
  ASSERT_EQ(r.result.alerts.size(), 1u);  // package tail and BundleId: one indicator, one value
  EXPECT_EQ(r.result.alerts[0].level, Level::High);
  EXPECT_TRUE(has_timeline_row(r.result, "2020-01-06 10:40:00.500000", "LocationTimeStopped",
                               "LocationTimeStopped from com.apple.locationd.bundle-/System/Library/LocationBundles/"
                               "IonosphereHarvest.bundle"));
  EXPECT_TRUE(has_timeline_row(r.result, "2020-01-06 10:40:00.000000", "ConsumptionPeriodBegin",
                               "ConsumptionPeriodBegin from com.evil.app"));
}

TEST(LocationdClients, FilePathIndicator) {
  Scratch d;
  BackupBuilder b(d / "backup");
  Json clients = {{"x:", {{"Executable", "/private/var/db/com.apple.xpc.roleaccountd.staging/bh"}}}};
  b.add_file("RootDomain", "Library/Caches/locationd/clients.plist", make_plist(clients));
  b.finish();
  auto stix = stix_with("[file:path='/private/var/db/com.apple.xpc.roleaccountd.staging/']");
  auto r = run_ios_module(b.root(), "LocationdClients", stix);
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].level, Level::High);
}

}  // namespace

// TriangulationCheck: exact BackupAgent detection, the 300-second / 10-event correlation of weak
// signals (file, sms, net, location), and its false-positive rules.
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

constexpr std::int64_t kT0 = 1630000000;               // unix
constexpr double kMac0 = 1630000000.0 - 978307200.0;  // the same instant in Mac time

std::string datausage(const std::string& proc, double first) {
  return "CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, ZPROCNAME VARCHAR, ZBUNDLENAME VARCHAR,"
         " ZFIRSTTIMESTAMP TIMESTAMP, ZTIMESTAMP TIMESTAMP);"
         "CREATE TABLE ZLIVEUSAGE (Z_PK INTEGER PRIMARY KEY, ZHASPROCESS INTEGER, ZTIMESTAMP TIMESTAMP,"
         " ZWWANIN FLOAT, ZWWANOUT FLOAT);"
         "INSERT INTO ZPROCESS VALUES (1, 'mDNSResponder', NULL, 1000, 1000);"
         "INSERT INTO ZPROCESS VALUES (2, '" + proc + "', NULL, " + std::to_string(first) + ", " +
         std::to_string(first) + ");";
}

std::vector<Alert> alerts_of(const ModuleRun& r, Level l) {
  std::vector<Alert> out;
  for (auto& a : r.result.alerts)
    if (a.level == l) out.push_back(a);
  return out;
}

TEST(TriangulationCheck, FileAndNetWithinFiveMinutes) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_file("RootDomain", "Library/Preferences/com.apple.ImageIO.plist", "x", kT0);
  b.add_sqlite("WirelessDomain", "Library/Databases/DataUsage.sqlite", datausage("nehelper", kMac0 + 120));
  b.finish();
  Scratch out;
  auto r = run_ios_module(b.root(), "TriangulationCheck");
  auto high = alerts_of(r, Level::High);
  ASSERT_EQ(high.size(), 1u);
  EXPECT_EQ(high[0].message,
            "Possible Operation Triangulation infection (suspicion): 5 events of classes file, net within 300 seconds "
            "from 2021-08-26 17:46:40.000000");
  EXPECT_EQ(high[0].event["classes"], Json::array({"file", "net"}));
  ASSERT_EQ(high[0].event["events"].size(), 5u);  // M, C, B of the plist; NetFirst, NetTimestamp
  EXPECT_EQ(high[0].event["events"][3]["subject"], "nehelper");
  EXPECT_EQ(high[0].event["events"][3]["event"], "NetFirst");
  EXPECT_EQ(high[0].event["events"][3]["isodate"], "2021-08-26 17:48:40.000000");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0]["detection"], "heuristic");
  EXPECT_TRUE(alerts_of(r, Level::Critical).empty());
}

TEST(TriangulationCheck, EventsTooFarApartOrOneClassOnly) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_file("RootDomain", "Library/Preferences/com.apple.ImageIO.plist", "x", kT0);
  b.add_file("HomeDomain", "Library/Preferences/com.apple.imservice.ids.FaceTime.plist", "x", kT0 + 10);
  b.add_sqlite("WirelessDomain", "Library/Databases/DataUsage.sqlite", datausage("nehelper", kMac0 + 400));
  b.finish();
  Scratch out;
  auto r = run_ios_module(b.root(), "TriangulationCheck");
  EXPECT_TRUE(r.result.alerts.empty());
  EXPECT_TRUE(r.records.empty());
}

TEST(TriangulationCheck, SmsFoldersAndTheRealAttachmentRule) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_manifest_only("MediaDomain", "Library/SMS/Attachments/ab", 2, kT0);
  b.add_manifest_only("MediaDomain", "Library/SMS/Attachments/ab/01", 2, kT0);
  b.add_sqlite("WirelessDomain", "Library/Databases/DataUsage.sqlite",
               datausage("com.apple.WebKit.WebContent", kMac0 + 30));
  b.finish();
  Scratch out;
  auto r = run_ios_module(b.root(), "TriangulationCheck");
  auto high = alerts_of(r, Level::High);
  ASSERT_EQ(high.size(), 1u);
  EXPECT_EQ(high[0].event["classes"], Json::array({"net", "sms"}));

  Scratch d2;
  BackupBuilder b2(d2 / "backup");
  b2.add_manifest_only("MediaDomain", "Library/SMS/Attachments/ab", 2, kT0);
  b2.add_manifest_only("MediaDomain", "Library/SMS/Attachments/ab/01", 2, kT0);
  b2.add_file("MediaDomain", "Library/SMS/Attachments/ab/01/1234-5678/IMG_0001.HEIC", "img", kT0 + 1);
  b2.add_sqlite("WirelessDomain", "Library/Databases/DataUsage.sqlite",
                datausage("com.apple.WebKit.WebContent", kMac0 + 30));
  b2.finish();
  auto r2 = run_ios_module(b2.root(), "TriangulationCheck");
  EXPECT_TRUE(alerts_of(r2, Level::High).empty());
}

TEST(TriangulationCheck, ExactBackupAgentAndLocation) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("WirelessDomain", "Library/Databases/DataUsage.sqlite", datausage("BackupAgent", kMac0));
  Json clients = {{"com.apple.locationd.bundle-/System/Library/LocationBundles/IonosphereHarvest.bundle:",
                   {{"LocationTimeStopped", kMac0 + 5}}}};
  b.add_file("RootDomain", "Library/Caches/locationd/clients.plist", make_plist(clients));
  b.finish();
  Scratch out;
  auto r = run_ios_module(b.root(), "TriangulationCheck");
  auto crit = alerts_of(r, Level::Critical);
  ASSERT_EQ(crit.size(), 1u);
  EXPECT_EQ(crit[0].event["process"], "BackupAgent");
  EXPECT_EQ(crit[0].event_time, "2021-08-26 17:46:40.000000");
  auto high = alerts_of(r, Level::High);
  ASSERT_EQ(high.size(), 1u);  // BackupAgent traffic (net) and IonosphereHarvest (location)
  EXPECT_EQ(high[0].event["classes"], Json::array({"location", "net"}));
  EXPECT_EQ(r.records.size(), 2u);
}

TEST(TriangulationCheck, BackupAgent2IsApple) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("WirelessDomain", "Library/Databases/DataUsage.sqlite", datausage("BackupAgent2", kMac0));
  b.finish();
  Scratch out;
  auto r = run_ios_module(b.root(), "TriangulationCheck");
  EXPECT_TRUE(r.result.alerts.empty());
}

}  // namespace

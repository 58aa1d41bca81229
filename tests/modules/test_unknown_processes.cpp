// UnknownProcesses: processes of DataUsage / netUsageBaseline / locationd matching no installed app
// and no known system process; the compiled-in list is identical to data/ios_system_processes.txt.
#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/backup_builder.hpp"
#include "core/util.hpp"
#include "support/module_runner.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

constexpr const char* kList[] = {
#include "modules/ios/ios_system_processes.inc"
};

TEST(UnknownProcesses, ListMatchesDataFile) {
  std::vector<std::string> names;
  for (auto& line : split(slurp(std::filesystem::path(BRIDLE_SOURCE_DIR) / "data" / "ios_system_processes.txt"), '\n')) {
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    names.push_back(t);
  }
  ASSERT_EQ(names.size(), std::size(kList));
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(names[i], kList[i]) << i;
}

TEST(UnknownProcesses, LeadsForAnAnalyst) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("WirelessDomain", "Library/Databases/DataUsage.sqlite",
               "CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, ZPROCNAME VARCHAR, ZBUNDLENAME VARCHAR,"
               " ZFIRSTTIMESTAMP TIMESTAMP, ZTIMESTAMP TIMESTAMP);"
               "INSERT INTO ZPROCESS VALUES (1, 'WhatsApp/net.whatsapp.WhatsApp', 'net.whatsapp.WhatsApp', 600000000, 0);"
               "INSERT INTO ZPROCESS VALUES (2, 'bh', NULL, 600000100, 0);"
               "INSERT INTO ZPROCESS VALUES (3, 'mDNSResponder/com.apple.datausage.dns', 'com.apple.datausage.dns', 1, 1);"
               "INSERT INTO ZPROCESS VALUES (4, 'IMRemoteURLConne/com.apple.datausage.messages', NULL, 1, 1);"
               "INSERT INTO ZPROCESS VALUES (5, '1FB47783-A2FE-47D9-B256-DF50EF44BBA4/com.apple.Maps', 'com.apple.Maps', 1, 1);"
               "INSERT INTO ZPROCESS VALUES (6, 'CumulativeUsageTracker', NULL, 1, 1);"
               "INSERT INTO ZPROCESS VALUES (7, 'roleaccountd', NULL, 600000200, 0);"
               "INSERT INTO ZPROCESS VALUES (8, 'WhatsApp', NULL, 1, 1);");
  Json addaily = {{"netUsageBaseline",
                   {{"msgacntd", Json::array({"date:1600000000", 1, 2, 3, 4})},
                    {"com.apple.mobilesafari", Json::array({"date:1600000000", 1, 2, 3, 4})},
                    {"roleaccountd", Json::array({"date:1500000000", 1, 2, 3, 4})}}}};
  b.add_file("HomeDomain", "Library/Preferences/com.apple.osanalytics.addaily.plist", make_plist(addaily));
  Json clients = {{"com.apple.locationd.bundle-/System/Library/LocationBundles/Foo.bundle:", Json::object()},
                  {"net.whatsapp.WhatsApp:", Json::object()},
                  {"com.spy.tracker:", {{"BundleId", "com.spy.tracker"}}}};
  b.add_file("RootDomain", "Library/Caches/locationd/clients.plist", make_plist(clients));
  b.finish();
  auto stix = stix_with("[process:name='roleaccountd']");
  auto r = run_ios_module(b.root(), "UnknownProcesses", stix);
  std::vector<std::string> procs;
  for (auto& rec : r.records) procs.push_back(rec["process"]);
  EXPECT_EQ(procs, (std::vector<std::string>{"bh", "com.spy.tracker", "msgacntd", "roleaccountd"}));
  const Json& role = r.records[3];
  EXPECT_EQ(role["first_seen"], "2017-07-14 02:40:00.000000");
  ASSERT_EQ(role["seen_in"].size(), 2u);
  int low = 0, critical = 0;
  for (auto& a : r.result.alerts) {
    if (a.level == Level::Low) ++low;
    if (a.level == Level::Critical) ++critical;
  }
  EXPECT_EQ(low, 4);
  EXPECT_EQ(critical, 1);  // roleaccountd is also an indicator
  bool found = false;
  for (auto& a : r.result.alerts)
    if (a.message == "Process \"bh\" (seen in WirelessDomain/Library/Databases/DataUsage.sqlite) matches no installed "
                     "application and no known iOS system process: a lead for an analyst")
      found = true;
  EXPECT_TRUE(found);
  EXPECT_TRUE(has_timeline_row(r.result, "2020-01-06 10:41:40.000000", "unknown_process", "Unknown process bh first seen"));
}

}  // namespace

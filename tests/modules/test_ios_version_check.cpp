// IOSVersionCheck: outdated device -> LOW; newest known -> no alert; the compiled-in table is
// identical to data/ios_versions.json (rows and date).
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

struct Row {
  const char* build;
  const char* version;
};
constexpr Row kTable[] = {
#include "modules/ios/ios_versions_table.inc"
};

Json versions_json() {
  return Json::parse(slurp(std::filesystem::path(BRIDLE_SOURCE_DIR) / "data" / "ios_versions.json"));
}

TEST(IOSVersionCheck, TableMatchesJson) {
  Json doc = versions_json();
  ASSERT_TRUE(doc["builds"].is_array());
  ASSERT_EQ(doc["builds"].size(), std::size(kTable));
  for (std::size_t i = 0; i < std::size(kTable); ++i) {
    EXPECT_EQ(doc["builds"][i]["build"], kTable[i].build) << i;
    EXPECT_EQ(doc["builds"][i]["version"], kTable[i].version) << i;
  }
  EXPECT_FALSE(doc["source"].get<std::string>().empty());
  EXPECT_FALSE(doc["date"].get<std::string>().empty());
}

TEST(IOSVersionCheck, OutdatedDevice) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.finish({{"Build Version", "18C66"}, {"Product Version", "14.3"}});
  auto r = run_ios_module(b.root(), "IOSVersionCheck");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0]["version"], "14.3");
  EXPECT_EQ(r.records[0]["build_in_table"], true);
  EXPECT_EQ(r.records[0]["outdated"], true);
  EXPECT_EQ(r.records[0]["table_date"], versions_json()["date"]);
  EXPECT_EQ(r.records[0]["latest_version"], "26.6.1");
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].level, Level::Low);
  EXPECT_EQ(r.result.alerts[0].message,
            "This phone is running an outdated iOS version: 14.3 (18C66); the newest release in bridle's table "
            "(dated 2026-11-28) is 26.6.1 (23G83)");
}

TEST(IOSVersionCheck, NewestOrNewerIsNotAlerted) {
  for (const char* v : {"26.6.1", "26.7", "27.0"}) {
    Scratch d;
    BackupBuilder b(d / "backup");
    b.finish({{"Build Version", "23Z1"}, {"Product Version", v}});
    auto r = run_ios_module(b.root(), "IOSVersionCheck");
    ASSERT_EQ(r.records.size(), 1u) << v;
    EXPECT_EQ(r.records[0]["outdated"], false) << v;
    EXPECT_TRUE(r.result.alerts.empty()) << v;
  }
}

TEST(IOSVersionCheck, VersionFromBuildWhenMissing) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.finish({{"Build Version", "22G86"}, {"Product Version", ""}});
  auto r = run_ios_module(b.root(), "IOSVersionCheck");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0]["version"], "18.6");
  EXPECT_EQ(r.result.alerts.size(), 1u);
}

}  // namespace

// Applications: Info.plist Applications metadata, installer and bundle id heuristics, indicators.
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

Json app(const Json& metadata) {
  return {{"iTunesMetadata", {{"$data", base64_encode(make_plist(metadata))}}}, {"PlaceholderIcon", {{"$data", "AAEC"}}}};
}

std::filesystem::path build(const Scratch& d) {
  BackupBuilder b(d / "backup");
  Json apps = {
      {"com.evil.app", app({{"softwareVersionBundleId", "com.evil.app"},
                            {"itemName", "Evil"},
                            {"bundleShortVersionString", "1.0"},
                            {"artistName", "Evil Ltd"},
                            {"sourceApp", "com.apple.TestFlight"},
                            {"com.apple.iTunesStore.downloadInfo", {{"purchaseDate", "2021-03-04T05:06:07Z"}}}})},
      {"com.odd.app", app({{"itemName", "Odd"}})},
      {"com.good.app", app({{"softwareVersionBundleId", "com.good.app"}, {"sourceApp", "com.apple.AppStore"}})},
  };
  b.finish({{"Applications", apps}});
  return b.root();
}

TEST(Applications, MetadataHeuristicsIndicators) {
  Scratch d;
  auto root = build(d);
  auto stix = stix_with("[app:id='com.evil.app']");
  auto r = run_ios_module(root, "Applications", stix);
  ASSERT_EQ(r.records.size(), 3u);
  const Json* evil = nullptr;
  for (auto& a : r.records)
    if (a["name"] == "com.evil.app") evil = &a;
  ASSERT_TRUE(evil);
  EXPECT_EQ((*evil)["softwareVersionBundleId"], "com.evil.app");
  EXPECT_EQ((*evil)["isodate"], "2021-03-04 05:06:07.000000");
  EXPECT_EQ((*evil)["icon_sha256"], "ae4b3280e56e2faf83f414a6e3dabe9d5fbe18976544c05fed121accb85b53fc");
  int medium = 0, critical = 0;
  for (auto& a : r.result.alerts) {
    if (a.level == Level::Medium) ++medium;
    if (a.level == Level::Critical) {
      ++critical;
      EXPECT_EQ(a.matched->value, "com.evil.app");
    }
  }
  EXPECT_EQ(medium, 2);  // TestFlight installer; no softwareVersionBundleId
  EXPECT_EQ(critical, 1);
  EXPECT_TRUE(has_timeline_row(r.result, "2021-03-04 05:06:07.000000", "app_installed",
                               "App com.evil.app version 1.0 from Evil Ltd installed from com.apple.TestFlight"));
}

TEST(Applications, MissingBundleIdAlertsWithoutIndicators) {
  Scratch d;
  auto root = build(d);
  auto r = run_ios_module(root, "Applications");
  bool missing = false;
  for (auto& a : r.result.alerts)
    if (a.message == "Suspicious application identified without softwareVersionBundleId") missing = true;
  EXPECT_TRUE(missing);
  EXPECT_EQ(r.result.alerts.size(), 2u);
}

}  // namespace

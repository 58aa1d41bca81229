// GlobalPreferences over plist fixtures: one record per key, Lockdown Mode alerts.
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

ModuleRun run_prefs(const Scratch& dir, const std::string& plist) {
  BackupBuilder b(dir / "backup");
  b.add_file("HomeDomain", "Library/Preferences/.GlobalPreferences.plist", plist);
  b.finish();
  return run_ios_module(dir / "backup", "GlobalPreferences", "");
}

TEST(GlobalPreferences, RecordsInFileOrderAndLockdownEnabled) {
  Json prefs = Json::object();
  prefs["WebKitShowLinkPreviews"] = false;
  prefs["AKLastEmailListRequestDateKey"] = "date:1690924906.5";
  prefs["AppleLanguages"] = Json::array({"en-FR", "fr-FR"});
  prefs["LDMGlobalEnabled"] = true;
  prefs["AppleLocale"] = "en_FR";
  Scratch d;
  auto r = run_prefs(d, make_plist(prefs, true));
  ASSERT_EQ(r.records.size(), 5u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"entry": "WebKitShowLinkPreviews", "value": false})"));
  EXPECT_EQ(r.records[1]["value"], "2023-08-01 21:21:46.500000");
  EXPECT_EQ(r.records[2]["value"], Json::array({"en-FR", "fr-FR"}));
  EXPECT_EQ(r.records[3]["entry"], "LDMGlobalEnabled");
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].level, Level::Informational);
  EXPECT_EQ(r.result.alerts[0].message, "Lockdown mode enabled");
  EXPECT_EQ(r.result.alerts[0].event, Json::parse(R"({"entry": "LDMGlobalEnabled", "value": true})"));
  EXPECT_TRUE(r.result.timeline.empty());
}

TEST(GlobalPreferences, LockdownDisabledIsLow) {
  for (Json v : {Json(false), Json(0)}) {
    Scratch d;
    auto r = run_prefs(d, make_plist(Json{{"LDMGlobalEnabled", v}}, false));
    ASSERT_EQ(r.result.alerts.size(), 1u);
    EXPECT_EQ(r.result.alerts[0].level, Level::Low);
    EXPECT_EQ(r.result.alerts[0].message, "Lockdown mode disabled");
  }
  // No key: no alert.
  Scratch d;
  auto r = run_prefs(d, make_plist(Json{{"AppleLocale", "en_US"}}, true));
  EXPECT_TRUE(r.result.alerts.empty());
  EXPECT_EQ(r.records.size(), 1u);
}

TEST(GlobalPreferences, DamagedOrWrongShapeIsUnreadable) {
  Scratch d;
  auto r = run_prefs(d, "bplist00garbage");
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.partial());
  Scratch d2;
  auto r2 = run_prefs(d2, make_plist(Json::array({1}), true));
  EXPECT_TRUE(r2.result.partial());
}

TEST(GlobalPreferences, CorpusMatchesMvt) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto backup = shared / "corpus/mvt/ios_backup";
  if (!std::filesystem::exists(backup / "Manifest.db")) GTEST_SKIP() << "corpus backup not found";
  std::string err;
  auto src = IosBackupSource::open(backup, &err);
  ASSERT_TRUE(src) << err;
  Scratch d;
  IndicatorSet set;
  ModuleRunOptions o;
  o.out_dir = d / "out";
  o.indicators = &set;
  run_ios_module(*src, "GlobalPreferences", "", o);
  auto mvt = shared / "corpus/mvt-results/ios_check_backup";
  EXPECT_EQ(Json::parse(slurp(d / "out" / "global_preferences.json")),
            Json::parse(slurp(mvt / "global_preferences.json")));
  EXPECT_EQ(Json::parse(slurp(d / "out" / "global_preferences_detected.json")),
            Json::parse(slurp(mvt / "global_preferences_detected.json")));
}

}  // namespace

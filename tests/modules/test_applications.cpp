// Applications: Info.plist Applications metadata, installer and bundle id heuristics, indicators.
#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/backup_builder.hpp"
#include "core/util.hpp"
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
  Scratch out;
  auto stix = stix_with("[app:id='com.evil.app']");
  auto r = scan(root, out, "Applications", "applications", stix.c_str());
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
  EXPECT_TRUE(has_row(r.result, "2021-03-04 05:06:07.000000", "app_installed",
                      "App com.evil.app version 1.0 from Evil Ltd installed from com.apple.TestFlight"));
}

TEST(Applications, MissingBundleIdAlertsWithoutIndicators) {
  Scratch d;
  auto root = build(d);
  Scratch out;
  auto r = scan(root, out, "Applications", "applications");
  bool missing = false;
  for (auto& a : r.result.alerts)
    if (a.message == "Suspicious application identified without softwareVersionBundleId") missing = true;
  EXPECT_TRUE(missing);
  EXPECT_EQ(r.result.alerts.size(), 2u);
}

}  // namespace

// IOSVersionCheck: outdated device -> LOW; newest known -> no alert; the compiled-in table is
// identical to data/ios_versions.json (rows and date).
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
  Scratch out;
  auto r = scan(b.root(), out, "IOSVersionCheck", "ios_version_check");
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
    Scratch out;
    auto r = scan(b.root(), out, "IOSVersionCheck", "ios_version_check");
    ASSERT_EQ(r.records.size(), 1u) << v;
    EXPECT_EQ(r.records[0]["outdated"], false) << v;
    EXPECT_TRUE(r.result.alerts.empty()) << v;
  }
}

TEST(IOSVersionCheck, VersionFromBuildWhenMissing) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.finish({{"Build Version", "22G86"}, {"Product Version", ""}});
  Scratch out;
  auto r = scan(b.root(), out, "IOSVersionCheck", "ios_version_check");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0]["version"], "18.6");
  EXPECT_EQ(r.result.alerts.size(), 1u);
}

}  // namespace

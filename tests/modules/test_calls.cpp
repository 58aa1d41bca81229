// Calls: ZCALLRECORD records (BLOB numbers as text), timeline, missing table.
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

TEST(Calls, RecordsAndTimeline) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("HomeDomain", "Library/CallHistoryDB/CallHistory.storedata",
               "CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, ZDATE TIMESTAMP, ZDURATION FLOAT, ZLOCATION VARCHAR,"
               " ZADDRESS BLOB, ZSERVICE_PROVIDER VARCHAR);"
               "INSERT INTO ZCALLRECORD VALUES (1, 600000000, 12.5, 'United States', CAST('+14155550100' AS BLOB),"
               " 'com.apple.Telephony');"
               "INSERT INTO ZCALLRECORD VALUES (2, 600000100.25, 0.0, NULL, NULL, 'com.apple.FaceTime');");
  b.finish();
  Scratch out;
  auto r = scan(b.root(), out, "Calls", "calls");
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"isodate": "2020-01-06 10:40:00.000000", "duration": 12.5,
      "location": "United States", "number": "+14155550100", "provider": "com.apple.Telephony"})"));
  EXPECT_EQ(r.records[1]["isodate"], "2020-01-06 10:41:40.250000");
  EXPECT_TRUE(r.records[1]["number"].is_null());
  EXPECT_TRUE(has_row(r.result, "2020-01-06 10:40:00.000000", "call",
                      "From +14155550100 using com.apple.Telephony during 12.5 seconds"));
  EXPECT_TRUE(has_row(r.result, "2020-01-06 10:41:40.250000", "call",
                      "From None using com.apple.FaceTime during 0.0 seconds"));
  EXPECT_TRUE(r.result.alerts.empty());
  EXPECT_FALSE(r.result.partial());
}

TEST(Calls, NoTableIsUnreadableAndNoDatabaseIsNot) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("HomeDomain", "Library/CallHistoryDB/CallHistory.storedata", "CREATE TABLE other (x);");
  b.finish();
  Scratch out;
  EXPECT_TRUE(scan(b.root(), out, "Calls", "calls").result.partial());
  Scratch d2;
  BackupBuilder b2(d2 / "backup");
  b2.finish();
  Scratch out2;
  auto r2 = scan(b2.root(), out2, "Calls", "calls");
  EXPECT_FALSE(r2.result.partial());
  EXPECT_TRUE(r2.records.empty());
}

}  // namespace

// Calls: ZCALLRECORD records (BLOB numbers as text), timeline, missing table.
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
  auto r = run_ios_module(b.root(), "Calls");
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"isodate": "2020-01-06 10:40:00.000000", "duration": 12.5,
      "location": "United States", "number": "+14155550100", "provider": "com.apple.Telephony"})"));
  EXPECT_EQ(r.records[1]["isodate"], "2020-01-06 10:41:40.250000");
  EXPECT_TRUE(r.records[1]["number"].is_null());
  EXPECT_TRUE(has_timeline_row(r.result, "2020-01-06 10:40:00.000000", "call",
                               "From +14155550100 using com.apple.Telephony during 12.5 seconds"));
  EXPECT_TRUE(has_timeline_row(r.result, "2020-01-06 10:41:40.250000", "call",
                               "From None using com.apple.FaceTime during 0.0 seconds"));
  EXPECT_TRUE(r.result.alerts.empty());
  EXPECT_FALSE(r.result.partial());
}

TEST(Calls, NoTableIsUnreadableAndNoDatabaseIsNot) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("HomeDomain", "Library/CallHistoryDB/CallHistory.storedata", "CREATE TABLE other (x);");
  b.finish();
  EXPECT_TRUE(run_ios_module(b.root(), "Calls").result.partial());
  Scratch d2;
  BackupBuilder b2(d2 / "backup");
  b2.finish();
  auto r2 = run_ios_module(b2.root(), "Calls");
  EXPECT_FALSE(r2.result.partial());
  EXPECT_TRUE(r2.records.empty());
}

}  // namespace

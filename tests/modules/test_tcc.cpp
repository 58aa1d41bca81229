// TCC over fixtures built from SQL text: the three schemas, indicator matches, timeline.
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

const char* kStix = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"TestSpy"},
 {"type":"indicator","id":"indicator--1","pattern":"[process:name='Launch']","pattern_type":"stix"},
 {"type":"indicator","id":"indicator--2","pattern":"[process:name='roleaccountd']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"},
 {"type":"relationship","id":"relationship--2","source_ref":"indicator--2","target_ref":"malware--1"}]})";

ModuleRun run_tcc(const Scratch& dir, const std::string& sql, bool raw = false) {
  BackupBuilder b(dir / "backup");
  if (raw) b.add_file("HomeDomain", "Library/TCC/TCC.db", sql);
  else b.add_sqlite("HomeDomain", "Library/TCC/TCC.db", sql);
  b.finish();
  return run_ios_module(dir / "backup", "TCC", kStix);
}

const char* kV3 =
    "CREATE TABLE access (service TEXT NOT NULL, client TEXT NOT NULL, client_type INTEGER NOT NULL,"
    " auth_value INTEGER NOT NULL, auth_reason INTEGER NOT NULL, auth_version INTEGER NOT NULL, csreq BLOB,"
    " policy_id INTEGER, indirect_object_identifier_type INTEGER, indirect_object_identifier TEXT NOT NULL"
    " DEFAULT 'UNUSED', indirect_object_code_identity BLOB, flags INTEGER, last_modified INTEGER NOT NULL,"
    " PRIMARY KEY (service, client, client_type, indirect_object_identifier));"
    "INSERT INTO access VALUES ('kTCCServiceUbiquity', 'com.apple.Preferences', 0, 2, 0, 1, NULL, NULL, NULL,"
    " 'UNUSED', NULL, 0, 1597237996);"
    "INSERT INTO access VALUES ('kTCCServiceLiverpool', 'Launch', 0, 2, 5, 1, NULL, NULL, NULL, 'UNUSED', NULL,"
    " 0, 1638559923);"
    "INSERT INTO access VALUES ('kTCCServiceCamera', '/usr/libexec/roleaccountd', 1, 0, 2, 1, NULL, NULL, NULL,"
    " 'UNUSED', NULL, 0, 1638559924);"
    "INSERT INTO access VALUES ('kTCCServiceMicrophone', 'LaunchX', 0, 3, 12, 1, NULL, NULL, NULL, 'UNUSED',"
    " NULL, 0, 1638559925);"
    "INSERT INTO access VALUES ('kTCCServicePhotos', 'com.x', 0, 7, 99, 1, NULL, NULL, NULL, 'UNUSED', NULL,"
    " 0, 1638559926);";

TEST(Tcc, V3RecordsAlertsAndTimeline) {
  Scratch d;
  auto r = run_tcc(d, kV3);
  ASSERT_EQ(r.records.size(), 5u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"service": "kTCCServiceUbiquity", "client": "com.apple.Preferences",
      "client_type": "bundle_id", "auth_value": "allowed", "auth_reason_desc": "unknown",
      "last_modified": "2020-08-12 13:13:16.000000"})"));
  std::vector<std::string> keys;
  for (auto& [k, v] : r.records[0].items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"service", "client", "client_type", "auth_value",
                                             "auth_reason_desc", "last_modified"}));
  EXPECT_EQ(r.records[1]["auth_reason_desc"], "service_policy");
  EXPECT_EQ(r.records[2]["client_type"], "absolute_path");
  EXPECT_EQ(r.records[2]["auth_value"], "denied");
  EXPECT_EQ(r.records[2]["auth_reason_desc"], "user_consent");
  EXPECT_EQ(r.records[3]["auth_value"], "limited");
  EXPECT_EQ(r.records[3]["auth_reason_desc"], "app_type_policy");
  EXPECT_EQ(r.records[4]["auth_value"], "");
  EXPECT_EQ(r.records[4]["auth_reason_desc"], "unknown");
  // Launch and the absolute path of roleaccountd match; LaunchX does not.
  ASSERT_EQ(r.result.alerts.size(), 2u);
  EXPECT_EQ(r.result.alerts[0].level, Level::Critical);
  EXPECT_EQ(r.result.alerts[0].message,
            "Found a known suspicious process name \"Launch\" matching indicators from \"TestSpy\"");
  EXPECT_EQ(r.result.alerts[0].event_time, "");
  EXPECT_EQ(r.result.alerts[1].matched->value, "roleaccountd");
  ASSERT_EQ(r.result.timeline.size(), 5u);
  EXPECT_EQ(r.result.timeline[0].timestamp, "2020-08-12 13:13:16.000000");
  EXPECT_EQ(r.result.timeline[0].plugin, "TCC");
  EXPECT_EQ(r.result.timeline[0].event, "AccessRequest");
  EXPECT_EQ(r.result.timeline[0].description, "Access to kTCCServiceUbiquity by com.apple.Preferences allowed");
  EXPECT_EQ(r.result.timeline[2].description, "Access to kTCCServiceCamera by /usr/libexec/roleaccountd denied");
  EXPECT_FALSE(r.result.partial());
}

TEST(Tcc, V2Schema) {
  Scratch d;
  auto r = run_tcc(d,
                   "CREATE TABLE access (service TEXT, client TEXT, client_type INTEGER, allowed INTEGER,"
                   " prompt_count INTEGER, csreq BLOB, last_modified INTEGER);"
                   "INSERT INTO access VALUES ('kTCCServiceCamera', 'Launch', 0, 1, 1, NULL, 1500000000);"
                   "INSERT INTO access VALUES ('kTCCServicePhotos', 'com.x', 0, 0, 2, NULL, 1500000001);");
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"service": "kTCCServiceCamera", "client": "Launch",
      "client_type": "bundle_id", "allowed_value": "allowed", "prompt_count": 1,
      "last_modified": "2017-07-14 02:40:00.000000"})"));
  EXPECT_EQ(r.records[1]["allowed_value"], "denied");
  ASSERT_EQ(r.result.timeline.size(), 2u);
  EXPECT_EQ(r.result.timeline[0].description, "Access to kTCCServiceCamera by Launch allowed");
  EXPECT_EQ(r.result.alerts.size(), 1u);
}

TEST(Tcc, V1SchemaHasNoTimeline) {
  Scratch d;
  auto r = run_tcc(d,
                   "CREATE TABLE access (service TEXT, client TEXT, client_type INTEGER, allowed INTEGER,"
                   " prompt_count INTEGER, csreq BLOB);"
                   "INSERT INTO access VALUES ('kTCCServiceAddressBook', 'com.y', 0, 1, 0, NULL);");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"service": "kTCCServiceAddressBook", "client": "com.y",
      "client_type": "bundle_id", "allowed_value": "allowed", "prompt_count": 0})"));
  EXPECT_TRUE(r.result.timeline.empty());
}

TEST(Tcc, MissingTableAndUnknownSchemaAreUnreadable) {
  Scratch d;
  auto r = run_tcc(d, "CREATE TABLE policies (id INTEGER);");
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.partial());
  Scratch d2;
  auto r2 = run_tcc(d2, "CREATE TABLE access (service TEXT, client TEXT, weird INTEGER);"
                        "INSERT INTO access VALUES ('a', 'b', 1);");
  EXPECT_TRUE(r2.records.empty());
  EXPECT_TRUE(r2.result.partial());
  Scratch d3;
  auto r3 = run_tcc(d3, std::string(5000, 'X'), true);
  EXPECT_TRUE(r3.records.empty());
  EXPECT_TRUE(r3.result.partial());
}

TEST(Tcc, CorpusMatchesMvtRecords) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto backup = shared / "corpus/mvt/ios_backup";
  if (!std::filesystem::exists(backup / "Manifest.db")) GTEST_SKIP() << "corpus backup not found";
  std::string err;
  auto src = IosBackupSource::open(backup, &err);
  ASSERT_TRUE(src) << err;
  Scratch d;
  IndicatorSet set;
  ASSERT_TRUE(set.load_file(shared / "corpus/mvt-results/test.stix2"));
  ModuleRunOptions o;
  o.out_dir = d / "out";
  o.indicators = &set;
  run_ios_module(*src, "TCC", "", o);
  auto mvt = shared / "corpus/mvt-results/ios_check_backup";
  EXPECT_EQ(Json::parse(slurp(d / "out" / "tcc.json")), Json::parse(slurp(mvt / "tcc.json")));
  // Only test.stix2 loaded: the one MVT alert (MVT reports the first matching indicator).
  EXPECT_EQ(Json::parse(slurp(d / "out" / "tcc_detected.json")), Json::parse(slurp(mvt / "tcc_detected.json")));
}

}  // namespace

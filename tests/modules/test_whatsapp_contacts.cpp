// WhatsappContacts: ContactsV2.sqlite records, probed columns, labels, timeline rows.
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
 {"type":"malware","id":"malware--1","name":"Spy"},
 {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='whatsapp.net']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"}]})";

constexpr const char* kDomain = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared";

const char* kSchema =
    "CREATE TABLE ZWAADDRESSBOOKCONTACT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFULLNAME BLOB,"
    " ZGIVENNAME BLOB, ZLASTNAME BLOB, ZUSERNAME BLOB, ZBUSINESSNAME BLOB, ZPHONENUMBER BLOB,"
    " ZLOCALIZEDPHONENUMBER BLOB, ZWHATSAPPID BLOB, ZLID BLOB, ZABOUTTEXT BLOB, ZABOUTEMOJI BLOB, ZNOTES BLOB,"
    " ZDISAPPEARINGMODEDURATION REAL, ZDISAPPEARINGMODETIMESTAMP REAL, ZABOUTTIMESTAMP REAL,"
    " ZABOUTEXPIRATIONTIMESTAMP REAL, ZLASTUPDATED REAL, ZPHONESTATUS INTEGER, ZSYNCPOLICY INTEGER);";

bool has_row(const ScanResult& r, const std::string& ts, const std::string& event, const std::string& desc) {
  for (auto& t : r.timeline)
    if (t.plugin == "WhatsappContacts" && t.timestamp == ts && t.event == event && t.description == desc) return true;
  return false;
}

TEST(WhatsappContacts, RecordsLabelsAndTimeline) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite(kDomain, "ContactsV2.sqlite",
               std::string(kSchema) +
                   "INSERT INTO ZWAADDRESSBOOKCONTACT VALUES (1, 1, 1, CAST('Alice Example' AS BLOB),"
                   " CAST('Alice' AS BLOB), CAST('Example' AS BLOB), CAST('alice.example' AS BLOB), NULL,"
                   " CAST('+14155550100' AS BLOB), CAST('(415) 555-0100' AS BLOB),"
                   " CAST('14155550100@s.whatsapp.net' AS BLOB), CAST('100000000000001@lid' AS BLOB),"
                   " CAST('Hey there! I am using WhatsApp.' AS BLOB), NULL, NULL, 86400.0, 775000000.0, 774000000.0,"
                   " 777000000.0, 776000000.0, 1, 1);"
                   "INSERT INTO ZWAADDRESSBOOKCONTACT VALUES (2, 1, 1, CAST('Bob Example' AS BLOB), NULL, NULL, NULL,"
                   " NULL, CAST('+14155550101' AS BLOB), NULL, CAST('14155550101@s.whatsapp.net' AS BLOB), NULL, NULL,"
                   " NULL, NULL, NULL, NULL, NULL, NULL, 776000000.0, 1, 1);"
                   "INSERT INTO ZWAADDRESSBOOKCONTACT VALUES (3, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
                   " CAST('3@s.whatsapp.net' AS BLOB), NULL, NULL, NULL, NULL, 604800.0, NULL, NULL, NULL, NULL, 0, 0);"
                   "INSERT INTO ZWAADDRESSBOOKCONTACT VALUES (4, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
                   " CAST('4@s.whatsapp.net' AS BLOB), NULL, NULL, NULL, NULL, 7776000.0, NULL, NULL, NULL, NULL, 0, 0);"
                   "INSERT INTO ZWAADDRESSBOOKCONTACT VALUES (5, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
                   " CAST('5@s.whatsapp.net' AS BLOB), NULL, NULL, NULL, NULL, 3600.0, NULL, NULL, NULL, NULL, 0, 0);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "WhatsappContacts", kStix);
  ASSERT_EQ(r.records.size(), 5u);
  EXPECT_EQ(r.records[0], Json::parse(R"({
        "row_pk": 1, "whatsapp_id": "14155550100@s.whatsapp.net", "lid": "100000000000001@lid",
        "phone_number": "+14155550100", "localized_phone_number": "(415) 555-0100", "full_name": "Alice Example",
        "given_name": "Alice", "last_name": "Example", "user_name": "alice.example", "business_name": null,
        "about_text": "Hey there! I am using WhatsApp.", "about_emoji": null, "notes": null,
        "disappearing_mode_duration": 86400.0, "disappearing_mode_timestamp": "2025-07-23 21:46:40.000000",
        "about_timestamp": "2025-07-12 08:00:00.000000", "about_expiration_timestamp": "2025-08-16 01:20:00.000000",
        "last_updated": "2025-08-04 11:33:20.000000", "phone_status": 1, "sync_policy": 1,
        "disappearing_mode_is_on": true, "disappearing_mode_label": "24 hours"})"));
  std::vector<std::string> keys;
  for (auto& [k, v] : r.records[0].items()) keys.push_back(k);
  EXPECT_EQ(keys.front(), "row_pk");
  EXPECT_EQ(keys[13], "disappearing_mode_duration");
  EXPECT_EQ(keys.back(), "disappearing_mode_label");
  EXPECT_EQ(r.records[1]["disappearing_mode_is_on"], false);
  EXPECT_EQ(r.records[1]["disappearing_mode_label"], "off");
  EXPECT_TRUE(r.records[1]["disappearing_mode_timestamp"].is_null());
  EXPECT_EQ(r.records[2]["disappearing_mode_label"], "7 days");
  EXPECT_EQ(r.records[3]["disappearing_mode_label"], "90 days");
  EXPECT_EQ(r.records[4]["disappearing_mode_label"], "3600 seconds");

  // No indicator checks at all (the JIDs contain whatsapp.net).
  EXPECT_TRUE(r.result.alerts.empty());

  EXPECT_TRUE(has_row(r.result, "2025-07-12 08:00:00.000000", "about_changed",
                      "WhatsApp about text of 14155550100@s.whatsapp.net (Alice Example) changed to "
                      "\"Hey there! I am using WhatsApp.\""));
  EXPECT_TRUE(has_row(r.result, "2025-07-23 21:46:40.000000", "disappearing_mode_set",
                      "WhatsApp disappearing messages timer set to '24 hours' for 14155550100@s.whatsapp.net "
                      "(Alice Example)"));
  EXPECT_TRUE(has_row(r.result, "2025-08-04 11:33:20.000000", "contact_last_updated",
                      "WhatsApp contact record for 14155550101@s.whatsapp.net (Bob Example) updated"));
  EXPECT_TRUE(has_row(r.result, "2025-08-16 01:20:00.000000", "about_expiration",
                      "WhatsApp about text of 14155550100@s.whatsapp.net (Alice Example) scheduled to expire"));
  EXPECT_EQ(r.result.timeline.size(), 5u);
}

TEST(WhatsappContacts, OlderSchemaMissingColumns) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite(kDomain, "ContactsV2.sqlite",
               "CREATE TABLE ZWAADDRESSBOOKCONTACT (Z_PK INTEGER PRIMARY KEY, ZFULLNAME TEXT, ZPHONENUMBER TEXT,"
               " ZWHATSAPPID TEXT, ZLASTUPDATED REAL);"
               "INSERT INTO ZWAADDRESSBOOKCONTACT VALUES (1, 'Old', '+1555', '1555@s.whatsapp.net', 700000000.0);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "WhatsappContacts", kStix);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].size(), 22u);
  EXPECT_TRUE(r.records[0]["lid"].is_null());
  EXPECT_TRUE(r.records[0]["disappearing_mode_duration"].is_null());
  EXPECT_EQ(r.records[0]["disappearing_mode_label"], "off");
  EXPECT_EQ(r.records[0]["last_updated"], "2023-03-08 20:26:40.000000");
  EXPECT_FALSE(r.result.partial());
}

TEST(WhatsappContacts, MissingTableIsUnreadable) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite(kDomain, "ContactsV2.sqlite", "CREATE TABLE ZOTHER (a);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "WhatsappContacts", kStix);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.partial());
}

}  // namespace

// InteractionC: APOLLO query, WhatsApp LID/JID/phone resolution from ContactsV2 and LID.sqlite,
// fallback schemas, timeline (creation-date divergence, contact aggregates).
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

constexpr const char* kWa = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared";

const char* kSchema =
    "CREATE TABLE ZINTERACTIONS (Z_PK INTEGER PRIMARY KEY, ZSENDER INTEGER, ZSTARTDATE REAL, ZENDDATE REAL,"
    " ZCREATIONDATE REAL, ZBUNDLEID TEXT, ZACCOUNT TEXT, ZTARGETBUNDLEID TEXT, ZDIRECTION INTEGER,"
    " ZRECIPIENTCOUNT INTEGER, ZDOMAINIDENTIFIER TEXT, ZISRESPONSE INTEGER, ZCONTENTURL TEXT, ZLOCATIONUUID TEXT,"
    " ZGROUPNAME TEXT, ZDERIVEDINTENTIDENTIFIER TEXT, ZMECHANISM INTEGER);"
    "CREATE TABLE ZCONTACTS (Z_PK INTEGER PRIMARY KEY, ZDISPLAYNAME TEXT, ZIDENTIFIER TEXT, ZPERSONID TEXT,"
    " ZCUSTOMIDENTIFIER TEXT, ZINCOMINGRECIPIENTCOUNT INTEGER, ZINCOMINGSENDERCOUNT INTEGER,"
    " ZOUTGOINGRECIPIENTCOUNT INTEGER, ZCREATIONDATE REAL, ZFIRSTINCOMINGRECIPIENTDATE REAL,"
    " ZFIRSTINCOMINGSENDERDATE REAL, ZFIRSTOUTGOINGRECIPIENTDATE REAL, ZLASTINCOMINGSENDERDATE REAL,"
    " ZLASTINCOMINGRECIPIENTDATE REAL, ZLASTOUTGOINGRECIPIENTDATE REAL);"
    "CREATE TABLE ZATTACHMENT (Z_PK INTEGER PRIMARY KEY, ZCONTENTTEXT TEXT, ZUTI TEXT, ZCONTENTURL TEXT,"
    " ZSIZEINBYTES INTEGER, ZPHOTOLOCALIDENTIFIER TEXT, ZIDENTIFIER BLOB, ZCLOUDIDENTIFIER TEXT);"
    "CREATE TABLE Z_1INTERACTIONS (Z_1ATTACHMENTS INTEGER, Z_3INTERACTIONS INTEGER);"
    "CREATE TABLE Z_2INTERACTIONRECIPIENT (Z_2RECIPIENTS INTEGER, Z_3INTERACTIONRECIPIENT INTEGER);";

const char* kRows =
    "INSERT INTO ZCONTACTS VALUES (1, NULL, '100000000000001@lid', NULL, '100000000000001@lid', NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL, NULL, NULL);"
    "INSERT INTO ZCONTACTS VALUES (2, NULL, '+14155550100', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL);"
    "INSERT INTO ZCONTACTS VALUES (3, 'Bob Example', '+14155550101', NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " 778600000.0, NULL, 779200000.0, NULL, NULL);"
    "INSERT INTO ZCONTACTS VALUES (4, NULL, '200000000000002@lid', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL);"
    "INSERT INTO ZCONTACTS VALUES (5, NULL, '14155550102@s.whatsapp.net', NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    " NULL, NULL, NULL, NULL, NULL);"
    "INSERT INTO ZINTERACTIONS VALUES (1, 1, 779000000.0, 779000000.0, 779000000.0, 'net.whatsapp.WhatsApp', NULL,"
    " NULL, 0, 1, NULL, 0, NULL, NULL, NULL, NULL, NULL);"
    "INSERT INTO ZINTERACTIONS VALUES (2, NULL, 779100000.0, 779100000.0, 779100000.0, 'net.whatsapp.WhatsApp', NULL,"
    " NULL, 1, 1, '100000000000001@lid', 0, NULL, NULL, NULL, NULL, NULL);"
    "INSERT INTO ZINTERACTIONS VALUES (3, 3, 779200000.0, 779200000.0, 786976000.0, 'com.apple.MobileSMS', NULL, NULL,"
    " 0, 1, NULL, 0, NULL, NULL, NULL, NULL, NULL);"
    "INSERT INTO ZINTERACTIONS VALUES (4, 4, 779300000.0, 779300000.0, 779300000.0, 'net.whatsapp.WhatsApp', NULL,"
    " NULL, 0, 1, NULL, 0, NULL, NULL, 'Team', NULL, NULL);"
    "INSERT INTO ZINTERACTIONS VALUES (5, 5, 779400000.0, 779400000.0, 779400000.0, 'net.whatsapp.WhatsApp', NULL,"
    " NULL, 0, 1, NULL, 0, NULL, NULL, NULL, NULL, NULL);"
    "INSERT INTO Z_2INTERACTIONRECIPIENT VALUES (2, 2);";

void add_whatsapp(BackupBuilder& b) {
  b.add_sqlite(kWa, "ContactsV2.sqlite",
               "CREATE TABLE ZWAADDRESSBOOKCONTACT (Z_PK INTEGER PRIMARY KEY, ZWHATSAPPID TEXT, ZLID TEXT,"
               " ZPHONENUMBER TEXT, ZFULLNAME TEXT, ZGIVENNAME TEXT);"
               "INSERT INTO ZWAADDRESSBOOKCONTACT VALUES (1, '14155550100@s.whatsapp.net', '100000000000001@lid',"
               " '+14155550100', 'Alice Example', 'Alice');"
               "INSERT INTO ZWAADDRESSBOOKCONTACT VALUES (2, '14155550101@s.whatsapp.net', NULL, '+14155550101',"
               " NULL, 'Bob');"
               "INSERT INTO ZWAADDRESSBOOKCONTACT VALUES (3, '14155550103@s.whatsapp.net', NULL, '+14155550103',"
               " 'Carol Example', NULL);");
  // 200000000000002 is only in LID.sqlite, paired with Carol's number.
  b.add_sqlite(kWa, "LID.sqlite",
               "CREATE TABLE ZWAPHONENUMBERLIDPAIR (Z_PK INTEGER PRIMARY KEY, ZTIMESTAMP REAL, ZLID TEXT,"
               " ZPHONENUMBER TEXT);"
               "INSERT INTO ZWAPHONENUMBERLIDPAIR VALUES (1, 777800000.0, '200000000000002', '14155550103');");
}

TEST(InteractionC, RecordsAndWhatsAppResolution) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("HomeDomain", "Library/CoreDuet/People/interactionC.db", std::string(kSchema) + kRows);
  add_whatsapp(b);
  b.finish();
  auto r = run_ios_module(b.root(), "InteractionC");
  ASSERT_EQ(r.records.size(), 5u);
  const Json& a = r.records[0];
  EXPECT_EQ(a["start_date"], "2025-09-08 04:53:20.000000");
  EXPECT_EQ(a["direction"], "INCOMING");
  EXPECT_EQ(a["attachment_id"], "");
  EXPECT_EQ(a["table_id"], 1);
  EXPECT_EQ(a["sender_resolved_phone_number"], "+14155550100");
  EXPECT_EQ(a["sender_resolved_name"], "Alice Example");
  EXPECT_TRUE(a["recipient_resolved_phone_number"].is_null());
  std::vector<std::string> keys;
  for (auto& [k, v] : a.items()) keys.push_back(k);
  ASSERT_EQ(keys.size(), 45u);
  EXPECT_EQ(keys[38], "table_id");
  EXPECT_EQ(keys[39], "sender_resolved_phone_number");
  EXPECT_EQ(keys[44], "domain_resolved_name");
  // Recipient by phone number: name only; the chat's LID gives both.
  const Json& o = r.records[1];
  EXPECT_EQ(o["direction"], "OUTGOING");
  EXPECT_TRUE(o["recipient_resolved_phone_number"].is_null());
  EXPECT_EQ(o["recipient_resolved_name"], "Alice Example");
  EXPECT_EQ(o["domain_resolved_phone_number"], "+14155550100");
  // Non-WhatsApp records have no resolved fields.
  EXPECT_FALSE(r.records[2].contains("sender_resolved_name"));
  EXPECT_EQ(r.records[2]["interactions_creation_date"], "2025-12-09 12:26:40.000000");
  // A LID only LID.sqlite knows; a JID resolved by its digits, or printed as +digits.
  EXPECT_EQ(r.records[3]["sender_resolved_phone_number"], "+14155550103");
  EXPECT_EQ(r.records[3]["sender_resolved_name"], "Carol Example");
  EXPECT_EQ(r.records[4]["sender_resolved_phone_number"], "+14155550102");
  EXPECT_TRUE(r.records[4]["sender_resolved_name"].is_null());
  EXPECT_TRUE(r.result.alerts.empty());
  EXPECT_FALSE(r.result.partial());

  EXPECT_TRUE(has_timeline_row(r.result, "2025-09-08 04:53:20.000000", "start_date",
                               "[net.whatsapp.WhatsApp] INCOMING from Alice Example (+14155550100) to local user"));
  EXPECT_TRUE(has_timeline_row(r.result, "2025-09-09 08:40:00.000000", "start_date",
                               "[net.whatsapp.WhatsApp] OUTGOING from local user to Alice Example (+14155550100)"));
  EXPECT_TRUE(has_timeline_row(r.result, "2025-12-09 12:26:40.000000", "interactions_creation_date",
                               "Interaction record created 90 days after the event: [com.apple.MobileSMS] INCOMING from Bob "
                               "Example (+14155550101) to local user"));
  EXPECT_TRUE(has_timeline_row(r.result, "2025-09-03 13:46:40.000000", "first_incoming_sender_date",
                               "First incoming interaction from Bob Example (+14155550101)"));
  EXPECT_TRUE(has_timeline_row(r.result, "2025-09-11 16:13:20.000000", "start_date",
                               "[net.whatsapp.WhatsApp] INCOMING from Carol Example (+14155550103) to local user (group: Team)"));
  // Creation dates within an hour of the start are not repeated.
  for (auto& t : r.result.timeline) EXPECT_FALSE(t.event == "interactions_creation_date" && t.timestamp < "2025-12");
}

TEST(InteractionC, OldestSchemaFallback) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("HomeDomain", "Library/CoreDuet/People/interactionC.db",
               "CREATE TABLE ZINTERACTIONS (Z_PK INTEGER PRIMARY KEY, ZSENDER INTEGER, ZSTARTDATE REAL, ZENDDATE REAL,"
               " ZCREATIONDATE REAL, ZBUNDLEID TEXT, ZACCOUNT TEXT, ZDIRECTION INTEGER, ZISRESPONSE INTEGER,"
               " ZMECHANISM INTEGER, ZDOMAINIDENTIFIER TEXT, ZCONTENTURL TEXT, ZLOCATIONUUID TEXT);"
               "CREATE TABLE ZCONTACTS (Z_PK INTEGER PRIMARY KEY, ZDISPLAYNAME TEXT, ZIDENTIFIER TEXT, ZPERSONID TEXT,"
               " ZINCOMINGRECIPIENTCOUNT INTEGER, ZINCOMINGSENDERCOUNT INTEGER, ZOUTGOINGRECIPIENTCOUNT INTEGER,"
               " ZCREATIONDATE REAL, ZFIRSTINCOMINGRECIPIENTDATE REAL, ZFIRSTINCOMINGSENDERDATE REAL,"
               " ZFIRSTOUTGOINGRECIPIENTDATE REAL, ZLASTINCOMINGSENDERDATE REAL, ZLASTINCOMINGRECIPIENTDATE REAL,"
               " ZLASTOUTGOINGRECIPIENTDATE REAL);"
               "INSERT INTO ZCONTACTS VALUES (1, 'Dan', 'dan@example.org', NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
               " NULL, NULL, 0, NULL);"
               "INSERT INTO ZINTERACTIONS VALUES (1, 1, 600000000, 600000000, 600000000, 'com.apple.mobilemail', NULL,"
               " 1, 0, 3, NULL, NULL, NULL);");
  b.finish();
  auto r = run_ios_module(b.root(), "InteractionC");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0]["direction"], "OUTGOING");
  EXPECT_EQ(r.records[0]["mechanism"], 3);
  EXPECT_EQ(r.records[0]["last_incoming_recipient_date"], "0");
  EXPECT_FALSE(r.records[0].contains("recipient_count"));
  EXPECT_EQ(r.records[0].begin().key(), "start_date");
  EXPECT_FALSE(r.result.partial());
}

}  // namespace

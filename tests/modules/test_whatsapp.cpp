// Whatsapp: messages and links, LID pairs (LID.sqlite without a Manifest row), chat sessions.
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
 {"type":"malware","id":"malware--1","name":"TestMalware"},
 {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='example.org']","pattern_type":"stix"},
 {"type":"indicator","id":"indicator--2","pattern":"[domain-name:value='whatsapp.net']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"},
 {"type":"relationship","id":"relationship--2","source_ref":"indicator--2","target_ref":"malware--1"}]})";

constexpr const char* kDomain = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared";

const char* kChatSchema =
    "CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, ZCHATSESSION INTEGER, ZFROMJID TEXT, ZTOJID TEXT,"
    " ZTEXT TEXT, ZMESSAGEDATE REAL, ZMESSAGETYPE INTEGER, ZISFROMME INTEGER);"
    "CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, ZMESSAGE INTEGER, ZAUTHORNAME TEXT, ZMEDIAURL TEXT);"
    "CREATE TABLE ZWAMESSAGEDATAITEM (Z_PK INTEGER PRIMARY KEY, ZMESSAGE INTEGER, ZCONTENT1 TEXT, ZCONTENT2 TEXT,"
    " ZMATCHEDTEXT TEXT, ZSUMMARY TEXT, ZTITLE TEXT);"
    "CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, ZCONTACTJID TEXT, ZPARTNERNAME TEXT, ZSESSIONTYPE INTEGER,"
    " ZARCHIVED INTEGER, ZREMOVED INTEGER, ZHIDDEN INTEGER, ZMESSAGECOUNTER INTEGER, ZLASTMESSAGEDATE REAL,"
    " ZGROUPINFO INTEGER);"
    "CREATE TABLE ZWAGROUPINFO (Z_PK INTEGER PRIMARY KEY, ZCHATSESSION INTEGER, ZCREATIONDATE REAL);";

const char* kChatData =
    "INSERT INTO ZWAMESSAGE VALUES (1, 1, '14155550100@s.whatsapp.net', NULL, 'Hi', 778000000.0, 0, 0);"
    "INSERT INTO ZWAMESSAGE VALUES (2, 1, NULL, '14155550100@s.whatsapp.net', 'Check https://example.org/news',"
    " 778100000.0, 0, 1);"
    "INSERT INTO ZWAMESSAGE VALUES (3, 2, '14155550101@s.whatsapp.net', NULL, 'Welcome', 778200000.0, 0, 0);"
    "INSERT INTO ZWAMESSAGE VALUES (4, 3, '14155550102@s.whatsapp.net', NULL, NULL, 778250000.0, 1, 0);"
    "INSERT INTO ZWAMEDIAITEM VALUES (1, 4, 'Carol', 'https://mmg.whatsapp.net/d/f/abc.enc');"
    "INSERT INTO ZWAMESSAGEDATAITEM VALUES (1, 4, 'https://example.org.evil.test/x', NULL,"
    " 'see https://notexample.org/', 'A summary', 'A title');"
    "INSERT INTO ZWACHATSESSION VALUES (1, '100000000000001@lid', 'Alice Example', 0, 0, 0, 0, 2, 778100000.0, NULL);"
    "INSERT INTO ZWACHATSESSION VALUES (2, '120000000000000001@g.us', 'Example Group', 1, 0, 0, 0, 2, 778300000.0, 1);"
    "INSERT INTO ZWACHATSESSION VALUES (3, '14155550102@s.whatsapp.net', 'Carol', 0, 0, 0, 0, 1, 778250000.0, NULL);"
    "INSERT INTO ZWACHATSESSION VALUES (4, '100000000000009@lid', 'Nobody', 0, 1, 0, 0, 0, NULL, NULL);"
    "INSERT INTO ZWAGROUPINFO VALUES (1, 2, 777500000.0);";

const char* kLidSql =
    "CREATE TABLE ZWAPHONENUMBERLIDPAIR (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZTIMESTAMP REAL,"
    " ZLID TEXT, ZPHONENUMBER TEXT);"
    "INSERT INTO ZWAPHONENUMBERLIDPAIR VALUES (1, 3, 1, 777800000.0, '100000000000001', '14155550100');";

// LID.sqlite is stored under its derived fileID but has no Manifest row.
void add_unlisted(const std::filesystem::path& root, const std::string& rel, const std::string& sql) {
  std::string id = IosBackupSource::file_id(kDomain, rel);
  make_sqlite(root / id.substr(0, 2) / id, sql);
}

bool has_row(const ScanResult& r, const std::string& ts, const std::string& event, const std::string& desc) {
  for (auto& t : r.timeline)
    if (t.plugin == "Whatsapp" && t.timestamp == ts && t.event == event && t.description == desc) return true;
  return false;
}

TEST(Whatsapp, MessagesPairsAndSessions) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite(kDomain, "ChatStorage.sqlite", std::string(kChatSchema) + kChatData);
  b.finish();
  add_unlisted(dir / "backup", "LID.sqlite", kLidSql);
  auto r = run_ios_module(dir / "backup", "Whatsapp", kStix);

  ASSERT_EQ(r.records.size(), 4u + 1u + 4u);
  const Json& m2 = r.records[1];
  std::vector<std::string> keys;
  for (auto& [k, v] : m2.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"Z_PK", "ZCHATSESSION", "ZFROMJID", "ZTOJID", "ZTEXT", "ZMESSAGEDATE",
                                            "ZMESSAGETYPE", "ZISFROMME", "ZAUTHORNAME", "ZMEDIAURL", "ZCONTENT1",
                                            "ZCONTENT2", "ZMATCHEDTEXT", "ZSUMMARY", "ZTITLE", "isodate", "links"}));
  EXPECT_EQ(m2["isodate"], "2025-08-28 18:53:20.000000");
  EXPECT_EQ(m2["links"], Json::array({"https://example.org/news"}));
  EXPECT_FALSE(r.records[0].contains("links"));
  // WhatsApp's own media host is not a link; data item links are.
  EXPECT_EQ(r.records[3]["links"], Json::array({"https://notexample.org/", "https://example.org.evil.test/x"}));
  EXPECT_EQ(r.records[3]["ZAUTHORNAME"], "Carol");

  const Json& pair = r.records[4];
  EXPECT_EQ(pair, Json::parse(R"({"record_type":"lid_phone_number_pair","lid":"100000000000001",
      "phone_number":"14155550100","pair_timestamp":"2025-08-25 07:33:20.000000"})"));

  const Json& s1 = r.records[5];
  keys.clear();
  for (auto& [k, v] : s1.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"session_pk", "contact_jid", "partner_name", "session_type", "archived",
                                            "removed", "message_counter", "last_message_date", "group_creation_date",
                                            "first_stored_message_date", "last_stored_message_date",
                                            "stored_message_count", "record_type", "partner_resolved_phone_number"}));
  EXPECT_EQ(s1["partner_resolved_phone_number"], "+14155550100");
  EXPECT_EQ(s1["stored_message_count"], 2);
  EXPECT_TRUE(s1["group_creation_date"].is_null());
  const Json& s2 = r.records[6];
  EXPECT_EQ(s2["group_creation_date"], "2025-08-21 20:13:20.000000");
  EXPECT_EQ(s2["first_stored_message_date"], "2025-08-29 22:40:00.000000");
  EXPECT_EQ(s2["stored_message_count"], 1);
  EXPECT_TRUE(s2["partner_resolved_phone_number"].is_null());
  EXPECT_EQ(r.records[7]["partner_resolved_phone_number"], "+14155550102");
  const Json& s4 = r.records[8];
  EXPECT_TRUE(s4["partner_resolved_phone_number"].is_null());
  EXPECT_EQ(s4["stored_message_count"], 0);
  EXPECT_TRUE(s4["first_stored_message_date"].is_null());

  // Indicators: example.org matches message 2 only (look-alikes and WhatsApp's media host
  // are not matched).
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].event["Z_PK"], 2);
  EXPECT_EQ(r.result.alerts[0].level, Level::Critical);
  ASSERT_EQ(r.result.urls.size(), 3u);
  EXPECT_EQ(r.result.urls[0]["url"], "https://example.org/news");
  EXPECT_EQ(r.result.urls[0]["source"], "whatsapp");
  EXPECT_EQ(r.result.urls[0]["timestamp"], "2025-08-28 18:53:20.000000");

  EXPECT_TRUE(has_row(r.result, "2025-08-27 15:06:40.000000", "message", "'Hi' from 14155550100@s.whatsapp.net"));
  EXPECT_TRUE(has_row(r.result, "2025-08-28 18:53:20.000000", "message",
                      "'Check https://example.org/news' from None - Embedded links: https://example.org/news"));
  EXPECT_TRUE(has_row(r.result, "2025-08-21 20:13:20.000000", "group_created",
                      "WhatsApp group chat 'Example Group' (120000000000000001@g.us) was created"));
  EXPECT_TRUE(has_row(r.result, "2025-08-25 07:33:20.000000", "lid_pair_recorded",
                      "WhatsApp associated LID 100000000000001 with phone number 14155550100"));
  EXPECT_TRUE(has_row(r.result, "2025-08-27 15:06:40.000000", "chat_first_message",
                      "First stored message in WhatsApp chat with 'Alice Example' (+14155550100)"));
  EXPECT_TRUE(has_row(r.result, "2025-08-31 02:26:40.000000", "chat_last_message",
                      "Last message in WhatsApp group chat 'Example Group' (120000000000000001@g.us)"));
  EXPECT_FALSE(r.result.partial());
}

TEST(Whatsapp, MissingLidDatabaseFallsBackToContacts) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite(kDomain, "ChatStorage.sqlite", std::string(kChatSchema) + kChatData);
  b.add_sqlite(kDomain, "ContactsV2.sqlite",
               "CREATE TABLE ZWAADDRESSBOOKCONTACT (Z_PK INTEGER PRIMARY KEY, ZLID BLOB, ZPHONENUMBER BLOB);"
               "INSERT INTO ZWAADDRESSBOOKCONTACT VALUES (1, CAST('100000000000009@lid' AS BLOB),"
               " CAST('+33100000009' AS BLOB));");
  b.finish();
  auto r = run_ios_module(dir / "backup", "Whatsapp", kStix);
  ASSERT_EQ(r.records.size(), 4u + 4u);
  for (auto& rec : r.records) EXPECT_NE(rec.value("record_type", ""), "lid_phone_number_pair");
  EXPECT_TRUE(r.records[4]["partner_resolved_phone_number"].is_null());  // @lid without a pair
  EXPECT_EQ(r.records[7]["partner_resolved_phone_number"], "+33100000009");
  EXPECT_FALSE(r.result.partial());
}

TEST(Whatsapp, OldSchemaWithoutMediaOrSessionTables) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite(kDomain, "ChatStorage.sqlite",
               "CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, ZFROMJID TEXT, ZTEXT TEXT, ZMESSAGEDATE REAL);"
               "INSERT INTO ZWAMESSAGE VALUES (1, 'x@s.whatsapp.net', 'go to http://sub.example.org/a', 700000000.0);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "Whatsapp", kStix);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_TRUE(r.records[0]["ZMEDIAURL"].is_null());
  EXPECT_TRUE(r.records[0]["ZTITLE"].is_null());
  EXPECT_EQ(r.records[0]["links"], Json::array({"http://sub.example.org/a"}));
  EXPECT_EQ(r.result.alerts.size(), 1u);
  EXPECT_FALSE(r.result.partial());
}

TEST(Whatsapp, DamagedDatabaseIsUnreadable) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_file(kDomain, "ChatStorage.sqlite", std::string("SQLite format 3") + std::string(200, '\x01'));
  b.finish();
  auto r = run_ios_module(dir / "backup", "Whatsapp", kStix);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.partial());
}

}  // namespace

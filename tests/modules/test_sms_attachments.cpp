// SMSAttachments: attachment records, FORCEDENTRY-style /var/tmp heuristic, file indicators.
#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "core/util.hpp"
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
 {"type":"indicator","id":"indicator--1","pattern":"[file:name='payload.pdf']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"}]})";

const char* kSchema =
    "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, service TEXT);"
    "CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT, text TEXT, handle_id INTEGER,"
    " service TEXT, date INTEGER, is_from_me INTEGER);"
    "CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,"
    " created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT,"
    " transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT,"
    " total_bytes INTEGER DEFAULT 0, is_sticker INTEGER DEFAULT 0);"
    "CREATE TABLE message_attachment_join (message_id INTEGER, attachment_id INTEGER);";

const char* kData =
    "INSERT INTO handle VALUES (1, 'attacker@example.com', 'iMessage');"
    "INSERT INTO message VALUES (1, 'M1', NULL, 1, 'iMessage', 650000000000000000, 0);"
    "INSERT INTO message VALUES (2, 'M2', NULL, 1, 'iMessage', 650000100000000000, 1);"
    // 1: FORCEDENTRY pattern, received -> MEDIUM.
    "INSERT INTO attachment VALUES (1, 'A1', 650000000, 0, '/var/tmp/com.apple.messages/4F2B.gif-1',"
    " 'com.compuserve.gif', 'image/gif', 5, 0, X'62706c697374', '4F2B.gif', 748, 0);"
    // 2: same pattern but sent -> not flagged.
    "INSERT INTO attachment VALUES (2, 'A2', 650000100, 650000101, '/var/tmp/com.apple.messages/X.gif-1',"
    " 'com.compuserve.gif', 'image/gif', 5, 1, NULL, 'X.gif', 10, 0);"
    // 3: ordinary received attachment matching a file-name indicator (HIGH).
    "INSERT INTO attachment VALUES (3, 'A3', 650000200, 0,"
    " '~/Library/SMS/Attachments/ab/11/A3/payload.pdf', 'com.adobe.pdf', 'application/pdf', 5, 0, NULL,"
    " 'payload.pdf', 1000, 0);"
    // 4: no file name and no message (orphan).
    "INSERT INTO attachment VALUES (4, 'A4', 0, 0, NULL, NULL, NULL, 0, 0, NULL, NULL, 0, 1);"
    // 5: /var/tmp but not ending in -1 -> not flagged.
    "INSERT INTO attachment VALUES (5, 'A5', 650000300, 0, '/var/tmp/com.apple.messages/Y.gif', NULL, NULL,"
    " 5, 0, NULL, 'Y.gif', 1, 0);"
    "INSERT INTO message_attachment_join VALUES (1, 1), (2, 2), (1, 3), (1, 5);";

TEST(SmsAttachments, RecordsHeuristicAndIndicators) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite("HomeDomain", "Library/SMS/sms.db", std::string(kSchema) + kData);
  b.finish();
  auto r = run_ios_module(dir / "backup", "SMSAttachments", kStix);
  ASSERT_EQ(r.records.size(), 5u);

  const Json& a1 = r.records[0];
  std::vector<std::string> keys;
  for (auto& [k, v] : a1.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"attachment_id", "ROWID", "guid", "created_date", "start_date", "filename",
                                            "uti", "mime_type", "transfer_state", "is_outgoing", "user_info",
                                            "transfer_name", "total_bytes", "is_sticker", "service", "phone_number",
                                            "isodate", "direction", "has_user_info"}));
  EXPECT_EQ(a1["attachment_id"], 1);
  EXPECT_EQ(a1["user_info"], base64_encode("bplist"));
  EXPECT_EQ(a1["has_user_info"], true);
  EXPECT_EQ(a1["isodate"], "2021-08-07 03:33:20.000000");
  EXPECT_EQ(a1["start_date"], "");
  EXPECT_EQ(a1["direction"], "received");
  EXPECT_EQ(a1["service"], "iMessage");
  EXPECT_EQ(a1["phone_number"], "attacker@example.com");
  EXPECT_EQ(r.records[1]["direction"], "sent");
  EXPECT_EQ(r.records[1]["start_date"], "2021-08-07 03:35:01.000000");
  const Json& a4 = r.records[3];
  EXPECT_EQ(a4["filename"], "NULL");
  EXPECT_EQ(a4["service"], "Unknown");
  EXPECT_TRUE(a4["phone_number"].is_null());
  EXPECT_EQ(a4["isodate"], "");

  std::vector<const Alert*> heur, ioc;
  for (auto& a : r.result.alerts) (a.matched ? ioc : heur).push_back(&a);
  ASSERT_EQ(heur.size(), 1u);
  EXPECT_EQ(heur[0]->level, Level::Medium);
  EXPECT_EQ(heur[0]->message,
            "Suspicious iMessage attachment /var/tmp/com.apple.messages/4F2B.gif-1 on 2021-08-07 03:33:20.000000");
  EXPECT_EQ(heur[0]->event_time, "2021-08-07 03:33:20.000000");
  ASSERT_EQ(ioc.size(), 1u);
  EXPECT_EQ(ioc[0]->level, Level::High);
  EXPECT_EQ(ioc[0]->event["attachment_id"], 3);

  bool found = false;
  for (auto& t : r.result.timeline)
    if (t.plugin == "SMSAttachments" && t.event == "sms_attachment" && t.timestamp == "2021-08-07 03:33:20.000000" &&
        t.description == "iMessage: Attachment '4F2B.gif' received from attacker@example.com with 748 bytes "
                         "(is_sticker: 0, has_user_info: True)")
      found = true;
  EXPECT_TRUE(found);
  EXPECT_FALSE(r.result.partial());
}

TEST(SmsAttachments, NoAttachmentTableIsInformationOnly) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite("HomeDomain", "Library/SMS/sms.db",
               "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT);"
               "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, text TEXT, handle_id INTEGER);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "SMSAttachments", kStix);
  EXPECT_TRUE(r.records.empty());
  EXPECT_FALSE(r.result.partial());
  EXPECT_EQ(r.result.exit_code(), 0);
}

TEST(SmsAttachments, AttachmentTableAloneStillReads) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_sqlite("HomeDomain", "Library/SMS/sms.db",
               "CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY, guid TEXT, created_date INTEGER, filename TEXT,"
               " is_outgoing INTEGER);"
               "INSERT INTO attachment VALUES (1, 'A', 650000000, '/var/tmp/x-1', 0);");
  b.finish();
  auto r = run_ios_module(dir / "backup", "SMSAttachments", kStix);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0]["service"], "Unknown");
  EXPECT_EQ(r.records[0]["has_user_info"], false);
  EXPECT_EQ(r.result.alerts.size(), 1u);
  EXPECT_FALSE(r.result.partial());
}

TEST(SmsAttachments, DamagedDatabaseIsUnreadable) {
  Scratch dir;
  BackupBuilder b(dir / "backup");
  b.add_file("HomeDomain", "Library/SMS/sms.db", std::string(3000, '\x07'));
  b.finish();
  auto r = run_ios_module(dir / "backup", "SMSAttachments", kStix);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.partial());
}

}  // namespace

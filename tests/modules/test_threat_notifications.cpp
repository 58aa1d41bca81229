// ThreatNotifications: Apple threat notifications in Mail (Envelope Index) and in sms.db rows the
// SMS module cannot see (attributedBody only, Apple notification address).
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

TEST(ThreatNotifications, MailAndMessages) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("HomeDomain", "Library/Mail/Envelope Index",
               "CREATE TABLE addresses (ROWID INTEGER PRIMARY KEY, address TEXT, comment TEXT);"
               "CREATE TABLE subjects (ROWID INTEGER PRIMARY KEY, subject TEXT);"
               "CREATE TABLE messages (ROWID INTEGER PRIMARY KEY, sender INTEGER, subject INTEGER,"
               " date_received INTEGER);"
               "INSERT INTO addresses VALUES (1, 'threat-notifications@apple.com', 'Apple');"
               "INSERT INTO addresses VALUES (2, 'friend@example.org', '');"
               "INSERT INTO subjects VALUES (1, 'ALERT: State-sponsored attackers may be targeting your iPhone');"
               "INSERT INTO subjects VALUES (2, 'Lunch?');"
               "INSERT INTO messages VALUES (10, 1, 1, 1636000000);"
               "INSERT INTO messages VALUES (11, 2, 2, 1636000100);");
  b.add_sqlite("HomeDomain", "Library/SMS/sms.db",
               "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT);"
               "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, handle_id INTEGER,"
               " date INTEGER, service TEXT, attributedBody BLOB);"
               "INSERT INTO handle VALUES (1, '+14155550100');"
               "INSERT INTO handle VALUES (2, 'threat-notifications@apple.com');"
               "INSERT INTO message VALUES (1, 'g1', 'ALERT: State-sponsored attackers may be targeting your iPhone', 1,"
               " 650000000000000000, 'SMS', NULL);"
               "INSERT INTO message VALUES (2, 'g2', NULL, 1, 650000000000000000, 'iMessage', CAST('streamtyped NSString"
               " ALERT: Apple detected a targeted mercenary spyware attack against your iPhone' AS BLOB));"
               "INSERT INTO message VALUES (3, 'g3', 'Important', 2, 650000000000000000, 'iMessage', NULL);"
               "INSERT INTO message VALUES (4, 'g4', 'hello', 1, 650000000000000000, 'iMessage', CAST('hello' AS BLOB));");
  b.finish();
  auto r = run_ios_module(b.root(), "ThreatNotifications");
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0]["channel"], "e-mail");
  EXPECT_EQ(r.records[0]["isodate"], "2021-11-04 04:26:40.000000");
  EXPECT_EQ(r.records[0]["sender"], "threat-notifications@apple.com (Apple)");
  EXPECT_EQ(r.records[0]["title"], "ALERT: State-sponsored attackers may be targeting your iPhone");
  EXPECT_EQ(r.records[1]["channel"], "iMessage");
  EXPECT_EQ(r.records[1]["guid"], "g2");
  EXPECT_EQ(r.records[1]["isodate"], "2021-08-07 03:33:20.000000");
  EXPECT_EQ(r.records[1]["reason"],
            "attributedBody contains \"detected a targeted mercenary spyware attack against your iphone\"");
  EXPECT_EQ(r.records[2]["guid"], "g3");
  ASSERT_EQ(r.result.alerts.size(), 3u);
  for (auto& a : r.result.alerts) EXPECT_EQ(a.level, Level::High);
  EXPECT_EQ(r.result.alerts[0].message,
            "Detected a threat notification from Apple received by e-mail on 2021-11-04 04:26:40.000000 (sent by "
            "Apple's threat notification address)");
  EXPECT_EQ(r.result.alerts[0].event_time, "2021-11-04 04:26:40.000000");
  EXPECT_FALSE(r.result.partial());
}

TEST(ThreatNotifications, NothingWithoutDatabases) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.finish();
  auto r = run_ios_module(b.root(), "ThreatNotifications");
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.alerts.empty());
  EXPECT_FALSE(r.result.partial());
}

}  // namespace

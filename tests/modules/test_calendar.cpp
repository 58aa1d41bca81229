// Calendar over fixtures built from SQL text: organizer join, e-mail indicators, the
// QuaDream invitation heuristic, timeline, schema drift.
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
 {"type":"indicator","id":"indicator--1","pattern":"[email-addr:value='attacker@example.org']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"}]})";

ModuleRun run_calendar(const Scratch& dir, const std::string& sql) {
  BackupBuilder b(dir / "backup");
  b.add_sqlite("HomeDomain", "Library/Calendar/Calendar.sqlitedb", sql);
  b.finish();
  return run_ios_module(dir / "backup", "Calendar", kStix);
}

const char* kSchema =
    "CREATE TABLE CalendarItem (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, summary TEXT, location_id INTEGER,"
    " description TEXT, start_date REAL, start_tz TEXT, end_date REAL, end_tz TEXT, all_day INTEGER,"
    " calendar_id INTEGER, organizer_id INTEGER, url TEXT, last_modified REAL, external_id TEXT,"
    " external_mod_tag TEXT, unique_identifier TEXT, hidden INTEGER, UUID TEXT, creation_date REAL,"
    " action TEXT, created_by_id INTEGER);"
    "CREATE TABLE Participant (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, entity_type INTEGER, UUID TEXT,"
    " email TEXT, phone_number TEXT, comment TEXT, last_modified REAL);";

const char* kRows =
    "INSERT INTO Participant VALUES (1, 7, 'a050b517', 'attacker@example.org', '12345678', NULL, NULL);"
    "INSERT INTO Participant VALUES (2, 7, 'b1', 'friend@example.org', NULL, NULL, 702930000.0);"
    "INSERT INTO CalendarItem VALUES (1, 'Super interesting meeting', NULL, 'very very interesting things',"
    " 703502100.0, NULL, 703505700.0, NULL, 0, 1, 1, '', 702930638.0, NULL, NULL, '', 0,"
    " 'FAE72C77-4932-47FD-885C-A084D502F3C4', 702930606.0, '', 0);"
    "INSERT INTO CalendarItem VALUES (2, 'Meeting', NULL, 'Notes', 703502100.0, NULL, 0, NULL, 0, 1, 2,"
    " NULL, NULL, NULL, NULL, NULL, 1, 'QQQ', 702000000.0, NULL, 0);"
    "INSERT INTO CalendarItem VALUES (3, 'Meeting', NULL, 'Notes about it', 703502100.0, NULL, 703505700.0,"
    " NULL, 0, 1, 99, NULL, NULL, NULL, NULL, NULL, 0, 'RRR', NULL, NULL, 0);";

TEST(Calendar, RecordsAsMvt) {
  Scratch d;
  auto r = run_calendar(d, std::string(kSchema) + kRows);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"id": 1, "summary": "Super interesting meeting",
    "description": "very very interesting things", "start_date": "2023-04-18 09:15:00.000000",
    "end_date": "2023-04-18 10:15:00.000000", "all_day": 0, "calendar_id": 1, "organizer_id": 1, "url": "",
    "last_modified": "2023-04-11 18:30:38.000000", "external_id": null, "external_mod_tag": null,
    "unique_identifier": "", "hidden": 0, "uuid": "FAE72C77-4932-47FD-885C-A084D502F3C4",
    "creation_date": "2023-04-11 18:30:06.000000", "action": "", "created_by_id": 0,
    "participant_uuid": "a050b517", "participant_email": "attacker@example.org",
    "participant_phone": "12345678", "participant_comment": null, "participant_last_modified": null})"));
  std::vector<std::string> keys;
  for (auto& [k, v] : r.records[0].items()) keys.push_back(k);
  EXPECT_EQ(keys.front(), "id");
  EXPECT_EQ(keys.back(), "participant_last_modified");
  EXPECT_EQ(keys.size(), 23u);
  EXPECT_EQ(r.records[1]["end_date"], "");  // Mac time 0, as MVT
  EXPECT_EQ(r.records[1]["participant_last_modified"], "2023-04-11 18:20:00.000000");
  EXPECT_TRUE(r.records[2]["participant_email"].is_null());  // organizer row missing
}

TEST(Calendar, EmailIndicatorAndQuadreamHeuristic) {
  Scratch d;
  auto r = run_calendar(d, std::string(kSchema) + kRows);
  ASSERT_EQ(r.result.alerts.size(), 2u);
  const Alert* ioc = nullptr;
  const Alert* qd = nullptr;
  for (auto& a : r.result.alerts) (a.matched ? ioc : qd) = &a;
  ASSERT_TRUE(ioc && qd);
  EXPECT_EQ(ioc->level, Level::Critical);
  EXPECT_EQ(ioc->message,
            "Found a known suspicious email address \"attacker@example.org\" matching indicators from \"TestSpy\"");
  EXPECT_EQ(ioc->event_time, "");
  EXPECT_EQ(qd->level, Level::High);
  EXPECT_EQ(qd->message, "Potential Quadream exploit event identified: QQQ");
  EXPECT_EQ(qd->event["id"], 2);
  EXPECT_EQ(qd->event_time, "2023-04-01 00:00:00.000000");
}

TEST(Calendar, Timeline) {
  Scratch d;
  auto r = run_calendar(d, std::string(kSchema) + kRows);
  std::vector<std::string> events;
  for (auto& t : r.result.timeline) {
    EXPECT_EQ(t.plugin, "Calendar");
    if (t.description ==
        "Calendar event Super interesting meeting (very very interesting things) (invitation by attacker@example.org)")
      events.push_back(t.timestamp + " " + t.event);
  }
  EXPECT_EQ(events, (std::vector<std::string>{"2023-04-11 18:30:06.000000 creation_date",
                                              "2023-04-11 18:30:38.000000 last_modified",
                                              "2023-04-18 09:15:00.000000 start_date",
                                              "2023-04-18 10:15:00.000000 end_date"}));
  bool none = false;
  for (auto& t : r.result.timeline)
    if (t.description == "Calendar event Meeting (Notes about it) (invitation by None)") none = true;
  EXPECT_TRUE(none);
}

TEST(Calendar, SchemaDrift) {
  // No Participant table and columns missing from CalendarItem: records still come out.
  Scratch d;
  auto r = run_calendar(d,
                        "CREATE TABLE CalendarItem (ROWID INTEGER PRIMARY KEY, summary TEXT, description TEXT,"
                        " start_date REAL);"
                        "INSERT INTO CalendarItem VALUES (1, 'Meeting', 'Notes', 703502100.0);");
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0]["start_date"], "2023-04-18 09:15:00.000000");
  EXPECT_TRUE(r.records[0]["uuid"].is_null());
  EXPECT_TRUE(r.records[0]["participant_email"].is_null());
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].message, "Potential Quadream exploit event identified: None");
  EXPECT_FALSE(r.result.partial());
  // No CalendarItem table: unreadable.
  Scratch d2;
  auto r2 = run_calendar(d2, "CREATE TABLE Calendar (ROWID INTEGER PRIMARY KEY);");
  EXPECT_TRUE(r2.records.empty());
  EXPECT_TRUE(r2.result.partial());
}

TEST(Calendar, CorpusMatchesMvt) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto backup = shared / "corpus/mvt/ios_backup";
  if (!std::filesystem::exists(backup / "Manifest.db")) GTEST_SKIP() << "corpus backup not found";
  std::string err;
  auto src = IosBackupSource::open(backup, &err);
  ASSERT_TRUE(src) << err;
  Scratch d;
  IndicatorSet set;
  ASSERT_TRUE(set.load_file(shared / "corpus/mvt-results/test.stix2"));
  ASSERT_TRUE(set.load_file(shared / "corpus/mvt-results/demo.stix2"));
  ModuleRunOptions o;
  o.out_dir = d / "out";
  o.indicators = &set;
  run_ios_module(*src, "Calendar", "", o);
  auto mvt = shared / "corpus/mvt-results/ios_check_backup";
  EXPECT_EQ(Json::parse(slurp(d / "out" / "calendar.json")), Json::parse(slurp(mvt / "calendar.json")));
  EXPECT_EQ(Json::parse(slurp(d / "out" / "calendar_detected.json")),
            Json::parse(slurp(mvt / "calendar_detected.json")));
}

}  // namespace

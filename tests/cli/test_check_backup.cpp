// End-to-end tests of `bridle ios check-backup` through the real binary.
#include <gtest/gtest.h>

#include <map>

#include <algorithm>
#include <fstream>

#include "core/util.hpp"
#include "support/backup_builder.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kStix = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"TestSpy"},
 {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='evil-c2.example.com']","pattern_type":"stix"},
 {"type":"indicator","id":"indicator--2","pattern":"[file:name='implant.plist']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"},
 {"type":"relationship","id":"relationship--2","source_ref":"indicator--2","target_ref":"malware--1"}]})";

std::string sms_sql(const std::string& text) {
  return "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT);"
         "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, handle_id INTEGER,"
         " service TEXT, account TEXT, date INTEGER, date_read INTEGER, is_from_me INTEGER);"
         "INSERT INTO handle VALUES (1, '+15550001111');"
         "INSERT INTO message VALUES (1, 'G1', '" + text + "', 1, 'SMS', NULL, 650000000000000000, 0, 0);";
}

struct Fixture {
  Scratch dir;
  std::filesystem::path backup = dir / "backup";
  std::filesystem::path stix = dir / "test.stix2";
  std::filesystem::path data = dir / "xdg";
  std::vector<std::string> env() const { return {"XDG_DATA_HOME=" + data.string(), "BRIDLE_STIX2="}; }
  explicit Fixture(const std::string& text, bool implant = false) {
    BackupBuilder b(backup);
    b.add_sqlite("HomeDomain", "Library/SMS/sms.db", sms_sql(text));
    if (implant) b.add_file("RootDomain", "Library/Preferences/implant.plist", "x");
    b.finish();
    write_file(stix, kStix);
  }
};

TEST(CheckBackup, CleanBackupExitsZero) {
  Fixture f("hello there http://notevil-c2.example.com/x");
  auto r = run_bridle({"ios", "check-backup", f.backup.string(), "-i", f.stix.string(), "-o",
                       (f.dir / "out").string()}, f.env());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("no known spyware found"), std::string::npos) << r.out;
  EXPECT_TRUE(std::filesystem::exists(f.dir / "out" / "sms.json"));
  // Lower-level findings (e.g. an old iOS version) may exist, but nothing HIGH/CRITICAL.
  if (std::filesystem::exists(f.dir / "out" / "alerts.json")) {
    for (auto& a : Json::parse(slurp(f.dir / "out" / "alerts.json"))) {
      EXPECT_TRUE(a["level"] != "HIGH" && a["level"] != "CRITICAL") << a.dump();
    }
  }
}

TEST(CheckBackup, IndicatorHitExitsOneAndWritesAlerts) {
  Fixture f("click https://a.evil-c2.example.com/p?q=1 now", true);
  auto out = f.dir / "out";
  auto r = run_bridle({"ios", "check-backup", f.backup.string(), "-i", f.stix.string(), "-o", out.string()},
                      f.env());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  Json alerts = Json::array();
  for (auto& a : Json::parse(slurp(out / "alerts.json")))
    if (a["level"] == "HIGH" || a["level"] == "CRITICAL") alerts.push_back(a);
  ASSERT_EQ(alerts.size(), 2u) << alerts.dump(1);
  EXPECT_EQ(alerts[0]["module"], "manifest");
  EXPECT_EQ(alerts[0]["level"], "HIGH");
  EXPECT_EQ(alerts[0]["matched_indicator"]["value"], "implant.plist");
  EXPECT_EQ(alerts[1]["module"], "sms");
  EXPECT_EQ(alerts[1]["level"], "CRITICAL");
  EXPECT_EQ(alerts[1]["matched_indicator"]["value"], "evil-c2.example.com");
  EXPECT_EQ(alerts[1]["matched_indicator"]["name"], "TestSpy");
  EXPECT_EQ(alerts[1]["matched_indicator"]["stix2_file_name"], "test.stix2");
  auto info = Json::parse(slurp(out / "info.json"));
  EXPECT_EQ(info["ioc_files"].size(), 1u);
  EXPECT_EQ(info["ioc_files_sha256"][0]["sha256"], *sha256_file(f.stix));
  EXPECT_FALSE(info["indicators_digest"].get<std::string>().empty());
  EXPECT_FALSE(info["files_read"].empty());
  auto urls = Json::parse(slurp(out / "urls.json"));
  ASSERT_EQ(urls.size(), 1u);
  EXPECT_EQ(urls[0]["url"], "https://a.evil-c2.example.com/p?q=1");
  EXPECT_EQ(urls[0]["source"], "sms");
}

// Large timelines are spilled to sorted runs and merged: the result must be byte-identical
// to the in-memory path (here forced with a tiny spill threshold), duplicates dropped once.
TEST(CheckBackup, SpilledTimelineIsIdentical) {
  Fixture f("click https://evil-c2.example.com/", true);
  {
    BackupBuilder b(f.dir / "big");
    b.add_sqlite("HomeDomain", "Library/SMS/sms.db", sms_sql("hello"));
    for (int i = 0; i < 60; ++i)
      b.add_file("HomeDomain", "Library/f" + std::to_string(i), "x", 1600000000 + (i % 7) * 3600);
    b.finish();
  }
  std::string texts[2], jsonl[2];
  for (int run = 0; run < 2; ++run) {
    auto out = f.dir / ("spill" + std::to_string(run));
    auto env = f.env();
    if (run == 1) env.push_back("BRIDLE_TIMELINE_SPILL_ROWS=7");
    auto r = run_bridle({"ios", "check-backup", (f.dir / "big").string(), "-o", out.string(), "--no-store"}, env);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    texts[run] = slurp(out / "timeline.csv");
    jsonl[run] = slurp(out / "timeline.jsonl");
  }
  EXPECT_GT(std::count(texts[0].begin(), texts[0].end(), '\n'), 60);
  EXPECT_EQ(texts[0], texts[1]);
  EXPECT_EQ(jsonl[0], jsonl[1]);
}

// Alert events beyond the in-memory budget go to a temporary file and are read back when the
// outputs are written: every alert file must be byte-identical to the in-memory path.
TEST(CheckBackup, SpilledAlertEventsAreIdentical) {
  Fixture f("click https://a.evil-c2.example.com/p?q=1 now", true);
  std::map<std::string, std::string> files[2];
  for (int run = 0; run < 2; ++run) {
    auto out = f.dir / ("alerts" + std::to_string(run));
    auto env = f.env();
    if (run == 1) env.push_back("BRIDLE_ALERTS_IN_MEMORY=0");
    auto r = run_bridle({"ios", "check-backup", f.backup.string(), "-i", f.stix.string(), "-o", out.string(),
                         "--no-store"}, env);
    ASSERT_EQ(r.exit_code, 1) << r.err;
    for (const char* name : {"alerts.json", "alerts_timeline.csv", "sms_detected.json", "manifest_detected.json",
                             "timeline.jsonl"})
      files[run][name] = slurp(out / name);
  }
  EXPECT_NE(files[0]["sms_detected.json"].find("evil-c2.example.com"), std::string::npos);
  EXPECT_NE(files[0]["alerts.json"].find("\"text\": \"click https://a.evil-c2"), std::string::npos)
      << files[0]["alerts.json"];
  EXPECT_EQ(files[0], files[1]);
}

TEST(CheckBackup, TimesketchJsonl) {
  Fixture f("click https://evil-c2.example.com/", true);
  auto out = f.dir / "out";
  auto r = run_bridle({"ios", "check-backup", f.backup.string(), "-i", f.stix.string(), "-o", out.string()},
                      f.env());
  ASSERT_EQ(r.exit_code, 1);
  auto text = slurp(out / "timeline.jsonl");
  std::size_t lines = 0;
  bool sms = false;
  for (auto& line : split(text, '\n')) {
    if (line.empty()) continue;
    ++lines;
    auto j = Json::parse(line);
    ASSERT_TRUE(j.contains("message") && j.contains("datetime") && j.contains("timestamp_desc")) << line;
    EXPECT_EQ(j["datetime"].get<std::string>().substr(10, 1), "T");
    EXPECT_TRUE(j["datetime"].get<std::string>().ends_with("+00:00"));
    if (j["module"] == "SMS") {
      sms = true;
      EXPECT_EQ(j["datetime"], "2021-08-07T03:33:20.000000+00:00");
      EXPECT_EQ(j["timestamp"], 1628307200000000LL);
    }
  }
  EXPECT_GE(lines, 3u);
  EXPECT_TRUE(sms);
}

TEST(CheckBackup, OutputIsDeterministic) {
  Fixture f("click https://evil-c2.example.com/", true);
  std::vector<std::string> names = {"alerts.json", "manifest.json", "sms.json", "timeline.csv",
                                    "alerts_timeline.csv", "backup_info.json"};
  std::map<std::string, std::string> first;
  for (int run = 0; run < 2; ++run) {
    auto out = f.dir / ("out" + std::to_string(run));
    auto r = run_bridle({"ios", "check-backup", f.backup.string(), "-i", f.stix.string(), "-o", out.string()},
                        f.env());
    ASSERT_EQ(r.exit_code, 1);
    for (auto& n : names) {
      auto text = slurp(out / n);
      if (run == 0) first[n] = text;
      else EXPECT_EQ(first[n], text) << n;
    }
  }
}

TEST(CheckBackup, EvidenceIsNotChanged) {
  Fixture f("click https://evil-c2.example.com/", true);
  // A WAL sidecar next to a database is the classic trap: it must stay as it is.
  auto before = tree_hashes(f.backup);
  auto r = run_bridle({"ios", "check-backup", f.backup.string(), "-i", f.stix.string(), "-o",
                       (f.dir / "out").string(), "-H"}, f.env());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(before, tree_hashes(f.backup));
  auto info = Json::parse(slurp(f.dir / "out" / "info.json"));
  EXPECT_GE(info["hashes"].size(), 4u);
}

TEST(CheckBackup, NotABackupIsExitTwo) {
  Scratch d;
  write_file(d / "x.txt", "hello");
  auto r = run_bridle({"ios", "check-backup", d.path().string()}, {"XDG_DATA_HOME=" + (d / "xdg").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not an iOS backup"), std::string::npos) << r.err;
  auto r2 = run_bridle({"ios", "check-backup", (d / "missing").string()});
  EXPECT_EQ(r2.exit_code, 2);
}

TEST(CheckBackup, ParentFolderWithOneBackupIsAccepted) {
  Fixture f("hi");
  auto r = run_bridle({"ios", "check-backup", f.dir.path().string(), "-i", f.stix.string()}, f.env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CheckBackup, EncryptedBackupWithoutPasswordIsExitTwo) {
  Fixture f("hi");
  write_file(f.backup / "Manifest.plist", make_plist({{"IsEncrypted", true}}, false));
  auto r = run_bridle({"ios", "check-backup", f.backup.string()}, f.env());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("encrypted backup"), std::string::npos) << r.err;
}

TEST(CheckBackup, UnreadableDatabaseMakesTheRunPartial) {
  Fixture f("hi");
  // Replace sms.db with garbage: the check must say it could not read it (exit 3).
  auto id = sha1_hex("HomeDomain-Library/SMS/sms.db");
  write_file(f.backup / id.substr(0, 2) / id, std::string(4096, 'Z'));
  auto r = run_bridle({"ios", "check-backup", f.backup.string(), "-i", f.stix.string()}, f.env());
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("Could not be checked"), std::string::npos) << r.out;
}

TEST(CheckBackup, ListModulesAndUnknownModule) {
  auto r = run_bridle({"ios", "check-backup", "--list-modules"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Manifest\tmanifest"), std::string::npos);
  Fixture f("hi");
  auto r2 = run_bridle({"ios", "check-backup", f.backup.string(), "-m", "NoSuchModule"}, f.env());
  EXPECT_EQ(r2.exit_code, 2);
  auto r3 = run_bridle({"ios", "check-backup", f.backup.string(), "-m", "SMS", "-o",
                        (f.dir / "o").string()}, f.env());
  EXPECT_EQ(r3.exit_code, 0);
  EXPECT_TRUE(std::filesystem::exists(f.dir / "o" / "sms.json"));
  EXPECT_FALSE(std::filesystem::exists(f.dir / "o" / "manifest.json"));
}

TEST(CheckBackup, IndicatorsFromDataFolderAndEnv) {
  Fixture f("click https://evil-c2.example.com/");
  write_file(f.data / "bridle" / "indicators" / "feed.stix2", kStix);
  auto r = run_bridle({"ios", "check-backup", f.backup.string()}, f.env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("feed.stix2"), std::string::npos);
  Scratch other;
  write_file(other / "sub" / "x.stix2", kStix);
  auto r2 = run_bridle({"ios", "check-backup", f.backup.string()},
                       {"XDG_DATA_HOME=" + (other / "none").string(), "BRIDLE_STIX2=" + other.path().string()});
  EXPECT_EQ(r2.exit_code, 1) << r2.err;
}

TEST(Cli, VersionAndHelp) {
  auto r = run_bridle({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("bridle "), std::string::npos);
  auto h = run_bridle({"help"});
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("Subcommands:"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("android"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("ios"), std::string::npos) << h.out;
  auto h2 = run_bridle({"help", "ios", "check-backup"});
  EXPECT_EQ(h2.exit_code, 0);
  EXPECT_NE(h2.out.find("--iocs"), std::string::npos);
  auto bad = run_bridle({"ios", "no-such-command"});
  EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace

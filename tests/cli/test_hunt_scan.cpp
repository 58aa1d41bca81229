// End-to-end: checks record into the store, `bridle hunt`, `bridle store`, `bridle scan`.
#include <gtest/gtest.h>

#include <cstdlib>

#include "support/backup_builder.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

std::string stix_for(const std::string& domain) {
  return R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"TestSpy"},
 {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value=')" + domain + R"(']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"}]})";
}

std::string sms_sql(const std::string& text) {
  return "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT);"
         "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, handle_id INTEGER,"
         " service TEXT, account TEXT, date INTEGER, date_read INTEGER, is_from_me INTEGER);"
         "INSERT INTO handle VALUES (1, '+15550001111');"
         "INSERT INTO message VALUES (1, 'G1', '" + text + "', 1, 'SMS', NULL, 650000000000000000, 0, 0);";
}

void make_backup(const fs::path& root, const std::string& text, const std::string& serial) {
  BackupBuilder b(root);
  b.add_sqlite("HomeDomain", "Library/SMS/sms.db", sms_sql(text));
  b.finish({{"Serial Number", serial}, {"Device Name", serial + "'s iPhone"}});
}

struct Fleet {
  Scratch dir;
  fs::path phones = dir / "phones";
  fs::path old_iocs = dir / "old.stix2";
  fs::path new_iocs = dir / "new.stix2";
  fs::path data = dir / "xdg";
  std::vector<std::string> env() const { return {"XDG_DATA_HOME=" + data.string(), "BRIDLE_STIX2="}; }
  Fleet() {
    make_backup(phones / "alice", "lunch at noon? https://www.example.com/menu", "SERIALA");
    make_backup(phones / "bob", "update here https://cdn.new-spy.example.net/x.js", "SERIALB");
    write_file(old_iocs, stix_for("old-spy.example.org"));
    write_file(new_iocs, stix_for("new-spy.example.net"));
  }
};

// The store URL each test uses: SQLite in the scratch folder, or PostgreSQL when asked.
std::string sqlite_store(const Fleet& f) { return (f.dir / "store.sqlite").string(); }

}  // namespace

TEST(HuntScan, ChecksRecordAndHuntReportsOnlyTheNewlyMatchingAcquisition) {
  Fleet f;
  std::string store = sqlite_store(f);
  for (auto who : {"alice", "bob"}) {
    auto r = run_bridle({"ios", "check-backup", (f.phones / who).string(), "-i", f.old_iocs.string(), "--store", store},
                        f.env());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("Recorded"), std::string::npos) << r.err;
  }
  auto list = run_bridle({"store", "list", "--store", store, "--json"}, f.env());
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto acqs = Json::parse(list.out);
  ASSERT_EQ(acqs.size(), 2u);
  EXPECT_EQ(acqs[0]["device"], "SERIALA");
  EXPECT_EQ(acqs[1]["kind"], "ios_backup");
  EXPECT_EQ(acqs[0]["input_sha256"].get<std::string>().size(), 64u);
  std::int64_t bob = acqs[1]["id"];

  // Message bodies are not stored, only the observables.
  auto show = run_bridle({"store", "show", "--store", store, std::to_string(bob)}, f.env());
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(show.out.find("update here"), std::string::npos);
  EXPECT_NE(show.out.find("cdn.new-spy.example.net"), std::string::npos) << show.out;

  auto h1 = run_bridle({"hunt", "--store", store, "-i", f.new_iocs.string(), "-o", (f.dir / "hunt1").string()}, f.env());
  EXPECT_EQ(h1.exit_code, 1) << h1.out << h1.err;
  auto j1 = Json::parse(slurp(f.dir / "hunt1" / "hunt.json"));
  ASSERT_EQ(j1["acquisitions"].size(), 1u) << j1.dump(1);
  EXPECT_EQ(j1["acquisitions"][0]["id"], bob);
  EXPECT_EQ(j1["acquisitions"][0]["device"], "SERIALB");
  EXPECT_GE(j1["acquisitions"][0]["new_hits"].get<int>(), 1);
  for (auto& h : j1["acquisitions"][0]["hits"]) {
    EXPECT_TRUE(h["new"].get<bool>());
    EXPECT_EQ(h["module"], "sms");
    EXPECT_EQ(h["matched_indicator"]["value"], "new-spy.example.net");
  }

  auto h2 = run_bridle({"hunt", "--store", store, "-i", f.new_iocs.string(), "-o", (f.dir / "hunt2").string()}, f.env());
  EXPECT_EQ(h2.exit_code, 0) << h2.out << h2.err;
  auto j2 = Json::parse(slurp(f.dir / "hunt2" / "hunt.json"));
  EXPECT_EQ(j2["new_hits"], 0);
  EXPECT_TRUE(j2["indicator_digest_hunted_before"].get<bool>());

  auto forget = run_bridle({"store", "forget", "--store", store, std::to_string(bob)}, f.env());
  EXPECT_EQ(forget.exit_code, 0) << forget.err;
  auto h3 = run_bridle({"hunt", "--store", store, "-i", f.new_iocs.string()}, f.env());
  EXPECT_EQ(h3.exit_code, 0) << h3.out;
  EXPECT_NE(h3.out.find("0 hit(s)"), std::string::npos) << h3.out;
}

TEST(HuntScan, DefaultStoreIsInTheDataFolderAndNoStoreOptsOut) {
  Fleet f;
  auto r = run_bridle({"ios", "check-backup", (f.phones / "alice").string(), "--no-store"}, f.env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(f.data / "bridle" / "store.sqlite"));
  r = run_bridle({"ios", "check-backup", (f.phones / "alice").string()}, f.env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(f.data / "bridle" / "store.sqlite"));
  // A store that cannot be written never fails a check.
  write_file(f.dir / "blocker", "x");
  r = run_bridle({"ios", "check-backup", (f.phones / "alice").string(), "--store", (f.dir / "blocker" / "s.sqlite").string()},
                 f.env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning"), std::string::npos) << r.err;
}

TEST(HuntScan, ScanChecksAFolderOfAcquisitionsAndResumes) {
  Fleet f;
  std::string store = sqlite_store(f);
  // An encrypted backup without the password is reported, not checked.
  BackupBuilder enc(f.phones / "carol");
  enc.add_file("HomeDomain", "Library/x", "x");
  enc.finish();
  write_file(f.phones / "carol" / "Manifest.plist",
             make_plist(Json{{"IsEncrypted", true}, {"BackupKeyBag", {{"$data", ""}}}}));
  auto out = f.dir / "fleet";
  auto r = run_bridle({"scan", f.phones.string(), "-j", "2", "-o", out.string(), "--store", store, "-i",
                       f.new_iocs.string()},
                      f.env());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto fleet = Json::parse(slurp(out / "fleet.json"));
  ASSERT_EQ(fleet.size(), 3u) << fleet.dump(1);
  EXPECT_EQ(fleet[0]["verdict"], "clean");
  EXPECT_EQ(fleet[1]["verdict"], "alerts");
  EXPECT_EQ(fleet[1]["device"], "SERIALB");
  EXPECT_GE(fleet[1]["alerts"]["CRITICAL"].get<int>(), 1);
  EXPECT_EQ(fleet[2]["verdict"], "not checked") << fleet[2].dump();
  EXPECT_TRUE(fs::exists(out / "bob" / "alerts.json"));
  EXPECT_NE(slurp(out / "fleet.csv").find("SERIALB"), std::string::npos);
  // Second run: nothing to do, the fleet files still cover everything.
  auto r2 = run_bridle({"scan", f.phones.string(), "-o", out.string(), "--store", store, "-i", f.new_iocs.string()},
                       f.env());
  auto fleet2 = Json::parse(slurp(out / "fleet.json"));
  ASSERT_EQ(fleet2.size(), 3u);
  EXPECT_EQ(fleet2[0]["status"], "skipped (already in the store)") << r2.err;
  EXPECT_EQ(fleet2[1]["verdict"], "alerts");
}

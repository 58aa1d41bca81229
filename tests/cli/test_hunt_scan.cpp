// End-to-end: checks record into the store, `bridle hunt`, `bridle store`, `bridle scan` —
// the same tests against SQLite and against PostgreSQL (the private server of
// scripts/with-postgres.sh, BRIDLE_TEST_PG_URL; skipped with a reason when it is not set).
#include <gtest/gtest.h>

#include <cstdlib>

#include "cli/store_backends.hpp"
#include "support/backup_builder.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

std::string stix_for(const std::vector<std::string>& domains) {
  Json b = {{"type", "bundle"}, {"id", "bundle--1"}, {"objects", Json::array()}};
  b["objects"].push_back({{"type", "malware"}, {"id", "malware--1"}, {"name", "TestSpy"}});
  for (std::size_t i = 0; i < domains.size(); ++i) {
    std::string id = "indicator--" + std::to_string(i + 1);
    b["objects"].push_back({{"type", "indicator"}, {"id", id}, {"pattern", "[domain-name:value='" + domains[i] + "']"},
                            {"pattern_type", "stix"}});
    b["objects"].push_back({{"type", "relationship"}, {"id", "relationship--" + std::to_string(i + 1)},
                            {"source_ref", id}, {"target_ref", "malware--1"}, {"relationship_type", "indicates"}});
  }
  return b.dump();
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
    write_file(old_iocs, stix_for({"old-spy.example.org"}));
    write_file(new_iocs, stix_for({"new-spy.example.net"}));
  }
};

}  // namespace


namespace {

class HuntScan : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store = test_store_url(GetParam(), f.dir.path());
    if (store.empty())
      GTEST_SKIP() << kNoPgReason;
  }
  Fleet f;
  std::string store;
};

}  // namespace

TEST_P(HuntScan, ChecksRecordAndHuntReportsOnlyTheNewlyMatchingAcquisition) {
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

// The issue's scenario: acquisitions stored; an indicator file arrives whose domains appear in
// exactly one of them; the hunt reports exactly that acquisition as new (exit 1), and the same
// hunt again reports nothing new (exit 0).
TEST_P(HuntScan, NewIndicatorsFindExactlyTheAcquisitionThatHasThem) {
  make_backup(f.phones / "carol", "see https://news.example.com/a and https://tracker.example.com/", "SERIALC");
  make_backup(f.phones / "dave", "ping https://evil-tracker.example.com/p?id=7", "SERIALD");
  std::map<std::string, std::int64_t> ids;
  for (auto who : {"alice", "bob", "carol", "dave"}) {
    auto r = run_bridle({"ios", "check-backup", (f.phones / who).string(), "-i", f.old_iocs.string(), "--store", store},
                        f.env());
    ASSERT_EQ(r.exit_code, 0) << who << r.out << r.err;
  }
  for (auto& a : Json::parse(run_bridle({"store", "list", "--store", store, "--json"}, f.env()).out))
    ids[a["device"].get<std::string>()] = a["id"].get<std::int64_t>();
  ASSERT_EQ(ids.size(), 4u);
  // dave's domain and a sub-domain indicator of it; another indicator no phone has.
  auto iocs = f.dir / "fresh.stix2";
  write_file(iocs, stix_for({"evil-tracker.example.com", "never-seen.example.net", "x.evil-tracker.example.com"}));
  auto h1 = run_bridle({"hunt", "--store", store, "-i", iocs.string(), "-o", (f.dir / "h1").string()}, f.env());
  EXPECT_EQ(h1.exit_code, 1) << h1.out << h1.err;
  auto j1 = Json::parse(slurp(f.dir / "h1" / "hunt.json"));
  EXPECT_EQ(j1["acquisitions_hunted"], 4);
  ASSERT_EQ(j1["acquisitions"].size(), 1u) << j1.dump(1);
  EXPECT_EQ(j1["acquisitions"][0]["id"], ids["SERIALD"]);
  EXPECT_EQ(j1["acquisitions"][0]["new_hits"], 1);
  EXPECT_EQ(j1["acquisitions"][0]["hits"][0]["matched_indicator"]["value"], "evil-tracker.example.com");
  EXPECT_EQ(j1["acquisitions"][0]["hits"][0]["level"], "CRITICAL");
  EXPECT_EQ(j1["new_hits"], 1);
  auto h2 = run_bridle({"hunt", "--store", store, "-i", iocs.string(), "-o", (f.dir / "h2").string()}, f.env());
  EXPECT_EQ(h2.exit_code, 0) << h2.out << h2.err;
  auto j2 = Json::parse(slurp(f.dir / "h2" / "hunt.json"));
  EXPECT_EQ(j2["new_hits"], 0);
  EXPECT_EQ(j2["hits"], 1);
  ASSERT_EQ(j2["acquisitions"].size(), 1u);
  EXPECT_FALSE(j2["acquisitions"][0]["hits"][0]["new"].get<bool>());
  // Without any indicator the hunt cannot run.
  auto empty = f.dir / "none.stix2";
  write_file(empty, R"({"type":"bundle","id":"bundle--2","objects":[]})");
  EXPECT_EQ(run_bridle({"hunt", "--store", store, "-i", empty.string()}, f.env()).exit_code, 2);
}

TEST(HuntScanDefaults, DefaultStoreIsInTheDataFolderAndNoStoreOptsOut) {
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

TEST_P(HuntScan, ScanChecksAFolderOfAcquisitionsAndResumes) {
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

INSTANTIATE_TEST_SUITE_P(Backends, HuntScan, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

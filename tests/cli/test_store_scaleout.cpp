// Scale-out: several `bridle scan` processes started at once over the same folder of
// acquisitions, sharing one store (PostgreSQL when BRIDLE_TEST_PG_URL is set, and SQLite).
// Each acquisition is checked by exactly one worker, a dead worker's stale claim is taken over,
// and every worker's fleet.json / fleet.csv covers all acquisitions.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>

#include "cli/store_backends.hpp"
#include "core/util.hpp"
#include "support/backup_builder.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

constexpr int kPhones = 10;
constexpr int kWorkers = 3;

std::string sms_sql(const std::string& text) {
  return "CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT);"
         "CREATE TABLE message (ROWID INTEGER PRIMARY KEY, guid TEXT, text TEXT, handle_id INTEGER,"
         " service TEXT, account TEXT, date INTEGER, date_read INTEGER, is_from_me INTEGER);"
         "INSERT INTO handle VALUES (1, '+15550001111');"
         "INSERT INTO message VALUES (1, 'G1', '" + text + "', 1, 'SMS', NULL, 650000000000000000, 0, 0);";
}

std::string phone_name(int i) { return "phone" + std::to_string(10 + i); }

// Starts `bridle ARGS` with stdout/stderr to files; returns the pid.
pid_t start_bridle(const std::vector<std::string>& args, const std::vector<std::string>& env, const fs::path& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    for (auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
    std::string bin = BRIDLE_BINARY;
    std::vector<std::string> copy = args;
    std::vector<char*> argv = {bin.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

class ScaleOut : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store = test_store_url(GetParam(), dir.path());
    if (store.empty()) GTEST_SKIP() << kNoPgReason;
    for (int i = 0; i < kPhones; ++i) {
      // Two phones carry the indicator's domain.
      std::string text = i == 3 || i == 7 ? "go https://c2.scaleout-spy.example.net/x" : "see https://example.com/" + std::to_string(i);
      BackupBuilder b(phones / phone_name(i));
      b.add_sqlite("HomeDomain", "Library/SMS/sms.db", sms_sql(text));
      b.finish({{"Serial Number", "SER" + std::to_string(i)}});
    }
    write_file(iocs, R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"ScaleSpy"},
 {"type":"indicator","id":"indicator--1","pattern":"[domain-name:value='scaleout-spy.example.net']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","relationship_type":"indicates","source_ref":"indicator--1","target_ref":"malware--1"}]})");
  }
  std::vector<std::string> env() const { return {"XDG_DATA_HOME=" + (dir / "xdg").string(), "BRIDLE_STIX2="}; }

  Scratch dir;
  fs::path phones = dir / "phones";
  fs::path iocs = dir / "scale.stix2";
  std::string store;
};

}  // namespace

TEST_P(ScaleOut, WorkersShareTheStoreAndCheckEachAcquisitionOnce) {
  // A worker that died while holding a claim on phone 5 two hours ago: with --claim-ttl 600
  // its claim has expired and must be taken over (else phone 5 would never be checked).
  std::string stale_sha = store::input_sha256(phones / phone_name(5));
  {
    auto st = store::Store::open(store);
    auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    st->db().query("INSERT INTO claims (input_sha256, worker, claimed_at) VALUES (?, ?, ?)",
                   {stale_sha, "12345@dead-host", std::to_string(now - 7200)});
    // Under a longer TTL the same claim is still live and cannot be taken.
    EXPECT_FALSE(st->claim(stale_sha, "other", 3 * 3600));
  }
  // All workers start at once (each checks two acquisitions at a time).
  std::vector<pid_t> pids;
  for (int w = 0; w < kWorkers; ++w)
    pids.push_back(start_bridle({"scan", phones.string(), "-o", (dir / ("out" + std::to_string(w))).string(), "-j", "2",
                                 "--store", store, "-i", iocs.string(), "--claim-ttl", "600"},
                                env(), dir / ("worker" + std::to_string(w) + ".log")));
  for (int w = 0; w < kWorkers; ++w) {
    int status = 0;
    ASSERT_EQ(waitpid(pids[static_cast<std::size_t>(w)], &status, 0), pids[static_cast<std::size_t>(w)]);
    ASSERT_TRUE(WIFEXITED(status));
    // Two phones have alerts: every worker's fleet says so (exit 1), whoever checked them.
    EXPECT_EQ(WEXITSTATUS(status), 1) << slurp(dir / ("worker" + std::to_string(w) + ".log"));
  }

  std::map<std::string, int> checked_by;  // input -> number of workers that checked it
  std::map<std::string, int> logs;        // input -> number of per-acquisition scan.log files
  for (int w = 0; w < kWorkers; ++w) {
    auto out = dir / ("out" + std::to_string(w));
    auto fleet = Json::parse(slurp(out / "fleet.json"));
    ASSERT_EQ(fleet.size(), static_cast<std::size_t>(kPhones)) << fleet.dump(1);
    auto csv = slurp(out / "fleet.csv");
    for (auto& row : fleet) {
      std::string input = row["input"];
      std::string status = row["status"];
      EXPECT_TRUE(status == "checked" || status == "checked by another worker" ||
                  status == "skipped (already in the store)")
          << "worker " << w << ": " << row.dump();
      if (status == "checked") ++checked_by[input];
      // Every worker's fleet covers every acquisition's result, also those others checked.
      bool planted = input.find(phone_name(3)) != std::string::npos || input.find(phone_name(7)) != std::string::npos;
      EXPECT_EQ(row["verdict"], planted ? "alerts" : "clean") << "worker " << w << ": " << row.dump();
      EXPECT_TRUE(row.contains("store_id")) << row.dump();
      EXPECT_NE(csv.find(row["device"].get<std::string>()), std::string::npos) << csv;
      std::string name = fs::path(input).filename().string();
      if (fs::exists(out / name / "scan.log")) ++logs[input];
    }
  }
  ASSERT_EQ(checked_by.size(), static_cast<std::size_t>(kPhones));
  for (auto& [input, n] : checked_by) EXPECT_EQ(n, 1) << input << " was checked by " << n << " workers";
  for (auto& [input, n] : logs) EXPECT_EQ(n, 1) << input;

  // One record per acquisition, the stale claim was taken over, no claim is left behind.
  auto st = store::Store::open(store);
  auto all = st->list();
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kPhones));
  std::set<std::string> shas;
  for (auto& a : all) shas.insert(a.input_sha256);
  EXPECT_EQ(shas.size(), static_cast<std::size_t>(kPhones));
  EXPECT_TRUE(shas.count(stale_sha));
  EXPECT_EQ(st->db().query("SELECT COUNT(*) FROM claims").at(0).at(0), "0");
}

// A claim younger than --claim-ttl is respected: its acquisition is not checked by this worker,
// which waits for it and then says that the other worker stopped without a result.
TEST_P(ScaleOut, ALiveClaimIsRespectedAndReportedWhenItsWorkerStops) {
  std::string sha = store::input_sha256(phones / phone_name(0));
  auto st = store::Store::open(store);
  ASSERT_TRUE(st->claim(sha, "999@busy-host", 3600));
  // The other worker "stops" (releases without a result) while this scan waits for it.
  pid_t pid = start_bridle({"scan", phones.string(), "-o", (dir / "out").string(), "--store", store, "-i", iocs.string()},
                           env(), dir / "worker.log");
  // Wait until the scan has checked the others (they are in the store), then release.
  for (int i = 0; i < 600 && st->list().size() < static_cast<std::size_t>(kPhones - 1); ++i) usleep(100 * 1000);
  EXPECT_EQ(st->list().size(), static_cast<std::size_t>(kPhones - 1));
  st->release(sha, "999@busy-host");
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  auto fleet = Json::parse(slurp(dir / "out" / "fleet.json"));
  ASSERT_EQ(fleet.size(), static_cast<std::size_t>(kPhones));
  EXPECT_EQ(fleet[0]["status"], "not checked: another worker stopped without a result (run again)") << fleet[0].dump();
  EXPECT_EQ(fleet[0]["verdict"], "not checked");
  EXPECT_FALSE(fs::exists(dir / "out" / phone_name(0) / "scan.log"));
  EXPECT_EQ(st->db().query("SELECT COUNT(*) FROM claims").at(0).at(0), "0");
}

INSTANTIATE_TEST_SUITE_P(Backends, ScaleOut, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

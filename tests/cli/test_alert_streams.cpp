// The engine keeps alerts in per-module streams that move to temporary files past a memory
// budget (BRIDLE_ALERTS_IN_MEMORY): a run with more alerts than the budget must write exactly
// the files an all-in-memory run writes, and those files must say what the alerts say.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/jsonio.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const std::string kHash(64, 'a');

std::string stix() {
  return R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"TestSpy"},
 {"type":"indicator","id":"indicator--1","pattern":"[file:hashes.sha256=')" + kHash + R"(']","pattern_type":"stix"},
 {"type":"indicator","id":"indicator--2","pattern":"[app:id='com.evil.spy']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"},
 {"type":"relationship","id":"relationship--2","source_ref":"indicator--2","target_ref":"malware--1"}]})";
}

// An androidqf folder whose files.json has `n` entries under /data/local/tmp (each a HIGH
// alert): many equal modification times (the CSV sort must stay stable), some without one
// (no CSV line), quotes, backslashes and non-ASCII in paths, and every 50th with a hash
// indicator (a CRITICAL alert with its matched indicator).
void write_qf(const fs::path& root, int n) {
  write_file(root / "getprop.txt", "[persist.sys.timezone]: [Europe/Rome]\n[ro.build.version.sdk]: [33]\n");
  write_file(root / "packages.json",
             R"([{"name":"com.evil.spy","installer":"com.android.vending","system":false,"disabled":false,"files":[]}])");
  write_file(root / "acquisition.json", R"({"started":"2023-07-24T00:38:44Z"})");
  Json files = Json::array();
  for (int i = 0; i < n; ++i) {
    Json e;
    std::string name = "f" + std::to_string(i);
    if (i % 7 == 0) name += "\"q\\b";
    if (i % 11 == 0) name += "\xc3\xa9t\xc3\xa9";
    e["path"] = "/data/local/tmp/" + name;
    e["size"] = i;
    e["mode"] = i % 3 == 0 ? "-rwxr-xr-x" : "-rw-r--r--";
    if (i % 13 != 0) e["modified_time"] = 1690000000 + (i * 7919) % 97;
    e["access_time"] = 1690000000 + i;
    e["context"] = "u:object_r:shell_data_file:s0";
    e["sha256"] = i % 50 == 0 ? kHash : "";
    files.push_back(e);
  }
  write_file(root / "files.json", files.dump());
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto nl = text.find("\r\n", at);
    if (nl == std::string::npos) nl = text.size();
    out.push_back(text.substr(at, nl + 2 - at));
    at = nl + 2;
  }
  return out;
}

// command.log without its timestamps.
std::string log_without_times(const std::string& text) {
  std::string out;
  std::size_t at = 0;
  while (at < text.size()) {
    auto nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(at, nl - at);
    auto sep = line.find(" - ");
    out += (sep == std::string::npos ? line : line.substr(sep)) + "\n";
    at = nl + 1;
  }
  return out;
}

}  // namespace

TEST(AlertStreams, ManyAlertsPastTheBudgetGiveTheSameFiles) {
  Scratch dir;
  write_file(dir / "t.stix2", stix());
  const int n = 3000;
  write_qf(dir / "qf", n);
  const char* kFiles[] = {"alerts.json", "alerts_timeline.csv", "aqf_files_detected.json",
                          "aqf_packages_detected.json", "timeline.jsonl", "timeline.csv", "aqf_files.json"};
  // All in memory / the default budget (some kept, streams in memory) / every alert
  // spilled at once (CSV runs of one line, merged in levels).
  const char* kBudgets[] = {"BRIDLE_ALERTS_IN_MEMORY=100000000", "BRIDLE_ALERTS_IN_MEMORY=100",
                            "BRIDLE_ALERTS_IN_MEMORY=0"};
  std::map<std::string, std::string> files[3];
  std::string out_text[3], logs[3];
  for (int run = 0; run < 3; ++run) {
    auto out = dir / ("o" + std::to_string(run));
    auto r = run_bridle({"android", "check-androidqf", (dir / "qf").string(), "-i", (dir / "t.stix2").string(), "-o",
                         out.string(), "--no-store"},
                        {"XDG_DATA_HOME=" + (dir / "xdg").string(), "BRIDLE_STIX2=", kBudgets[run]});
    ASSERT_EQ(r.exit_code, 1) << r.err;
    for (const char* name : kFiles) files[run][name] = slurp(out / name);
    out_text[run] = r.out;
    logs[run] = log_without_times(slurp(out / "command.log"));
  }
  for (int run = 1; run < 3; ++run) {
    for (const char* name : kFiles) EXPECT_TRUE(files[0][name] == files[run][name]) << name << " differs, run " << run;
    EXPECT_EQ(out_text[0], out_text[run]);
    EXPECT_EQ(logs[0], logs[run]);
  }

  // alerts.json is every module's <slug>_detected.json in module order, in MVT's layout.
  auto alerts = Json::parse(files[0]["alerts.json"]);
  auto aqf = Json::parse(files[0]["aqf_files_detected.json"]);
  auto pkgs = Json::parse(files[0]["aqf_packages_detected.json"]);
  ASSERT_EQ(aqf.size(), static_cast<std::size_t>(n + n / 50));
  ASSERT_EQ(pkgs.size(), 1u);
  Json joined = Json::array();
  for (auto& a : pkgs) joined.push_back(a);
  for (auto& a : aqf) joined.push_back(a);
  EXPECT_EQ(alerts, joined);
  EXPECT_EQ(dump_mvt(alerts), files[0]["alerts.json"]);
  EXPECT_EQ(dump_mvt(aqf), files[0]["aqf_files_detected.json"]);
  std::size_t critical = 0;
  for (auto& a : alerts) critical += a["level"] == "CRITICAL";
  EXPECT_EQ(critical, static_cast<std::size_t>(n / 50 + 1));

  // alerts_timeline.csv: the alerts with an event time, stably sorted by it.
  std::vector<const Json*> timed;
  for (auto& a : alerts)
    if (!a["event_time"].get<std::string>().empty()) timed.push_back(&a);
  std::stable_sort(timed.begin(), timed.end(), [](const Json* a, const Json* b) {
    return (*a)["event_time"].get<std::string>() < (*b)["event_time"].get<std::string>();
  });
  std::string csv = "\"Event Time\",\"Module\",\"Message\",\"Event\"\r\n";
  for (auto* a : timed)
    csv += csv_field((*a)["event_time"]) + "," + csv_field((*a)["module"]) + "," + csv_field((*a)["message"]) + "," +
           csv_field(python_repr((*a)["event"])) + "\r\n";
  EXPECT_TRUE(csv == files[0]["alerts_timeline.csv"]);
  EXPECT_EQ(lines_of(files[0]["alerts_timeline.csv"]).size(), timed.size() + 1);
  EXPECT_LT(timed.size(), alerts.size());  // some have no time

  // The summary lists every HIGH/CRITICAL alert; command.log has one line per alert.
  std::size_t listed = 0;
  for (std::size_t at = 0; (at = out_text[0].find("\n  HIGH [aqf_files] ", at)) != std::string::npos; ++at) ++listed;
  EXPECT_EQ(listed, static_cast<std::size_t>(n));
  EXPECT_NE(out_text[0].find("Alerts: " + std::to_string(n / 50 + 1) + " critical, " + std::to_string(n) + " high"),
            std::string::npos)
      << out_text[0].substr(0, 500);
  std::size_t logged = 0;
  for (std::size_t at = 0; (at = logs[0].find(" ALERT: ", at)) != std::string::npos; ++at) ++logged;
  EXPECT_EQ(logged, alerts.size());
}

// Conformance of the issue-4 (part 2) iOS modules with MVT on its test backup
// (../shared/corpus): interaction_c.json equal to MVT's (records and timeline rows), and the
// modules added beyond MVT raise no alert on the corpus that is not explained here.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

struct Run {
  fs::path out;
  RunResult result;
};

const Run& run_once(const fs::path& shared) {
  static Scratch scratch;
  static Run run;
  static bool done = false;
  if (!done) {
    run.out = scratch / "out";
    auto res = shared / "corpus" / "mvt-results";
    run.result = run_bridle({"ios", "check-backup", (shared / "corpus" / "mvt" / "ios_backup").string(), "-i",
                             (res / "test.stix2").string(), "-i", (res / "demo.stix2").string(), "-o",
                             run.out.string()},
                            {"XDG_DATA_HOME=" + (scratch / "xdg").string(), "BRIDLE_STIX2="});
    done = true;
  }
  return run;
}

std::multiset<std::string> timeline_rows(const std::string& text, const std::string& plugin) {
  std::multiset<std::string> s;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find("\",\"" + plugin + "\",\"") != std::string::npos) s.insert(line);
    start = end + 1;
  }
  return s;
}

TEST(IosBackupConformanceMore, InteractionCMatchesMvt) {
  BRIDLE_REQUIRE_SHARED(shared);
  const auto& run = run_once(shared);
  auto mvt = shared / "corpus" / "mvt-results" / "ios_check_backup";
  auto theirs = Json::parse(slurp(mvt / "interaction_c.json"));
  ASSERT_TRUE(fs::exists(run.out / "interaction_c.json")) << run.result.err;
  auto ours = Json::parse(slurp(run.out / "interaction_c.json"));
  ASSERT_EQ(ours.size(), 3u);
  ASSERT_EQ(ours.size(), theirs.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_EQ(ours[i], theirs[i]) << "record " << i;
    // Same fields in the same order.
    std::vector<std::string> ko, kt;
    for (auto& [k, v] : ours[i].items()) ko.push_back(k);
    for (auto& [k, v] : theirs[i].items()) kt.push_back(k);
    EXPECT_EQ(ko, kt) << "record " << i;
  }
  EXPECT_EQ(ours[0]["sender_identifier"], "100000000000001@lid");
  EXPECT_EQ(ours[0]["sender_resolved_phone_number"], "+14155550100");
  EXPECT_EQ(ours[0]["sender_resolved_name"], "Alice Example");

  auto our_rows = timeline_rows(slurp(run.out / "timeline.csv"), "InteractionC");
  auto their_rows = timeline_rows(slurp(mvt / "timeline.csv"), "InteractionC");
  EXPECT_EQ(their_rows.size(), 6u);
  EXPECT_EQ(our_rows, their_rows);
  EXPECT_EQ(their_rows.count("\"2025-12-09 12:26:40.000000\",\"InteractionC\",\"interactions_creation_date\","
                             "\"Interaction record created 90 days after the event: [com.apple.MobileSMS] INCOMING from "
                             "Bob Example (+14155550101) to local user\""),
            1u);
}

// Modules of this part; those MVT has produced no alert on the corpus, the others are new.
const std::set<std::string> kModules = {
    "configuration_profiles", "profile_events", "calls", "contacts", "chrome_history", "chrome_favicon",
    "firefox_history", "firefox_favicon", "interaction_c", "locationd_clients", "shortcuts", "applications",
    "webkit_session_resource_log", "triangulation_check", "threat_notifications", "ios_version_check",
    "unknown_processes"};

TEST(IosBackupConformanceMore, NoUnexplainedAlerts) {
  BRIDLE_REQUIRE_SHARED(shared);
  const auto& run = run_once(shared);
  auto ours = Json::parse(slurp(run.out / "alerts.json"));
  // module|level -> (count, reason)
  const std::map<std::string, std::pair<int, std::string>> explained = {
      {"ios_version_check|LOW",
       {1, "the corpus device runs iOS 14.3 (18C66); MVT logs the same finding as a WARNING "
           "(\"outdated iOS version\") rather than an alert"}},
  };
  std::map<std::string, int> seen;
  for (auto& a : ours) {
    std::string module = a["module"].get<std::string>();
    if (!kModules.count(module)) continue;
    seen[module + "|" + a["level"].get<std::string>()]++;
  }
  for (auto& [key, n] : seen) {
    auto it = explained.find(key);
    EXPECT_TRUE(it != explained.end()) << "unexplained alert(s) on the corpus: " << key << " x" << n;
    if (it != explained.end()) {
      EXPECT_EQ(n, it->second.first) << key;
    }
  }
  for (auto& [key, e] : explained) EXPECT_EQ(seen[key], e.first) << "expected alert missing: " << key;
}

TEST(IosBackupConformanceMore, ModulesWithoutDataWriteNothing) {
  BRIDLE_REQUIRE_SHARED(shared);
  const auto& run = run_once(shared);
  // MVT found none of these artifacts in the corpus (its log: "unable to find", 0 records).
  for (const char* slug : {"configuration_profiles", "profile_events", "calls", "contacts", "chrome_history",
                           "chrome_favicon", "firefox_history", "firefox_favicon", "locationd_clients", "shortcuts",
                           "applications"})
    EXPECT_FALSE(fs::exists(run.out / (std::string(slug) + ".json"))) << slug;
}

}  // namespace

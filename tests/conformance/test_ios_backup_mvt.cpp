// Conformance with MVT on its own test backup (../shared/corpus): the same number of records
// per module, and every alert MVT raised (module, level, matched indicator) raised by bridle.
#include <gtest/gtest.h>

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
    run.result = run_bridle({"ios", "check-backup", (shared / "corpus" / "mvt" / "ios_backup").string(),
                             "-i", (res / "test.stix2").string(), "-i", (res / "demo.stix2").string(),
                             "-o", run.out.string()},
                            {"XDG_DATA_HOME=" + (scratch / "xdg").string(), "BRIDLE_STIX2="});
    done = true;
  }
  return run;
}

std::size_t record_count(const Json& j) {
  if (j.is_array()) return j.size();
  if (j.is_object()) return j.size();
  return 0;
}

// Modules of the check-backup foundation whose outputs must match MVT's.
const std::vector<std::string> kModules = {
    "backup_info", "manifest", "sms", "datausage", "tcc", "calendar", "global_preferences",
    "safari_browser_state", "webkit_resource_load_statistics", "whatsapp", "whatsapp_contacts"};

TEST(IosBackupConformance, RecordCountsMatchMvt) {
  BRIDLE_REQUIRE_SHARED(shared);
  const auto& run = run_once(shared);
  ASSERT_TRUE(run.result.exit_code == 1) << run.result.err;
  auto mvt = shared / "corpus" / "mvt-results" / "ios_check_backup";
  for (auto& slug : kModules) {
    auto theirs = mvt / (slug + ".json");
    auto ours = run.out / (slug + ".json");
    ASSERT_TRUE(fs::exists(theirs)) << slug;
    ASSERT_TRUE(fs::exists(ours)) << "bridle wrote no " << slug << ".json";
    EXPECT_EQ(record_count(Json::parse(slurp(ours))), record_count(Json::parse(slurp(theirs)))) << slug;
  }
}

TEST(IosBackupConformance, EveryMvtAlertIsRaised) {
  BRIDLE_REQUIRE_SHARED(shared);
  const auto& run = run_once(shared);
  auto theirs = Json::parse(slurp(shared / "corpus" / "mvt-results" / "ios_check_backup" / "alerts.json"));
  auto ours = Json::parse(slurp(run.out / "alerts.json"));
  auto key = [](const Json& a) {
    std::string ind = a["matched_indicator"].is_null() ? "" : a["matched_indicator"]["value"].get<std::string>();
    return a["module"].get<std::string>() + "|" + a["level"].get<std::string>() + "|" + ind;
  };
  std::multiset<std::string> have;
  for (auto& a : ours) have.insert(key(a));
  for (auto& a : theirs) {
    auto k = key(a);
    auto it = have.find(k);
    EXPECT_TRUE(it != have.end()) << "MVT raised, bridle did not: " << k << " — " << a["message"];
    if (it != have.end()) have.erase(it);
  }
  // Alerts bridle adds on this corpus, each with its reason.
  const std::map<std::string, std::string> explained = {
      {"ios_version_check|LOW|",
       "bridle warns when the iOS build is older than the newest release it knows (MVT only logs it)"},
      {"unknown_processes|LOW|",
       "bridle lists processes seen in execution evidence that match no installed app or known "
       "system binary, as leads for an analyst"},
  };
  for (auto& k : have) {
    EXPECT_TRUE(explained.count(k)) << "extra alert without an explanation: " << k;
  }
}

TEST(IosBackupConformance, ManifestTimelineMatchesMvt) {
  BRIDLE_REQUIRE_SHARED(shared);
  const auto& run = run_once(shared);
  // Compare the Manifest rows of timeline.csv as a multiset (MVT's order of equal timestamps
  // is hash-seed dependent).
  auto rows = [](const std::string& text) {
    std::multiset<std::string> s;
    std::size_t start = 0;
    while (start < text.size()) {
      auto end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find("\",\"Manifest\",\"") != std::string::npos) s.insert(line);
      start = end + 1;
    }
    return s;
  };
  auto theirs = rows(slurp(shared / "corpus" / "mvt-results" / "ios_check_backup" / "timeline.csv"));
  auto ours = rows(slurp(run.out / "timeline.csv"));
  EXPECT_EQ(theirs.size(), 5881u);
  EXPECT_EQ(ours.size(), theirs.size());
  EXPECT_TRUE(ours == theirs);
}

}  // namespace

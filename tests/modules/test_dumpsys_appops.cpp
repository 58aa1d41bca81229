#include <gtest/gtest.h>

#include "core/util.hpp"
#include "support/android_mem_source.hpp"
#include "support/support.hpp"

namespace bridle::test {
namespace {

const std::string kSep(78, '-');

TEST(DumpsysAppops, ParsesPackagesPermissionsEntries) {
  std::string t = "DUMP OF SERVICE appops:\nCurrent AppOps Service state:\n  Uid 0:\n    state=cch\n"
                  "    Package com.android.phone:\n      MANAGE_IPSEC_TUNNELS (allow):\n"
                  "  Uid u0a1:\n      COARSE_LOCATION: mode=ignore\n    Package org.mozilla.firefox:\n"
                  "      REQUEST_INSTALL_PACKAGES (allow):\n"
                  "          Access: [fg-s] 2022-03-29 18:37:30.315 (-4h50m23s772ms)\n"
                  "          Reject: [bg-s]2021-05-19 22:02:52.054 (-1d)\n"
                  "          Weird: [x] nope\n"
                  "    Package com.android.shell:\n      READ_LOGS (allow):\n\n  Uid 5:\n    Package later:\n" + kSep + "\n";
  auto cap = run_on_dumpstate("DumpsysAppops", t);
  ASSERT_EQ(cap.records.size(), 3u);
  EXPECT_EQ(cap.records[0].dump(),
            R"({"package_name":"com.android.phone","permissions":[{"name":"MANAGE_IPSEC_TUNNELS","entries":[],"access":"allow"}],"uid":"0"})");
  auto& ff = cap.records[1];
  EXPECT_EQ(ff["uid"], "u0a1");
  ASSERT_EQ(ff["permissions"][0]["entries"].size(), 2u);
  EXPECT_EQ(ff["permissions"][0]["entries"][0].dump(),
            R"({"access":"Access","type":"fg-s","timestamp":"2022-03-29 18:37:30.315000"})");
  // 2 REQUEST_INSTALL_PACKAGES entries (sorted by time) + 1 com.android.shell op.
  ASSERT_EQ(cap.alerts.size(), 3u);
  EXPECT_EQ(cap.alerts[0].message,
            "Package 'org.mozilla.firefox' had risky permission 'REQUEST_INSTALL_PACKAGES' set to 'Reject' at 2021-05-19 22:02:52.054000");
  EXPECT_EQ(cap.alerts[2].message, "Risky package 'com.android.shell' had 'READ_LOGS' permission set to 'Unknown' at ");
  EXPECT_EQ(cap.count_level(Level::Medium), 3u);
  auto m = make_module("DumpsysAppops");
  std::vector<TimelineRow> rows;
  for (auto& r : cap.records) m->timeline(r, rows);
  EXPECT_EQ(rows.size(), 2u);
  EXPECT_EQ(m->event_time(ff), "");  // as MVT: IOC alerts carry no event_time
  std::vector<Observation> obs;
  m->observe(ff, obs);
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].kind, ObsKind::AppId);
}

TEST(DumpsysAppops, CorpusCounts) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto a = read_file(shared / "corpus/mvt/android_data/dumpsys_appops.txt", 1 << 24);
  ASSERT_TRUE(a);
  auto cap = run_on_dumpstate("DumpsysAppops", "DUMP OF SERVICE appops:\n" + *a);
  EXPECT_EQ(cap.records.size(), 13u);
  auto b = read_file(shared / "corpus/mvt/android_data/bugreport/dumpstate.txt", 1 << 24);
  ASSERT_TRUE(b);
  auto br = run_on_dumpstate("DumpsysAppops", *b);
  EXPECT_EQ(br.records.size(), 12u);
  EXPECT_EQ(br.alerts.size(), 1u);
  auto m = make_module("DumpsysAppops");
  std::vector<TimelineRow> rows;
  for (auto& r : br.records) m->timeline(r, rows);
  EXPECT_EQ(rows.size(), 16u);
  // Field-by-field equality with MVT's output.
  auto mvt = read_file(shared / "corpus/mvt-results/android_check_bugreport/dumpsys_appops.json", 1 << 24);
  ASSERT_TRUE(mvt);
  Json expect = Json::parse(*mvt);
  ASSERT_EQ(expect.size(), br.records.size());
  for (std::size_t i = 0; i < expect.size(); ++i) EXPECT_EQ(expect[i], br.records[i]) << i;
}

TEST(DumpsysAppops, HostileInput) {
  std::string t = "DUMP OF SERVICE appops:\n  Uid \n    Package \n      X\n          Access: ]]]][[[ ((\n"
                  "          Access: [\n      \xff\xfe (\n";
  auto cap = run_on_dumpstate("DumpsysAppops", t);
  EXPECT_LE(cap.records.size(), 2u);
}

}  // namespace
}  // namespace bridle::test

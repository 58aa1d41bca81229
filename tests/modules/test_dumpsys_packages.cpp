#include <gtest/gtest.h>

#include "core/util.hpp"
#include "support/android_mem_source.hpp"
#include "support/support.hpp"

namespace bridle::test {
namespace {

TEST(DumpsysPackages, CorpusBugreportMatchesMvt) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto b = read_file(shared / "corpus/mvt/android_data/bugreport/dumpstate.txt", 1 << 24);
  ASSERT_TRUE(b);
  auto cap = run_on_dumpstate("DumpsysPackages", *b);
  ASSERT_EQ(cap.records.size(), 2u);
  EXPECT_EQ(cap.records[1]["permissions"].size(), 32u);
  auto mvt = read_file(shared / "corpus/mvt-results/android_check_bugreport/dumpsys_packages.json", 1 << 24);
  ASSERT_TRUE(mvt);
  Json expect = Json::parse(*mvt);
  ASSERT_EQ(expect.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(expect[i], cap.records[i]) << i;
  auto m = make_module("DumpsysPackages");
  std::vector<TimelineRow> rows;
  for (auto& r : cap.records) m->timeline(r, rows);
  EXPECT_EQ(rows.size(), 6u);
}

TEST(DumpsysPackages, CorpusArtifact) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto a = read_file(shared / "corpus/mvt/android_data/dumpsys_packages.txt", 1 << 24);
  ASSERT_TRUE(a);
  auto cap = run_on_dumpstate("DumpsysPackages", "DUMP OF SERVICE package:\n" + *a);
  EXPECT_EQ(cap.records.size(), 2u);
}

TEST(DumpsysPackages, RootPackageOncePerPackageAndPerUserFields) {
  std::string t =
      "DUMP OF SERVICE package:\nPackages:\n"
      "  Package [com.topjohnwu.magisk] (1):\n    userId=10001\n    pkgFlags=[ SYSTEM HAS_CODE ]\n"
      "    lastUpdateTime=2024-01-02 00:00:00\n"
      "    User 10: ceDataInode=1 installed=true\n      firstInstallTime=2023-10-10 10:10:10\n"
      "    User 0: ceDataInode=1 installed=true\n      firstInstallTime=2023-01-01 01:01:01\n"
      "      runtime permissions:\n        android.permission.CAMERA: granted=true, flags=[ ]\n"
      "    requested permissions:\n      android.permission.CAMERA\n"
      "  Package [com.topjohnwu.magisk] (2):\n    userId=10002\n";
  auto cap = run_on_dumpstate("DumpsysPackages", t);
  ASSERT_EQ(cap.records.size(), 2u);
  auto& r = cap.records[0];
  EXPECT_EQ(r["first_install_time"], "2023-01-01 01:01:01");
  EXPECT_EQ(r["last_update_time"], "2024-01-02 00:00:00");
  EXPECT_EQ(r["system"], true);
  EXPECT_EQ(r["permissions"].size(), 1u);
  EXPECT_EQ(r["requested_permissions"].size(), 1u);
  EXPECT_EQ(cap.count_level(Level::Medium), 1u);
}

}  // namespace
}  // namespace bridle::test

#include <gtest/gtest.h>

#include "core/util.hpp"
#include "support/android_mem_source.hpp"
#include "support/support.hpp"

namespace bridle::test {
namespace {

std::string corpus(const std::string& name) {
  auto s = shared_dir();
  if (!s) return "";
  auto d = read_file(*s / "corpus/mvt/android_data" / name, 1 << 24);
  return d ? *d : "";
}

TEST(DumpsysBatteryDaily, CorpusAndAlerts) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto cap = run_on_dumpstate("DumpsysBatteryDaily", "DUMP OF SERVICE batterystats:\n" + corpus("dumpsys_battery.txt"));
  ASSERT_EQ(cap.records.size(), 3u);
  EXPECT_EQ(cap.records[0]["from"], "2022-08-16");
  EXPECT_EQ(cap.records[0]["vers"], "385230290");
  EXPECT_EQ(cap.alerts.size(), 0u);
}

TEST(DumpsysBatteryDaily, UninstallAndDowngrade) {
  std::string t = "DUMP OF SERVICE batterystats:\n"
                  "  Daily from 2022-08-17-01-00-00 to 2022-08-18-01-00-00:\n      Update a.b vers=10\n"
                  "      Update c.d vers=0\n      Update broken\n      Update e vers=\n"
                  "  Daily from 2022-08-16-01-00-00 to 2022-08-17-01-00-00:\n      Update a.b vers=20\n";
  auto cap = run_on_dumpstate("DumpsysBatteryDaily", t);
  ASSERT_EQ(cap.records.size(), 3u);
  ASSERT_EQ(cap.count_level(Level::Medium), 2u);
  EXPECT_EQ(cap.records[0]["action"], "downgrade");
  EXPECT_EQ(cap.records[0]["previous_vers"], "20");
  EXPECT_EQ(cap.records[1]["action"], "uninstall");
  bool down = false;
  for (auto& a : cap.alerts) down = down || a.message == "Detected downgrade of package a.b from vers 20 to vers 10";
  EXPECT_TRUE(down);
}

}  // namespace
}  // namespace bridle::test


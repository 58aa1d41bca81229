#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"

namespace bridle::test {
namespace {

TEST(AqfLogTimestamps, LogsFolderOnly) {
  MemAndroidSource src("androidqf");
  src.add("qf/logs/system.log", "x", 86400);
  src.add("qf/logs/sub/kernel.log", "x", 0);
  src.add("qf/getprop.txt", "x", 5);
  auto cap = run_module("AQFLogTimestamps", src);
  ASSERT_EQ(cap.records.size(), 2u);
  Json sys;
  for (auto& r : cap.records)
    if (r["path"] == "qf/logs/system.log") sys = r;
  EXPECT_EQ(sys["modified_time"], "1970-01-02 00:00:00.000000");
  std::vector<TimelineRow> rows;
  make_module("AQFLogTimestamps")->timeline(sys, rows);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].description, "qf/logs/system.log");
}

}  // namespace
}  // namespace bridle::test

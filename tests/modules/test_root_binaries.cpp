#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"

namespace bridle::test {
namespace {

TEST(RootBinaries, EachIsHigh) {
  MemAndroidSource src("androidqf");
  src.add("qf/root_binaries.json", R"(["/system/bin/su", "/data/local/tmp/Superuser.apk", "/x/unknownthing", ""])");
  auto cap = run_module("RootBinaries", src);
  ASSERT_EQ(cap.records.size(), 3u);
  EXPECT_EQ(cap.count_level(Level::High), 3u);
  EXPECT_EQ(cap.records[1]["binary_name"], "superuser.apk");
  EXPECT_EQ(cap.records[1]["description"], "Superuser app");
  EXPECT_EQ(cap.records[2]["description"], "Unknown root binary");
  EXPECT_EQ(cap.alerts[0].message, "Found root binary \"su\" at path \"/system/bin/su\"");
  std::vector<TimelineRow> rows;
  make_module("RootBinaries")->timeline(cap.records[0], rows);
  EXPECT_EQ(rows[0].description, "Root binary found: /system/bin/su (binary: su)");
}

}  // namespace
}  // namespace bridle::test

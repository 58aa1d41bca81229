// IOSVersionHistory: first JSON line of each analytics journal, time converted to UTC.
#include <gtest/gtest.h>

#include "support/fs_dump.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

TEST(IOSVersionHistory, VersionsInTimeOrder) {
  Scratch d;
  auto dir = d / "dump/private/var/db/analyticsd";
  write_file(dir / "Analytics-Journal-2.ips",
             R"j({"timestamp":"2022-03-01 12:00:00.50 +0100","os_version":"iPhone OS 15.3 (19D50)"})j" "\n{}\n");
  write_file(dir / "Analytics-Journal-1.ips",
             R"j({"timestamp":"2021-09-20 10:19:04.00 -0200","os_version":"iPhone OS 15.0 (19A346)"})j" "\n");
  write_file(dir / "Analytics-Journal-3.ips", "not json\n");
  auto src = open_fs(d / "dump");
  auto run = run_fs_module(*src, d, "IOSVersionHistory", "ios_version_history");
  ASSERT_TRUE(run.doc.is_array());
  ASSERT_EQ(run.doc.size(), 2u);
  EXPECT_EQ(run.doc[0]["isodate"], "2021-09-20 12:19:04.000000");
  EXPECT_EQ(run.doc[0]["os_version"], "iPhone OS 15.0 (19A346)");
  EXPECT_EQ(run.doc[1]["isodate"], "2022-03-01 11:00:00.500000");
  ASSERT_EQ(run.rows().size(), 2u);
  EXPECT_EQ(run.rows()[0]->description, "Recorded iOS version iPhone OS 15.0 (19A346)");
}

}  // namespace

// AnalyticsIOSVersions: builds seen in the analytics events, earliest time each.
#include <gtest/gtest.h>

#include "core/util.hpp"
#include "support/fs_dump.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

std::string blob(const Json& j) {
  auto p = make_plist(j);
  return "X'" + to_hex(reinterpret_cast<const unsigned char*>(p.data()), p.size()) + "'";
}

TEST(AnalyticsIOSVersions, EarliestPerBuild) {
  Scratch d;
  std::string sql =
      "CREATE TABLE hard_failures (timestamp REAL, data BLOB);"
      "CREATE TABLE soft_failures (timestamp REAL, data BLOB);"
      "CREATE TABLE all_events (timestamp REAL, data BLOB);"
      "INSERT INTO hard_failures VALUES (1600000000, " + blob({{"build", "19A346"}}) + ");"
      "INSERT INTO soft_failures VALUES (1500000000, " + blob({{"build", "19A346"}}) + ");"
      "INSERT INTO all_events VALUES (1700000000, " + blob({{"build", "20A362"}}) + ");"
      "INSERT INTO all_events VALUES (1700000001, " + blob({{"other", "x"}}) + ");";
  make_sqlite(d / "dump/private/var/Keychains/Analytics/a.db", sql);
  auto src = open_fs(d / "dump");
  auto run = run_fs_module(*src, d, "AnalyticsIOSVersions", "analytics_ios_versions");
  ASSERT_TRUE(run.doc.is_array());
  ASSERT_EQ(run.doc.size(), 2u);
  EXPECT_EQ(run.doc[0]["build"], "19A346");
  EXPECT_EQ(run.doc[0]["isodate"], "2017-07-14 02:40:00.000000");
  EXPECT_EQ(run.doc[1]["build"], "20A362");
  EXPECT_TRUE(run.alerts().empty());
}

}  // namespace

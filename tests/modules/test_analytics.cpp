// Analytics: keychain analytics events, string values as processes and domains.
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

TEST(Analytics, RecordsAndIndicators) {
  Scratch d;
  std::string sql =
      "CREATE TABLE hard_failures (timestamp REAL, data BLOB);"
      "CREATE TABLE soft_failures (timestamp REAL, data BLOB);"
      "INSERT INTO hard_failures VALUES (1600000000.5, " + blob({{"process", "evilproc"}, {"build", "19A346"}}) + ");"
      "INSERT INTO soft_failures VALUES (1500000000, " + blob({{"host", "c2.evil.example"}}) + ");"
      "INSERT INTO soft_failures VALUES (NULL, NULL);";
  make_sqlite(d / "dump/private/var/Keychains/Analytics/trust.db", sql);
  auto src = open_fs(d / "dump");
  auto run = run_fs_module(*src, d, "Analytics", "analytics",
                           stix_bundle({"[process:name='evilproc']", "[domain-name:value='evil.example']"}));
  ASSERT_TRUE(run.doc.is_array());
  ASSERT_EQ(run.doc.size(), 2u);
  EXPECT_EQ(run.doc[0]["host"], "c2.evil.example");
  EXPECT_EQ(run.doc[0]["isodate"], "2017-07-14 02:40:00.000000");
  EXPECT_EQ(run.doc[0]["artifact"], "trust.db");
  EXPECT_EQ(run.doc[1]["process"], "evilproc");
  EXPECT_EQ(run.alerts(Level::Critical).size(), 2u);
  ASSERT_FALSE(run.rows().empty());
  EXPECT_EQ(run.rows()[0]->event, "trust.db");
}

}  // namespace

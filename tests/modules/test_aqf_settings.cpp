#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"

namespace bridle::test {
namespace {

TEST(AqfSettings, NamespacesAndDangerousValues) {
  MemAndroidSource src("androidqf");
  src.add("qf/settings_secure.txt", "package_verifier_enable=0\naccessibility_enabled=1\nfoo=bar=baz\nnoequals\n");
  src.add("qf/settings_global.txt", "samsung_errorlog_agree=1\nadb_install_need_confirm=1\n");
  auto cap = run_module("AQFSettings", src);
  ASSERT_EQ(cap.records.size(), 3u);  // one per namespace, then the document (MVT's dict)
  EXPECT_EQ(cap.records[2]["secure"]["package_verifier_enable"], "0");
  EXPECT_EQ(cap.records[2]["global"]["samsung_errorlog_agree"], "1");
  EXPECT_EQ(cap.records[0]["namespace"], "secure");
  EXPECT_EQ(cap.records[0]["settings"]["foo"], "bar=baz");
  ASSERT_EQ(cap.count_level(Level::Medium), 2u);
  EXPECT_EQ(cap.alerts[0].record["key"], "package_verifier_enable");
  EXPECT_EQ(cap.alerts[0].message,
            "Found suspicious \"secure\" setting \"package_verifier_enable = 0\" (disabled Google Play Protect)");
  EXPECT_EQ(cap.alerts[1].record["key"], "accessibility_enabled");
}

}  // namespace
}  // namespace bridle::test

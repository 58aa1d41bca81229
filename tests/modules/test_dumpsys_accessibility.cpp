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

TEST(DumpsysAccessibility, OldAndNewFormats) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto old = run_on_dumpstate("DumpsysAccessibility", "DUMP OF SERVICE accessibility:\n" + corpus("dumpsys_accessibility.txt"));
  ASSERT_EQ(old.records.size(), 4u);
  EXPECT_EQ(old.records[0]["package_name"], "com.android.settings");
  EXPECT_EQ(old.records[1]["service"], "com.samsung.accessibility/.universalswitch.UniversalSwitchService");
  EXPECT_EQ(old.count_level(Level::Medium), 4u);
  auto v14 = run_on_dumpstate("DumpsysAccessibility", corpus("dumpsys_accessibility_v14_or_later.txt"));
  ASSERT_EQ(v14.records.size(), 1u);
  EXPECT_EQ(v14.records[0]["package_name"], "com.malware.accessibility");
  EXPECT_EQ(v14.records[0]["service"], "com.malware.service.malwareservice");
}

TEST(DumpsysAccessibility, Hostile) {
  auto cap = run_on_dumpstate("DumpsysAccessibility",
                              "DUMP OF SERVICE accessibility:\n installed services:\nno colon\n x : \n"
                              "Enabled services:{{{{}}}{a/b}{c}{\n");
  // The old-format block has no closing "}", so the "Enabled services" line is also read as an
  // old-format entry (as MVT does), plus {a/b} and {c} from the new format.
  EXPECT_EQ(cap.records.size(), 3u);
}

}  // namespace
}  // namespace bridle::test


#include <gtest/gtest.h>

#include "core/util.hpp"
#include "support/android_mem_source.hpp"
#include "support/support.hpp"

namespace bridle::test {
namespace {

TEST(DumpsysPlatformCompat, RawOverrides) {
  auto cap = run_on_dumpstate("DumpsysPlatformCompat",
                              "DUMP OF SERVICE platform_compat:\nChangeId(168419799; name=DOWNSCALED; disabled; "
                              "packageOverrides={x=false}; rawOverrides={a.b=false, c.d=true}; overridable)\n"
                              "ChangeId(168419799; name=DOWNSCALED; rawOverrides={unterminated\n");
  ASSERT_EQ(cap.records.size(), 2u);
  EXPECT_EQ(cap.records[0]["package_name"], "a.b");
  EXPECT_EQ(cap.records[1]["package_name"], "c.d");
}

TEST(DumpsysPlatformCompat, Corpus) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto a = read_file(shared / "corpus/mvt/android_data/dumpsys_platform_compat.txt", 1 << 24);
  ASSERT_TRUE(a);
  EXPECT_EQ(run_on_dumpstate("DumpsysPlatformCompat", *a).records.size(), 2u);
  auto b = read_file(shared / "corpus/mvt/android_data/bugreport/dumpstate.txt", 1 << 24);
  auto cap = run_on_dumpstate("DumpsysPlatformCompat", *b);
  auto mvt = read_file(shared / "corpus/mvt-results/android_check_bugreport/dumpsys_platform_compat.json", 1 << 20);
  EXPECT_EQ(Json::parse(*mvt), Json(cap.records));
}

}  // namespace
}  // namespace bridle::test

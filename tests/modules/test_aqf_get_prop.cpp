#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"

namespace bridle::test {
namespace {

TEST(AqfGetProp, PropertiesAndOldPatch) {
  MemAndroidSource src("androidqf");
  src.add("qf/getprop.txt",
          "[dalvik.vm.heapmaxfree]: [8m]\n[persist.sys.timezone]: [Europe/Rome]\n[empty]: []\n"
          "[ro.build.version.security_patch]: [2023-01-05]\n");
  src.acquisition = Json{{"started", "2023-07-24T00:38:44Z"}};  // 200 days later
  auto cap = run_module("AQFGetProp", src);
  ASSERT_EQ(cap.records.size(), 3u);
  EXPECT_EQ(cap.records[0]["name"], "dalvik.vm.heapmaxfree");
  EXPECT_EQ(cap.records[0]["value"], "8m");
  EXPECT_EQ(cap.count_level(Level::Medium), 1u);
  EXPECT_NE(cap.alerts[0].message.find("2023-01-05"), std::string::npos);
  // Within six months of the acquisition: no alert.
  src.acquisition = Json{{"started", "2023-03-01T00:00:00Z"}};
  EXPECT_EQ(run_module("AQFGetProp", src).alerts.size(), 0u);
  auto m = make_module("AQFGetProp");
  std::vector<Observation> obs;
  m->observe(cap.records[0], obs);
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].kind, ObsKind::Property);
}

}  // namespace
}  // namespace bridle::test

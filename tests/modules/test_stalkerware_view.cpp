#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"

namespace bridle::test {
namespace {

const char* kDumpsys =
    "DUMP OF SERVICE accessibility:\n"
    "  enabled services: {\n"
    "    0 : com.spy.app/.AccService\n"
    "    1 : com.store.app/.Acc\n"
    "  }\n"
    "DUMP OF SERVICE device_policy:\n"
    "  Enabled Device Admins (User 0, provisioningState: 0):\n"
    "    com.spy.app/.AdminReceiver:\n"
    "      uid=10123\n"
    "\n"
    "DUMP OF SERVICE package:\n";

TEST(StalkerwareView, AccessibilityPlusAdminNotFromStoreIsHigh) {
  MemAndroidSource src("androidqf");
  src.add("qf/dumpsys.txt", kDumpsys);
  src.add("qf/settings_secure.txt",
          "enabled_notification_listeners=com.other.app/.Listener:com.store.app/.L\n"
          "enabled_accessibility_services=com.other.app/.Acc\n");
  src.add("qf/packages.json",
          R"([{"name":"com.spy.app","installer":"null","system":false},
              {"name":"com.store.app","installer":"com.android.vending","system":false},
              {"name":"com.other.app","installer":"com.android.packageinstaller","system":false}])");
  auto cap = run_module("StalkerwareView", src);
  ASSERT_EQ(cap.records.size(), 3u);
  ASSERT_EQ(cap.count_level(Level::High), 2u);
  EXPECT_EQ(cap.alerts[0].record["package_name"], "com.other.app");  // accessibility + listener, browser
  EXPECT_EQ(cap.alerts[1].record["package_name"], "com.spy.app");    // accessibility + admin, adb
  EXPECT_EQ(cap.alerts[1].record["device_admins"], Json::array({"com.spy.app/.AdminReceiver"}));
  EXPECT_NE(cap.alerts[1].message.find("accessibility service + device admin"), std::string::npos);
}

TEST(StalkerwareView, NewAccessibilitySyntaxAndNoInputs) {
  MemAndroidSource src("androidqf");
  src.add("qf/dumpsys.txt", "DUMP OF SERVICE accessibility:\n     Enabled services:{{com.x/.S}, {com.y/.T}}\n");
  src.add("qf/settings_secure.txt", "enabled_notification_listeners=com.x/.N\n");
  auto cap = run_module("StalkerwareView", src);
  ASSERT_EQ(cap.records.size(), 2u);
  ASSERT_EQ(cap.count_level(Level::High), 1u);  // com.x: installer unknown
  EXPECT_EQ(cap.alerts[0].record["installer"], nullptr);
  MemAndroidSource empty("androidqf");
  EXPECT_TRUE(run_module("StalkerwareView", empty).records.empty());
}

}  // namespace
}  // namespace bridle::test

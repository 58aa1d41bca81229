#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"

namespace bridle::test {
namespace {

TEST(Mounts, SystemReadWriteAndOptions) {
  MemAndroidSource src("androidqf");
  src.add("qf/mounts.json", R"J([
    "/dev/block/dm-0 on /system type ext4 (rw,seclabel,relatime)",
    "/dev/block/dm-1 on /vendor type ext4 (ro,seclabel,noatime)",
    "/dev/block/dm-2 on /product/app type ext4 (ro,nodiratime)",
    "tmpfs on /dev type tmpfs (rw,seclabel,nosuid)",
    "not a mount line"])J");
  auto cap = run_module("Mounts", src);
  ASSERT_EQ(cap.records.size(), 4u);
  EXPECT_EQ(cap.records[0]["mount_point"], "/system");
  EXPECT_EQ(cap.records[0]["filesystem_type"], "ext4");
  EXPECT_EQ(cap.records[0]["options_list"].size(), 3u);
  EXPECT_TRUE(cap.records[0]["is_read_write"].get<bool>());
  EXPECT_FALSE(cap.records[3]["is_system_partition"].get<bool>());
  ASSERT_EQ(cap.count_level(Level::High), 1u);
  EXPECT_EQ(cap.alerts[0].message, "Root detected /system partition is mounted as read-write (rw)");
  EXPECT_EQ(cap.count_level(Level::Medium), 1u);  // nodiratime on /product/app; noatime on /vendor is allowed
  std::vector<Observation> obs;
  make_module("Mounts")->observe(cap.records[0], obs);
  EXPECT_EQ(obs.size(), 2u);
}

}  // namespace
}  // namespace bridle::test

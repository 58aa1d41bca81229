#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"
#include "support/support.hpp"

namespace bridle::test {
namespace {

TEST(ConnectEvent, IpAfterLastSlashSkipsLoopback) {
  MemAndroidSource src("intrusion_logs");
  src.add("x.txt", R"({"connect_event": {"event_time": 1000, "ip_address": "host/10.0.0.1", "port": 443, "package_name": "com.y"}})"
                   "\n"
                   R"({"connect_event": {"event_time": 2000, "ip_address": "/127.0.0.1", "port": 1, "package_name": "com.z"}})"
                   "\n");
  auto cap = run_module("ConnectEvent", src);
  ASSERT_EQ(cap.records.size(), 2u);
  EXPECT_EQ(cap.records[0]["timestamp"], "1970-01-01 00:00:01.000000");
  auto m = make_module("ConnectEvent");
  std::vector<Observation> a, b;
  m->observe(cap.records[0], a);
  m->observe(cap.records[1], b);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].kind, ObsKind::Ip);
  EXPECT_EQ(a[0].value, "10.0.0.1");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].kind, ObsKind::AppId);
}

}  // namespace
}  // namespace bridle::test

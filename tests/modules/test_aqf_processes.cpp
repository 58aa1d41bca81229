#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"

namespace bridle::test {
namespace {

TEST(AqfProcesses, ParsesPsWithAndWithoutLabel) {
  MemAndroidSource src("androidqf");
  src.add("qf/ps.txt",
          "USER           PID  PPID     VSZ    RSS WCHAN            ADDR S NAME\n"
          "root             1     0   57912   2084 0                   0 S init\n"
          "root             2     0       0      0 0                   0 S [kthreadd]\r\n"
          "u:r:untrusted_app:s0:c1 u0_a1 900 1 100 200 SyS_epoll 0 S com.evil.app\n"
          "garbage\n");
  auto cap = run_module("AQFProcesses", src);
  ASSERT_EQ(cap.records.size(), 3u);
  EXPECT_EQ(cap.records[0]["proc_name"], "init");
  EXPECT_EQ(cap.records[0]["pid"], 1);
  EXPECT_EQ(cap.records[0]["aprocress"], "0");
  EXPECT_EQ(cap.records[1]["proc_name"], "kthreadd");
  EXPECT_EQ(cap.records[2]["label"], "u:r:untrusted_app:s0:c1");
  EXPECT_EQ(cap.records[2]["user"], "u0_a1");
  auto m = make_module("AQFProcesses");
  std::vector<Observation> obs;
  m->observe(cap.records[2], obs);
  ASSERT_EQ(obs.size(), 2u);
  EXPECT_EQ(obs[0].kind, ObsKind::AppId);
  EXPECT_EQ(obs[1].kind, ObsKind::Process);
  obs.clear();
  m->observe(Json{{"proc_name", "gatekeeperd"}}, obs);
  EXPECT_EQ(obs.size(), 1u);
}

}  // namespace
}  // namespace bridle::test

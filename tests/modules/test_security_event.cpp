#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"
#include "support/support.hpp"

namespace bridle::test {
namespace {

TEST(SecurityEvent, ObservablesAndHeuristics) {
  MemAndroidSource src("intrusion_logs");
  src.add("s.txt",
          R"({"security_event": {"event_id": 1, "event_time": 1750000000000000000, "app_process_start": {"process": "com.a:sandboxed:svc", "uid": 10001}}}
{"security_event": {"event_id": 2, "event_time": 1, "package_installed": {"package_name": "com.b"}}}
{"security_event": {"event_id": 3, "event_time": 1, "adb_shell_cmd": {"command": "com.c"}}}
{"security_event": {"event_id": 4, "event_time": 1, "adb_sync_send_file": {"path": "/data/local/tmp/x"}}}
{"security_event": {"event_id": 5, "event_time": 1, "cert_validation_failure": {"reason": "bad"}}}
{"security_event": {"event_id": 6, "event_time": 1, "key_integrity_violation": {"key_id": "k"}}}
{"security_event": {"event_id": 7, "event_time": 1, "cert_authority_installed": {"success": 1, "subject": "CN=x"}}}
{"security_event": {"event_id": 8, "event_time": 1, "cert_authority_installed": {"success": 0, "subject": "CN=y"}}}
{"security_event": {"event_id": 9, "event_time": 1, "wipe_failure": {}}}
{"security_event": {"event_id": 10, "event_time": 1, "crypto_self_test_completed": {"success": false}}}
{"security_event": {"event_id": 11, "event_time": 1, "crypto_self_test_completed": {"success": true}}}
{"security_event": {"event_id": 12, "event_time": 1, "key_generated": {"success": 0, "key_id": "K"}}}
{"security_event": {"event_id": 13, "event_time": 1, "brand_new_tag": {}}}
)");
  auto cap = run_module("SecurityEvent", src);
  ASSERT_EQ(cap.records.size(), 13u);
  EXPECT_EQ(cap.records[0]["timestamp"], "2025-06-15 15:06:40.000000");
  EXPECT_EQ(cap.count_level(Level::Medium), 5u);
  EXPECT_TRUE(cap.logged("Failed key generation detected for key_id: K"));
  EXPECT_TRUE(cap.logged("brand_new_tag"));
  auto m = make_module("SecurityEvent");
  std::vector<Observation> obs;
  for (int i = 0; i < 4; ++i) m->observe(cap.records[i], obs);
  ASSERT_EQ(obs.size(), 6u);
  EXPECT_EQ(obs[0].value, "com.a:sandboxed:svc");
  EXPECT_EQ(obs[1].value, "sandboxed");
  EXPECT_EQ(obs[2].value, "svc");
  EXPECT_EQ(obs[3].value, "com.b");
  EXPECT_EQ(obs[4].value, "com.c");
  EXPECT_EQ(obs[5].kind, ObsKind::FilePath);
}

}  // namespace
}  // namespace bridle::test

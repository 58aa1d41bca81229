#include <gtest/gtest.h>

#include "modules/android/intrusion_logs.hpp"
#include "support/android_mem_source.hpp"
#include "support/support.hpp"

namespace bridle::test {
namespace {

TEST(DnsEvent, LoadsDedupsAndObserves) {
  MemAndroidSource src("intrusion_logs");
  std::string line =
      R"({"dns_event": {"event_time": 1750000000123, "hostname": "evil.example", "ip_addresses": ["/1.2.3.4", "0.0.0.0"], "package_name": "com.x"}})";
  src.add("a/day1.txt", line + "\n" + R"({"mystery_event": {"a": 1}})" + "\nnot json\n");
  src.add("a/day2.TXT", line + "\n");  // duplicate across files
  src.add("a/readme.md", line + "\n");  // not a .txt
  auto cap = run_module("DnsEvent", src);
  ASSERT_EQ(cap.records.size(), 1u);
  EXPECT_EQ(cap.records[0]["timestamp"], "2025-06-15 15:06:40.123000");
  EXPECT_TRUE(cap.logged("mystery_event"));
  EXPECT_TRUE(cap.logged("Failed to parse JSON on line 3"));
  EXPECT_TRUE(cap.logged("Removed 1 duplicate"));
  auto m = make_module("DnsEvent");
  std::vector<Observation> obs;
  m->observe(cap.records[0], obs);
  ASSERT_EQ(obs.size(), 3u);
  EXPECT_EQ(obs[0].kind, ObsKind::Domain);
  EXPECT_EQ(obs[1].kind, ObsKind::Ip);
  EXPECT_EQ(obs[1].value, "1.2.3.4");
  EXPECT_EQ(obs[2].kind, ObsKind::AppId);
  std::vector<TimelineRow> rows;
  m->timeline(cap.records[0], rows);
  EXPECT_EQ(rows[0].description, "DNS query for evil.example by com.x [IPs: 1.2.3.4]");
}

TEST(DnsEvent, HostileLines) {
  IntrusionEvents ev;
  std::map<std::string, bool> seen;
  std::string deep(100000, '[');
  parse_intrusion_text(deep + "\n" + std::string(2 << 20, 'x') + "\n{\"dns_event\": 5}\n[1,2]\n\xff\xfe\n", "f", ev,
                       seen);
  EXPECT_TRUE(ev.by_type.empty());
  // The over-nested and the over-long line were not examined: problems (the scan is partial);
  // the lines that are not JSON objects are warnings.
  ASSERT_EQ(ev.problems.size(), 2u);
  for (auto& p : ev.problems) EXPECT_TRUE(p.unread) << p.message;
  EXPECT_NE(ev.problems[0].message.find("nested too deeply"), std::string::npos);
  EXPECT_NE(ev.problems[1].message.find("over-long line 2"), std::string::npos);
  EXPECT_GE(ev.warnings.size(), 2u);
}

}  // namespace
}  // namespace bridle::test

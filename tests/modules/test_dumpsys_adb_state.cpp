#include <gtest/gtest.h>

#include "core/util.hpp"
#include "modules/android/dumpstate.hpp"
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

TEST(DumpsysADBState, FingerprintAndXmlKeystore) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto cap = run_on_dumpstate("DumpsysADBState", corpus("dumpsys_adb.txt"));
  ASSERT_EQ(cap.records.size(), 1u);
  auto& r = cap.records[0];
  ASSERT_EQ(r["user_keys"].size(), 1u);
  EXPECT_EQ(r["user_keys"][0]["fingerprint"], "F0:A1:3D:8C:B3:F4:7B:09:9F:EE:8B:D8:38:2E:BD:C6");
  EXPECT_EQ(r["user_keys"][0]["user"], "user@linux");
  EXPECT_EQ(r["connected_to_adb"], "true");
  EXPECT_EQ(cap.alerts.size(), 0u);  // no androidqf context
  auto wifi = run_on_dumpstate("DumpsysADBState", corpus("dumpsys_adb_wifi.txt"));
  EXPECT_EQ(wifi.records.size(), 1u);
  auto xml = run_on_dumpstate("DumpsysADBState", corpus("dumpsys_adb_xml.txt"));
  ASSERT_EQ(xml.records.size(), 1u);
  EXPECT_NE(xml.records[0]["keystore"].get<std::string>().find("lastConnection=\"1628501829898\""), std::string::npos);
}

TEST(DumpsysADBState, AndroidqfHeuristics) {
  BRIDLE_REQUIRE_SHARED(shared);
  MemAndroidSource src("bugreport");
  src.dumpstate = Dumpstate::from_text(corpus("dumpsys_adb_xml.txt"));
  // No host key: LOW.
  src.acquisition = Json{{"started", "2025-02-04 20:00:00.000000"}};
  auto a = run_module("DumpsysADBState", src);
  EXPECT_EQ(a.count_level(Level::Low), 1u);
  // Same key, last connected years before: INFORMATIONAL.
  src.acquisition["adb_host_public_key"] = "QAAAAAcgbytJst31DsaSP7hn8QcBXKR9NPVPK9MZssFVSNIP user@laptop";
  auto b = run_module("DumpsysADBState", src);
  EXPECT_EQ(b.count_level(Level::Informational), 1u);
  EXPECT_EQ(b.count_level(Level::Low), 0u);
  // Another key: LOW.
  src.acquisition["adb_host_public_key"] = "QUJD other@host";
  auto c = run_module("DumpsysADBState", src);
  EXPECT_EQ(c.count_level(Level::Low), 1u);
}

TEST(DumpsysADBState, MissingOrHostile) {
  auto none = run_on_dumpstate("DumpsysADBState", "DUMP OF SERVICE adb:\nnothing here\n");
  EXPECT_EQ(none.records.size(), 0u);
  std::string deep = "DUMP OF SERVICE adb:\n{\n";
  for (int i = 0; i < 10000; ++i) deep += "a={\n";
  deep += "debugging_manager={\nuser_keys=!!!notbase64 u\n\n}\n";
  auto cap = run_on_dumpstate("DumpsysADBState", deep);
  EXPECT_LE(cap.records.size(), 1u);
}

}  // namespace
}  // namespace bridle::test


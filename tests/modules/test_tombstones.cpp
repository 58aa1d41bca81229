#include <gtest/gtest.h>

#include "core/util.hpp"
#include "support/android_mem_source.hpp"
#include "support/support.hpp"

namespace bridle::test {
namespace {

TEST(Tombstones, CorpusBugreportMatchesMvt) {
  BRIDLE_REQUIRE_SHARED(shared);
  MemAndroidSource src;
  // MVT listed tombstone_01 first; file times as MVT saw them (2026-08-19 21:15:48).
  for (const char* n : {"tombstone_01", "tombstone_00"}) {
    auto d = read_file(shared / "corpus/mvt/android_data/bugreport/FS/data/tombstones" / n, 1 << 20);
    ASSERT_TRUE(d);
    src.add(std::string("FS/data/tombstones/") + n, *d, 1787174148);
  }
  auto cap = run_module("Tombstones", src);
  ASSERT_EQ(cap.records.size(), 2u);
  EXPECT_EQ(cap.count_level(Level::Medium), 2u);
  auto mvt = read_file(shared / "corpus/mvt-results/android_check_bugreport/tombstones.json", 1 << 20);
  Json expect = Json::parse(*mvt);
  // MVT's own order is 00, 01 (sorted listing); compare by file name.
  for (auto& e : expect) {
    bool found = false;
    for (auto& r : cap.records)
      if (r["file_name"] == e["file_name"]) { EXPECT_EQ(e, r); found = true; }
    EXPECT_TRUE(found);
  }
  EXPECT_EQ(cap.alerts[0].message.find("Potentially suspicious crash in process"), 0u);
}

TEST(Tombstones, TextAndProtobufArtifacts) {
  BRIDLE_REQUIRE_SHARED(shared);
  MemAndroidSource src;
  auto t = read_file(shared / "corpus/mvt/android_data/tombstone_process.txt", 1 << 24);
  auto p = read_file(shared / "corpus/mvt/android_data/tombstone_process.pb", 1 << 24);
  ASSERT_TRUE(t && p);
  src.add("data/tombstone_00", *t);
  src.add("data/tombstone_01.pb", *p);
  auto cap = run_module("Tombstones", src);
  ASSERT_EQ(cap.records.size(), 2u);
  auto& tx = cap.records[0];
  EXPECT_EQ(tx["timestamp"], "2023-04-12 12:32:40.518290");
  EXPECT_EQ(tx["pid"], 25541);
  EXPECT_EQ(tx["tid"], 21307);
  EXPECT_EQ(tx["uid"], 1046);
  EXPECT_EQ(tx["process_name"], "mtk.ape.decoder");
  EXPECT_EQ(tx["command_line"][0], "/vendor/bin/hw/android.hardware.media.c2@1.2-mediatek");
  EXPECT_EQ(tx["signal_info"]["name"], "SIGSEGV");
  EXPECT_EQ(tx["cause"], "null pointer dereference");
  auto& pb = cap.records[1];
  EXPECT_EQ(pb["build_fingerprint"], tx["build_fingerprint"]);
  EXPECT_EQ(pb["pid"], 25541);
  EXPECT_EQ(pb["uid"], 1046);
  EXPECT_EQ(pb["timestamp"], "2023-04-12 12:32:40.518290");
  EXPECT_EQ(pb["signal_info"]["code_name"], "SEGV_MAPERR");
  EXPECT_EQ(pb["causes"][0]["human_readable"], "null pointer dereference");
  EXPECT_EQ(pb["process_name"], "mtk.ape.decoder");
  EXPECT_EQ(cap.alerts.size(), 0u);  // uid 1046 is not root/system/shell
  auto m = make_module("Tombstones");
  std::vector<Observation> obs;
  m->observe(pb, obs);
  ASSERT_EQ(obs.size(), 2u);
  EXPECT_EQ(obs[1].value, "android.hardware.media.c2@1.2-mediatek");
}

TEST(Tombstones, HostileProtobufIsTotal) {
  MemAndroidSource src;
  std::string s;
  for (int i = 0; i < 5000; ++i) s += static_cast<char>((i * 131 + 7) & 0xff);
  src.add("x/tombstone_1.pb", s);
  src.add("x/tombstone_2.pb", std::string("\x82\x01\xff\xff\xff\xff\x0f", 7));  // huge length
  src.add("x/tombstone_3.pb", std::string(20, '\xff'));                         // endless varint
  src.add("x/tombstone_4", "pid: x, tid: , name:\nsignal\nsignal 9999999999999999999999 (\nuid: -\nTimestamp: 99");
  auto cap = run_module("Tombstones", src);
  EXPECT_LE(cap.records.size(), 4u);
}

}  // namespace
}  // namespace bridle::test

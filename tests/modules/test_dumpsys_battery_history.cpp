#include <gtest/gtest.h>

#include "core/util.hpp"
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

TEST(DumpsysBatteryHistory, Corpus) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto cap = run_on_dumpstate("DumpsysBatteryHistory", "DUMP OF SERVICE batterystats:\n" + corpus("dumpsys_battery.txt"));
  ASSERT_EQ(cap.records.size(), 5u);
  EXPECT_EQ(cap.records[0].dump(),
            R"({"time_elapsed":"+47s645ms","event":"start_job","uid":"u0a94","package_name":"com.samsung.android.app.reminder","service":"com.samsung.android.app.reminder/.data.alarmregister.RegisterAlarmJobService"})");
  EXPECT_EQ(cap.records[2]["event"], "start_top");
  EXPECT_EQ(cap.records[2]["package_name"], "com.whatsapp");
}

TEST(DumpsysBatteryHistory, WakeAndHostile) {
  auto cap = run_on_dumpstate("DumpsysBatteryHistory",
                              "DUMP OF SERVICE batterystats:\nBattery History (x):\n"
                              " +1s (2) 100 +running +wake_lock=u0a1:\"*walarm*:com.x/.A\"\n"
                              " +2s +job=\n +3s -top=nocolon\n+job=u0:x\n");
  ASSERT_EQ(cap.records.size(), 1u);
  EXPECT_EQ(cap.records[0]["event"], "wake");
  EXPECT_EQ(cap.records[0]["package_name"], "com.x");
}

}  // namespace
}  // namespace bridle::test


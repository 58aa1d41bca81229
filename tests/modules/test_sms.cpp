// BackupSMS (slug "sms"): SMS/MMS from the telephony provider files of an adb backup.
#include <gtest/gtest.h>

#include "engine/engine.hpp"
#include "support/android_mem_source.hpp"

namespace bridle::test {
namespace {

TEST(BackupSms, SmsAndMms) {
  MemAndroidSource src("backup");
  src.add("apps/com.android.providers.telephony/d_f/000001_mms_backup",
          zlib_compress(R"([{"date":"1579531789","date_sent":"1579531786","mms_body":"see http://evil.example.com/x","mms_charset":106}])"));
  src.add("apps/com.android.providers.telephony/d_f/000000_sms_backup",
          zlib_compress(R"([{"address":"123","body":"Hi https://google.com/","date":"1645543781956","date_sent":"0"},
                {"address":"456","body":"no link","date":"0","date_sent":"0"},
                {"address":"789","body":"  ","date":"x","date_sent":"0"}])"));
  src.add("apps/com.android.providers.telephony/d_f/000002_sms_backup", "not zlib");
  auto cap = run_module("BackupSMS", src);
  ASSERT_EQ(cap.records.size(), 4u);
  EXPECT_EQ(cap.records[0]["isodate"], "2022-02-22 15:29:41.956000");
  EXPECT_EQ(cap.records[0]["direction"], "received");
  EXPECT_EQ(cap.records[0]["links"], Json::array({"https://google.com/"}));
  EXPECT_FALSE(cap.records[1].contains("links"));
  EXPECT_EQ(cap.records[2]["links"], Json::array());  // blank body
  // MMS last; mms_body renamed to body (appended).
  EXPECT_EQ(cap.records[3]["body"], "see http://evil.example.com/x");
  EXPECT_FALSE(cap.records[3].contains("mms_body"));
  EXPECT_EQ(cap.records[3]["direction"], "sent");
  EXPECT_EQ(cap.records[3]["isodate"], "1970-01-19 06:45:31.789000");
  bool unread = false;
  for (auto& d : cap.diags) unread = unread || d.unread;
  EXPECT_TRUE(unread);  // the damaged file
  auto m = make_module("BackupSMS");
  EXPECT_EQ(m->info().slug, "sms");
  std::vector<Observation> obs;
  m->observe(cap.records[3], obs);
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].kind, ObsKind::Url);
}

TEST(BackupSms, SelectableBySlugWithoutClashingWithIos) {
  auto mods = ModuleRegistry::instance().create(kAndroidBackup);
  std::string err;
  ASSERT_TRUE(select_modules(mods, {"sms"}, &err)) << err;
  ASSERT_EQ(mods.size(), 1u);
  EXPECT_EQ(mods[0]->info().name, "BackupSMS");
  auto ios = ModuleRegistry::instance().create(kIosBackup);
  ASSERT_TRUE(select_modules(ios, {"sms"}, &err));
  EXPECT_EQ(ios[0]->info().name, "SMS");
}

}  // namespace
}  // namespace bridle::test

#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"

namespace bridle::test {
namespace {

const char* kPackages = R"([
 {"name":"com.topjohnwu.magisk","installer":"null","system":false,"disabled":false,"files":[]},
 {"name":"org.side.loaded","installer":"null","system":false,"disabled":false,
  "files":[{"path":"/data/app/x/base.apk","sha256":"aa11","certificate":{"Md5":"m5","Sha1":"s1","Sha256":"s256"}}]},
 {"name":"com.browser.app","installer":"com.android.packageinstaller","system":false,"disabled":false,"files":[]},
 {"name":"org.store.app","installer":"com.aurora.store","system":false,"disabled":false,"files":[]},
 {"name":"com.android.vendor","installer":"null","system":true,"disabled":false,"files":[]},
 {"name":"com.policydm","installer":"com.android.vending","system":true,"disabled":true,"files":[]},
 {"name":"com.play.app","installer":"com.android.vending","system":false,"disabled":false,"files":[],
  "certificate_serial":955466096586930338769951715633687128507538251257}
])";

TEST(AqfPackages, RecordsHeuristicsAndObservables) {
  MemAndroidSource src("androidqf");
  src.add("qf/packages.json", kPackages);
  auto cap = run_module("AQFPackages", src);
  ASSERT_EQ(cap.records.size(), 7u);
  EXPECT_EQ(cap.records[0]["name"], "com.topjohnwu.magisk");
  // Root package (then nothing else for it), adb, browser, disabled security: MEDIUM; store: INFO.
  EXPECT_EQ(cap.count_level(Level::Medium), 4u);
  EXPECT_EQ(cap.count_level(Level::Informational), 1u);
  EXPECT_NE(cap.alerts[0].message.find("rooting"), std::string::npos);
  EXPECT_NE(cap.alerts[1].message.find("installed via adb or another method: \"org.side.loaded\""), std::string::npos);
  // Big integers keep their digits.
  EXPECT_EQ(cap.records[6]["certificate_serial"], "955466096586930338769951715633687128507538251257");
  auto m = make_module("AQFPackages");
  std::vector<Observation> obs;
  m->observe(cap.records[1], obs);
  ASSERT_EQ(obs.size(), 5u);
  EXPECT_EQ(obs[0].kind, ObsKind::AppId);
  EXPECT_EQ(obs[1].kind, ObsKind::FileHash);
  EXPECT_EQ(obs[1].value, "aa11");
  EXPECT_EQ(obs[4].kind, ObsKind::CertHash);
  EXPECT_EQ(obs[4].value, "s256");
}

TEST(AqfPackages, MissingAndBroken) {
  MemAndroidSource none("androidqf");
  EXPECT_TRUE(run_module("AQFPackages", none).records.empty());
  MemAndroidSource bad("androidqf");
  bad.add("qf/packages.json", "{not json");
  auto cap = run_module("AQFPackages", bad);
  EXPECT_TRUE(cap.records.empty());
  bool unread = false;
  for (auto& d : cap.diags) unread = unread || d.unread;
  EXPECT_TRUE(unread);
}

}  // namespace
}  // namespace bridle::test

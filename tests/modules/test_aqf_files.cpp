#include <gtest/gtest.h>

#include "support/android_mem_source.hpp"

namespace bridle::test {
namespace {

TEST(AqfFiles, ArrayLocalTimesAndSuspiciousPaths) {
  MemAndroidSource src("androidqf");
  src.add("qf/files.json",
          R"([{"path":"/data/local/tmp/implant","mode":"-rwxr-xr-x","changed_time":1593109532,"modified_time":1593109532,"access_time":1593109532,"context":"c","sha256":"ab"},
              {"path":"/data/local/tmp/collector","mode":"-rwxr-xr-x","modified_time":0},
              {"path":"/sdcard/x","mode":"-rw-------","changed_time":1550155672,"modified_time":1593109532,"access_time":1593109532,"context":"c"}])");
  src.timezone = "Europe/Rome";
  auto cap = run_module("AQFFiles", src);
  ASSERT_EQ(cap.records.size(), 3u);
  // 2020-06-25 18:25:32 UTC is 20:25:32 in Rome (CEST).
  EXPECT_EQ(cap.records[0]["modified_time"], "2020-06-25 20:25:32.000000");
  EXPECT_EQ(cap.records[2]["changed_time"], "2019-02-14 15:47:52.000000");
  ASSERT_EQ(cap.count_level(Level::High), 1u);
  EXPECT_EQ(cap.alerts[0].message, "Found executable file at suspicious path \"/data/local/tmp/implant\"");
  auto m = make_module("AQFFiles");
  std::vector<TimelineRow> rows;
  m->timeline(cap.records[2], rows);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].event, "--C-");
  EXPECT_EQ(rows[1].event, "MA--");
  EXPECT_EQ(rows[1].description, "/sdcard/x (c)");
  std::vector<Observation> obs;
  m->observe(cap.records[0], obs);
  ASSERT_EQ(obs.size(), 2u);
  EXPECT_EQ(obs[0].kind, ObsKind::FilePath);
  EXPECT_EQ(obs[1].kind, ObsKind::FileHash);
}

TEST(AqfFiles, NdjsonAndUtc) {
  MemAndroidSource src("androidqf");
  src.add("qf/files.json", "{\"path\":\"/a\",\"modified_time\":0}\n\n{\"path\":\"/b\",\"modified_time\":86400}\n");
  auto cap = run_module("AQFFiles", src);
  ASSERT_EQ(cap.records.size(), 2u);
  EXPECT_EQ(cap.records[1]["modified_time"], "1970-01-02 00:00:00.000000");
  EXPECT_TRUE(cap.logged("timezone"));
}

}  // namespace
}  // namespace bridle::test

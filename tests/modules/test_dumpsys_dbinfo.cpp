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

TEST(DumpsysDBInfo, Corpus) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto cap = run_on_dumpstate("DumpsysDBInfo", corpus("dumpsys_dbinfo.txt"));
  ASSERT_EQ(cap.records.size(), 5u);
  EXPECT_EQ(cap.records[0].dump(),
            R"({"isodate":"2023-07-27 12:21:44.097","pid":"0","action":"executeForCursorWindow","sql":"PRAGMA database_list;","path":"/data/user/0/com.wssyncmldm/databases/idmsdk.db"})");
  auto m = make_module("DumpsysDBInfo");
  std::vector<Observation> obs;
  m->observe(cap.records[0], obs);
  bool pkg = false;
  for (auto& o : obs) pkg = pkg || o.value == "com.wssyncmldm";
  EXPECT_TRUE(pkg);
}

TEST(DumpsysDBInfo, NoPidAndHostile) {
  auto cap = run_on_dumpstate("DumpsysDBInfo",
                              "DUMP OF SERVICE dbinfo:\nConnection pool for /d/x.db:\n  Most recently executed operations:\n"
                              "        0: [2023-07-27 12:21:44.097] prepare took 0ms, sql=\"SELECT 1\"\n"
                              "        1: [2023-07-27 12:21:44.097] [Pid:(]x sql=\"\n"
                              "        2: [9999-99-99 99:99:99.999]\n");
  ASSERT_EQ(cap.records.size(), 1u);
  EXPECT_FALSE(cap.records[0].contains("pid"));
  EXPECT_EQ(cap.records[0]["action"], "prepare");
}

}  // namespace
}  // namespace bridle::test


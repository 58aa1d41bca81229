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

TEST(BugReportTimestamps, FsMembersOnly) {
  MemAndroidSource src;
  src.add("FS/data/tombstones/tombstone_01", "x", 1787174148);
  src.add("dumpstate.txt", "y", 1);
  src.add("FS/proc/x", "z", 0);
  auto cap = run_module("BugReportTimestamps", src);
  ASSERT_EQ(cap.records.size(), 2u);
  EXPECT_EQ(cap.records[0].dump(), R"({"path":"FS/data/tombstones/tombstone_01","modified_time":"2026-08-19 21:15:48.000000"})");
  auto m = make_module("BugReportTimestamps");
  std::vector<TimelineRow> rows;
  m->timeline(cap.records[0], rows);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].event, "M---");
  (void)corpus;
}

}  // namespace
}  // namespace bridle::test


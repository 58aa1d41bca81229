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

TEST(DumpsysActivities, Corpus) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto cap = run_on_dumpstate("DumpsysActivities", "DUMP OF SERVICE package:\n" + corpus("dumpsys_packages.txt"));
  ASSERT_EQ(cap.records.size(), 4u);
  EXPECT_TRUE(cap.records[0].contains("intent"));
  EXPECT_EQ(cap.records[0].begin().key(), "intent");
}

}  // namespace
}  // namespace bridle::test


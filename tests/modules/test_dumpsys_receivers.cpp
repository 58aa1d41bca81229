#include <set>

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

TEST(DumpsysReceivers, CorpusGroupsByIntent) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto cap = run_on_dumpstate("DumpsysReceivers", "DUMP OF SERVICE package:\n" + corpus("dumpsys_packages.txt"));
  std::set<std::string> intents(cap.groups.begin(), cap.groups.end());
  EXPECT_EQ(intents.size(), 4u);
  EXPECT_TRUE(cap.logged("Extracted receivers for 4 intents"));
  for (auto& r : cap.records) EXPECT_TRUE(r.contains("receiver"));
}

}  // namespace
}  // namespace bridle::test


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

TEST(DumpsysGetProp, SystemPropertiesBlock) {
  BRIDLE_REQUIRE_SHARED(shared);
  std::string props = corpus("getprop.txt");
  auto cap = run_on_dumpstate("DumpsysGetProp", "------ SYSTEM PROPERTIES (getprop) ------\n" + props +
                                                    "[ro.build.version.security_patch]: [2019-01-01]\n------ end\n");
  EXPECT_EQ(cap.records.size(), 13u + 1u);  // MVT: 13 properties in getprop.txt
  EXPECT_EQ(cap.count_level(Level::Medium), 1u);
  auto m = make_module("DumpsysGetProp");
  std::vector<Observation> obs;
  m->observe(cap.records[0], obs);
  EXPECT_EQ(obs[0].kind, ObsKind::Property);
}

TEST(DumpsysGetProp, NoBlockNoRecords) {
  auto cap = run_on_dumpstate("DumpsysGetProp", "[a]: [b]\n");
  EXPECT_EQ(cap.records.size(), 0u);
}

}  // namespace
}  // namespace bridle::test


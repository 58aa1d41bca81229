// Filesystem: every entry with a leading "/", file:path and process-component matching,
// --fast, and acquisition problems reported as diagnostics.
#include <gtest/gtest.h>

#include "support/fs_dump.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

TEST(Filesystem, EntriesAndIndicators) {
  Scratch d;
  write_file(d / "dump/private/var/db/com.apple.xpc.roleaccountd.staging/bh", "x");
  write_file(d / "dump/private/var/mobile/Library/ok.txt", "x");
  auto src = open_fs(d / "dump");
  std::string stix = stix_bundle({"[process:name='bh']", "[file:path='/private/var/db/com.apple.xpc.roleaccountd.staging/']"});
  auto run = run_fs_module(*src, d, "Filesystem", "filesystem", stix);
  ASSERT_TRUE(run.doc.is_array());
  EXPECT_EQ(run.doc.size(), 8u);
  EXPECT_EQ(run.doc[0]["path"], "/private");
  for (auto& r : run.doc) {
    EXPECT_EQ(r["path"].get<std::string>().front(), '/');
    EXPECT_EQ(r["modified"].get<std::string>().size(), 26u);
  }
  auto high = run.alerts(Level::High);
  std::multiset<std::string> values;
  for (auto* a : high) values.insert(a->matched->value);
  EXPECT_EQ(values.count("bh"), 1u);
  EXPECT_EQ(values.count("/private/var/db/com.apple.xpc.roleaccountd.staging/"), 2u);
  // --fast: no process-name lookups on path components.
  auto fast = run_fs_module(*src, d, "Filesystem", "filesystem", stix, true);
  for (auto* a : fast.alerts()) EXPECT_NE(a->matched->value, "bh");
}

TEST(Filesystem, AcquisitionProblemsMakeTheRunPartial) {
  Scratch d;
  std::vector<ArchiveMember> m = {mfile("private/var/mobile/a.txt", "x")};
  std::string big;
  for (int i = 0; i < 30; ++i) {
    std::string noise(32 * 1024, '\0');
    for (std::size_t j = 0; j < noise.size(); ++j) noise[j] = static_cast<char>((j * 2654435761u + i) >> 13);
    m.push_back(mfile("private/var/mobile/n" + std::to_string(i), noise));
  }
  write_archive(d / "a.tar.gz", m, ArchiveFormat::TarGz);
  auto bytes = slurp(d / "a.tar.gz");
  write_file(d / "cut.tar.gz", bytes.substr(0, bytes.size() * 2 / 3));
  auto src = open_fs(d / "cut.tar.gz");
  ASSERT_TRUE(src);
  auto run = run_fs_module(*src, d, "Filesystem", "filesystem");
  EXPECT_TRUE(run.result.partial());
  EXPECT_GE(run.doc.size(), 4u);
}

}  // namespace

// core/util helpers: the shared file hash and ASCII lower-casing.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "core/util.hpp"
#include "support/support.hpp"

using namespace bridle;
using bridle::test::Scratch;
using bridle::test::write_file;

TEST(Sha256FileShared, EqualsTheHashAndFollowsChanges) {
  Scratch s;
  const auto p = s / "evidence.db";
  write_file(p, std::string(300000, 'a'));
  const auto first = sha256_file_shared(p);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, sha256_hex(std::string(300000, 'a')));
  EXPECT_EQ(sha256_file_shared(p), first);  // cached
  // Same name, other content and size: hashed again.
  write_file(p, std::string(300001, 'b'));
  EXPECT_EQ(sha256_file_shared(p), sha256_hex(std::string(300001, 'b')));
  // Same size, other content, other modification time: hashed again.
  write_file(p, std::string(300001, 'c'));
  std::filesystem::last_write_time(p, std::filesystem::last_write_time(p) + std::chrono::seconds(5));
  EXPECT_EQ(sha256_file_shared(p), sha256_hex(std::string(300001, 'c')));
  // Unreadable or missing: nullopt, never a stale value.
  EXPECT_FALSE(sha256_file_shared(s / "missing"));
  EXPECT_FALSE(sha256_file_shared(s.path()));
}

TEST(Sha256FileShared, ConcurrentCallersAgree) {
  Scratch s;
  const auto p = s / "big.bin";
  std::string data(4u << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 % 251);
  write_file(p, data);
  const std::string want = sha256_hex(data);
  std::vector<std::string> got(8);
  std::vector<std::thread> ts;
  for (std::size_t i = 0; i < got.size(); ++i)
    ts.emplace_back([&, i] { got[i] = sha256_file_shared(p).value_or("none"); });
  for (auto& t : ts) t.join();
  for (auto& g : got) EXPECT_EQ(g, want);
}

TEST(ToLower, AsciiOnlyBytesAboveAsciiKept) {
  EXPECT_EQ(to_lower("EVIL.Example.COM"), "evil.example.com");
  EXPECT_EQ(to_lower("@[`{"), "@[`{");  // neighbours of A-Z and a-z unchanged
  EXPECT_EQ(to_lower("\xC3\x89TAT"), "\xC3\x89tat");
}

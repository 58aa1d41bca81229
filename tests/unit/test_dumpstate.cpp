// The dumpstate splitter: sections, terminators, CRLF, missing terminators, system
// properties, hostile input; MVT's extracted section length on the corpus.
#include <gtest/gtest.h>

#include "core/util.hpp"
#include "modules/android/dumpstate.hpp"
#include "support/android_mem_source.hpp"
#include "support/support.hpp"

namespace bridle {
namespace {

const std::string kSep(78, '-');

TEST(Dumpstate, SplitsSections) {
  std::string t = "header\n" + kSep + "\nDUMP OF SERVICE appops:\nline1\n  line2\n" + kSep +
                  "\nDUMP OF SERVICE package:\nPackages:\n" + kSep + "\n";
  auto d = Dumpstate::from_text(t);
  EXPECT_EQ(d->service("appops"), "line1\n  line2");
  EXPECT_EQ(d->extract("appops"), "line1\n  line2");
  EXPECT_EQ(d->service("package"), "Packages:");
  EXPECT_TRUE(d->has_service("package"));
  EXPECT_FALSE(d->has_service("adb"));
  EXPECT_EQ(d->service("adb"), "");
  EXPECT_EQ(d->service_names().size(), 2u);
}

TEST(Dumpstate, CrlfAndMissingTerminator) {
  std::string t = "DUMP OF SERVICE a:\r\nx\r\ny\r\n" + kSep + "\r\nDUMP OF SERVICE b:\r\nz\r\n  \r\nlast";
  auto d = Dumpstate::from_text(t);
  EXPECT_EQ(d->extract("a"), "x\ny");
  EXPECT_EQ(d->extract("b"), "z\n  \nlast");
  // A header directly followed by another header: empty section, next one still found.
  auto e = Dumpstate::from_text("DUMP OF SERVICE a:\nDUMP OF SERVICE b:\nq");
  EXPECT_TRUE(e->has_service("a"));
  EXPECT_EQ(e->service("a"), "");
  EXPECT_EQ(e->service("b"), "q");
  // Header as the very last line.
  auto f = Dumpstate::from_text("DUMP OF SERVICE a:");
  EXPECT_TRUE(f->has_service("a"));
  EXPECT_EQ(f->service("a"), "");
}

TEST(Dumpstate, FirstDuplicateWinsAndSystemProperties) {
  std::string t = "DUMP OF SERVICE a:\none\n" + kSep + "\nDUMP OF SERVICE a:\ntwo\n" + kSep +
                  "\n------ SYSTEM PROPERTIES (getprop) ------\n[a]: [1]\n[b]: [2]\n------ 0.1s was the duration\n";
  auto d = Dumpstate::from_text(t);
  EXPECT_EQ(d->service("a"), "one");
  EXPECT_TRUE(d->has_system_properties());
  EXPECT_EQ(d->system_properties(), "[a]: [1]\n[b]: [2]");
}

TEST(Dumpstate, HostileBytes) {
  std::string junk;
  for (int i = 0; i < 200000; ++i) junk += static_cast<char>((i * 7919) & 0xff);
  junk += "\nDUMP OF SERVICE :\nDUMP OF SERVICE x:";
  auto d = Dumpstate::from_text(junk);
  EXPECT_TRUE(d->has_service("x"));
  auto e = Dumpstate::from_text(std::string(1 << 20, '\n'));
  EXPECT_TRUE(e->service_names().empty());
}

// Fed in chunks of any size, the splitter gives the same sections as over the whole text;
// with a keep filter, other sections are listed but their content is not kept.
TEST(Dumpstate, ChunkedAndFiltered) {
  std::string t = "pre\r\n------ SYSTEM PROPERTIES (getprop) ------\r\n[a]: [1]\r\n------ 0.1s\n" + kSep +
                  "\nDUMP OF SERVICE appops:\r\nline1\r\n  line2\r\n\r\n" + kSep + "\r\n  DUMP OF SERVICE big:\n" +
                  std::string(5000, 'x') + "\n" + kSep + "\nDUMP OF SERVICE package:\nPackages:\n  Package [a]\nlast\r";
  auto whole = Dumpstate::from_text(t);
  EXPECT_EQ(whole->service("appops"), "line1\r\n  line2\r\n");
  EXPECT_EQ(whole->service("package"), "Packages:\n  Package [a]\nlast");
  EXPECT_EQ(whole->system_properties(), "[a]: [1]");
  for (std::size_t step : {1u, 2u, 3u, 7u, 64u, 4999u}) {
    Dumpstate::Builder b([](std::string_view n) { return n != "big"; });
    for (std::size_t i = 0; i < t.size(); i += step) b.feed(std::string_view(t).substr(i, step));
    auto d = b.finish("p");
    EXPECT_EQ(d->service("appops"), whole->service("appops")) << step;
    EXPECT_EQ(d->service("package"), whole->service("package")) << step;
    EXPECT_EQ(d->system_properties(), whole->system_properties()) << step;
    EXPECT_EQ(d->service_names(), whole->service_names()) << step;
    EXPECT_TRUE(d->has_service("big"));
    EXPECT_EQ(d->service("big"), "");
    EXPECT_EQ(whole->service("big").size(), 5000u);
    EXPECT_EQ(d->size(), t.size());
    EXPECT_EQ(d->path(), "p");
  }
}

TEST(Dumpstate, LoadsThroughMainEntry) {
  test::MemAndroidSource src;
  src.add("main_entry.txt", "bugreport-x.txt\n");
  src.add("bugreport-x.txt", "DUMP OF SERVICE adb:\nhello\n");
  src.add("dumpState_1.log", "DUMP OF SERVICE adb:\nwrong\n");
  std::string err;
  auto d = load_dumpstate(src, &err);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->service("adb"), "hello");
  EXPECT_EQ(d->path(), "bugreport-x.txt");
  // Cached per source and shared.
  auto a = shared_dumpstate(src, &err), b = shared_dumpstate(src, &err);
  EXPECT_EQ(a.get(), b.get());

  test::MemAndroidSource s2;
  s2.add("dumpState_1.log", "DUMP OF SERVICE adb:\nlog\n");
  EXPECT_EQ(load_dumpstate(s2, &err)->service("adb"), "log");
  test::MemAndroidSource s3;
  s3.add("x/dumpsys.txt", "DUMP OF SERVICE adb:\nqf\n");
  EXPECT_EQ(load_dumpstate(s3, &err)->service("adb"), "qf");
  test::MemAndroidSource s4;
  EXPECT_FALSE(load_dumpstate(s4, &err));
  EXPECT_TRUE(err.empty());
}

TEST(Dumpstate, CorpusExtractLengths) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto qf = read_file(shared / "corpus/mvt/androidqf/dumpsys.txt", 1 << 26);
  ASSERT_TRUE(qf);
  auto d = Dumpstate::from_text(*qf);
  EXPECT_EQ(d->extract("package").size(), 3907u);  // MVT's extract_dumpsys_section
  auto br = read_file(shared / "corpus/mvt/android_data/bugreport/dumpstate.txt", 1 << 26);
  ASSERT_TRUE(br);
  auto b = Dumpstate::from_text(*br);
  EXPECT_EQ(b->extract("appops").size(), 4005u);
  EXPECT_EQ(b->extract("package").size(), 7576u);
  EXPECT_EQ(b->extract("platform_compat").size(), 1281u);
}

}  // namespace
}  // namespace bridle

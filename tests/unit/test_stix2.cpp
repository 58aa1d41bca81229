// STIX2 bundle loading: patterns, collections, de-duplication, warnings, counts, digest.
#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/util.hpp"
#include "indicators/indicators.hpp"
#include "support/support.hpp"

using namespace bridle;
using nlohmann::json;

namespace {

json malware(const std::string& id, const std::string& name, const std::string& desc = "d") {
  return {{"type", "malware"}, {"id", id}, {"name", name}, {"description", desc}, {"is_family", false}};
}
json indicator(const std::string& id, const std::string& pattern) {
  return {{"type", "indicator"}, {"id", id}, {"pattern", pattern}, {"pattern_type", "stix"}};
}
json rel(const std::string& src, const std::string& dst) {
  return {{"type", "relationship"}, {"id", "relationship--" + src + dst}, {"relationship_type", "indicates"},
          {"source_ref", src}, {"target_ref", dst}};
}
json report(const std::string& id, const std::string& name, const std::vector<std::string>& refs) {
  return {{"type", "report"}, {"id", id}, {"name", name}, {"description", "r"}, {"object_refs", refs}};
}
std::string bundle(const std::vector<json>& objects) {
  json b = {{"type", "bundle"}, {"id", "bundle--1"}, {"objects", objects}};
  return b.dump();
}

// One malware "M" and one indicator per pattern, each related to it.
std::string simple_bundle(const std::vector<std::string>& patterns) {
  std::vector<json> objs{malware("malware--m", "M")};
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    std::string id = "indicator--" + std::to_string(i);
    objs.push_back(indicator(id, patterns[i]));
    objs.push_back(rel(id, "malware--m"));
  }
  return bundle(objs);
}

const Indicator* find_value(const IndicatorSet& s, IocType t, const std::string& v) {
  for (const auto& i : s.indicators())
    if (i.type == t && i.value == v) return &i;
  return nullptr;
}

std::size_t count_of(const IndicatorSet& s, IocType t) {
  return s.counts()[static_cast<std::size_t>(t)];
}

bool has_warning(const IndicatorSet& s, const std::string& needle) {
  return std::any_of(s.warnings().begin(), s.warnings().end(),
                     [&](const std::string& w) { return w.find(needle) != std::string::npos; });
}

}  // namespace

TEST(IocTypeNames, KeysAndBuckets) {
  EXPECT_EQ(ioc_type_key(IocType::Domain), "domain");
  EXPECT_EQ(ioc_type_key(IocType::FilePath), "file_path");
  EXPECT_EQ(ioc_type_key(IocType::AndroidProperty), "android_property");
  EXPECT_EQ(ioc_type_key(IocType::AppCert), "app_cert");
  EXPECT_EQ(ioc_mvt_bucket(IocType::Domain), "domains");
  EXPECT_EQ(ioc_mvt_bucket(IocType::Ipv4), "domains");
  EXPECT_EQ(ioc_mvt_bucket(IocType::Ipv6), "domains");
  EXPECT_EQ(ioc_mvt_bucket(IocType::Url), "urls");
  EXPECT_EQ(ioc_mvt_bucket(IocType::Sha1), "files_sha1");
  EXPECT_EQ(ioc_mvt_bucket(IocType::AppCert), "app_cert_hashes");
  EXPECT_EQ(ioc_mvt_bucket(IocType::ProfileId), "ios_profile_ids");
  EXPECT_EQ(ioc_mvt_bucket(IocType::AndroidProperty), "android_property_names");
}

TEST(Stix2, SpacingVariants) {
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(simple_bundle({
                                "[domain-name:value='a.example.com']",
                                "[domain-name:value = 'b.example.com']",
                                " [ domain-name:value\t=\t'c.example.com' ] ",
                                "[domain-name:value='d.example.com' ]",
                            }),
                            "t.stix2"));
  EXPECT_EQ(s.size(), 4u);
  EXPECT_EQ(s.skipped(), 0u);
  for (auto d : {"a", "b", "c", "d"})
    EXPECT_NE(find_value(s, IocType::Domain, std::string(d) + ".example.com"), nullptr) << d;
}

TEST(Stix2, AllSupportedTypes) {
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(simple_bundle({
                                "[domain-name:value='Evil.COM.']",
                                "[ipv4-addr:value='198.51.100.1']",
                                "[ipv6-addr:value='2001:DB8::1']",
                                "[url:value='https://Evil.com/x?y=1']",
                                "[process:name='bh']",
                                "[email-addr:value='Bad@Example.com']",
                                "[file:name='evil.plist']",
                                "[file:path='/private/var/db/x']",
                                "[file:hashes.sha256='" + std::string(64, 'A') + "']",
                                "[file:hashes.sha1='" + std::string(40, 'b') + "']",
                                "[file:hashes.md5='" + std::string(32, 'c') + "']",
                                "[app:id='com.Evil.App']",
                                "[app:cert.sha1='" + std::string(40, 'D') + "']",
                                "[app:cert.sha256='" + std::string(64, 'e') + "']",
                                "[app:cert.md5='" + std::string(32, 'f') + "']",
                                "[configuration-profile:id='ABCDEF01-0000-0000-0000-000000000000']",
                                "[android-property:name='Persist.Evil']",
                            }),
                            "t.stix2"));
  EXPECT_EQ(s.skipped(), 0u) << (s.warnings().empty() ? "" : s.warnings()[0]);
  EXPECT_EQ(s.size(), 17u);
  EXPECT_NE(find_value(s, IocType::Domain, "evil.com"), nullptr);
  EXPECT_NE(find_value(s, IocType::Ipv4, "198.51.100.1"), nullptr);
  EXPECT_NE(find_value(s, IocType::Ipv6, "2001:db8::1"), nullptr);
  EXPECT_NE(find_value(s, IocType::Url, "https://evil.com/x?y=1"), nullptr);
  EXPECT_NE(find_value(s, IocType::Process, "bh"), nullptr);
  const Indicator* e = find_value(s, IocType::Email, "bad@example.com");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->raw_value, "Bad@Example.com");
  EXPECT_NE(find_value(s, IocType::FileName, "evil.plist"), nullptr);
  EXPECT_NE(find_value(s, IocType::FilePath, "/private/var/db/x"), nullptr);
  EXPECT_NE(find_value(s, IocType::Sha256, std::string(64, 'a')), nullptr);
  EXPECT_NE(find_value(s, IocType::Sha1, std::string(40, 'b')), nullptr);
  EXPECT_NE(find_value(s, IocType::Md5, std::string(32, 'c')), nullptr);
  EXPECT_NE(find_value(s, IocType::AppId, "com.evil.app"), nullptr);
  EXPECT_NE(find_value(s, IocType::AppCert, std::string(40, 'd')), nullptr);
  EXPECT_NE(find_value(s, IocType::ProfileId, "abcdef01-0000-0000-0000-000000000000"), nullptr);
  EXPECT_NE(find_value(s, IocType::AndroidProperty, "persist.evil"), nullptr);
  EXPECT_EQ(count_of(s, IocType::AppCert), 3u);
}

TEST(Stix2, HashKeyVariants) {
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(simple_bundle({
                                "[file:hashes.'SHA-256'='" + std::string(64, '1') + "']",
                                "[file:hashes.SHA256='" + std::string(64, '2') + "']",
                                "[file:hashes.'SHA-1' = '" + std::string(40, '3') + "']",
                                "[file:hashes.MD5='" + std::string(32, '4') + "']",
                                "[file:hashes.'md5'='" + std::string(32, '5') + "']",
                                "[file:hashes.sha256='" + std::string(64, 'F') + "']",
                            }),
                            "t.stix2"));
  EXPECT_EQ(s.skipped(), 0u);
  EXPECT_EQ(count_of(s, IocType::Sha256), 3u);
  EXPECT_EQ(count_of(s, IocType::Sha1), 1u);
  EXPECT_EQ(count_of(s, IocType::Md5), 2u);
  // Upper-case hashes are stored lower-case, raw value kept.
  const Indicator* f = find_value(s, IocType::Sha256, std::string(64, 'f'));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->raw_value, std::string(64, 'F'));
}

TEST(Stix2, EscapesAndSpecialCharacters) {
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(simple_bundle({
                                R"([process:name='it\'s'])",
                                R"([file:path='C:\\evil\\x'])",
                                "[url:value='https://evil.com/a?b=c&d=e']",
                                "[url:value='https://evil.com/[x]=y']",
                                "[file:name='a=b]c']",
                            }),
                            "t.stix2"));
  EXPECT_EQ(s.skipped(), 0u) << (s.warnings().empty() ? "" : s.warnings()[0]);
  EXPECT_NE(find_value(s, IocType::Process, "it's"), nullptr);
  EXPECT_NE(find_value(s, IocType::FilePath, R"(C:\evil\x)"), nullptr);
  EXPECT_NE(find_value(s, IocType::Url, "https://evil.com/a?b=c&d=e"), nullptr);
  EXPECT_NE(find_value(s, IocType::Url, "https://evil.com/[x]=y"), nullptr);
  EXPECT_NE(find_value(s, IocType::FileName, "a=b]c"), nullptr);
}

TEST(Stix2, UnsupportedPatternsAreSkippedWithWarnings) {
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(
      simple_bundle({
          "[domain-name:value='ok.example.com']",
          "[domain-name:value='a.example.com' OR domain-name:value='b.example.com']",
          "[domain-name:value='a.example.com'] AND [process:name='x']",
          "[domain-name:value='a.example.com'] WITHIN 300 SECONDS",
          "[domain-name:value != 'a.example.com']",
          "[domain-name:value LIKE 'a.%']",
          "[network-traffic:dst_ref.value='198.51.100.1']",
          "[network-traffic:dst_ref = 'x']",
          "[mutex:name='m']",
          "[domain-name:value='']",
          "[domain-name:value='   ']",
          "[file:hashes.sha512='00']",
          "[domain-name:value='unterminated]",
          R"([process:name='bad \n escape'])",
          "domain-name:value='x.example.com'",
          "[file:size = 12]",
          "[process:name='y']",
      }),
      "feed.stix2"));
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s.skipped(), 15u);
  EXPECT_EQ(s.warnings().size(), 15u);
  EXPECT_TRUE(has_warning(s, "feed.stix2"));
  EXPECT_TRUE(has_warning(s, "indicator--1"));
  EXPECT_TRUE(has_warning(s, "network-traffic:dst_ref"));
  EXPECT_TRUE(has_warning(s, "empty value"));
  EXPECT_NE(find_value(s, IocType::Process, "y"), nullptr);
}

TEST(Stix2, PatternTypeMustBeStix) {
  json other = indicator("indicator--y", "rule x {}");
  other["pattern_type"] = "yara";
  json absent = {{"type", "indicator"}, {"id", "indicator--n"}, {"pattern", "[process:name='n']"}};
  json nopattern = {{"type", "indicator"}, {"id", "indicator--p"}, {"pattern", 3}};
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(bundle({other, absent, nopattern}), "t.stix2"));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.skipped(), 2u);
  EXPECT_TRUE(has_warning(s, "indicator--y"));
}

TEST(Stix2, ReportObjectRefsWin) {
  // The indicator is both in a report and related to a malware: the report wins.
  std::vector<json> objs{
      malware("malware--m", "M"),
      report("report--r", "Campaign report", {"indicator--1", "identity--x"}),
      indicator("indicator--1", "[domain-name:value='r.example.com']"),
      rel("indicator--1", "malware--m"),
      indicator("indicator--2", "[domain-name:value='m.example.com']"),
      rel("indicator--2", "malware--m"),
  };
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(bundle(objs), "dir/t.stix2"));
  ASSERT_EQ(s.collections().size(), 2u);
  const Indicator* r = find_value(s, IocType::Domain, "r.example.com");
  const Indicator* m = find_value(s, IocType::Domain, "m.example.com");
  ASSERT_TRUE(r && m);
  EXPECT_EQ(s.collections()[r->collection].name, "Campaign report");
  EXPECT_EQ(s.collections()[r->collection].id, "report--r");
  EXPECT_EQ(s.collections()[m->collection].name, "M");
  EXPECT_EQ(s.collections()[m->collection].stix2_file_name, "t.stix2");
  EXPECT_EQ(s.collections()[m->collection].stix2_file_path, "dir/t.stix2");
  EXPECT_EQ(s.collections()[m->collection].description, "d");
  EXPECT_EQ(r->stix_id, "indicator--1");
}

TEST(Stix2, FirstRelationshipToKnownMalwareWins) {
  std::vector<json> objs{
      rel("indicator--1", "malware--missing"),  // absent object: ignored
      rel("indicator--1", "identity--x"),
      indicator("indicator--1", "[domain-name:value='x.example.com']"),
      rel("indicator--1", "malware--b"),
      rel("indicator--1", "malware--a"),
      malware("malware--a", "A"),
      malware("malware--b", "B"),
  };
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(bundle(objs), "t.stix2"));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s.collections()[s.indicators()[0].collection].name, "B");
  EXPECT_EQ(s.collections().size(), 2u);  // no default collection
}

TEST(Stix2, DefaultCollectionOnlyWhenNeeded) {
  std::vector<json> objs{
      malware("malware--a", "A"),
      indicator("indicator--1", "[domain-name:value='x.example.com']"),
      rel("indicator--1", "malware--gone"),
      indicator("indicator--2", "[domain-name:value='y.example.com']"),
  };
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(bundle(objs), "/tmp/feeds/orphan.stix2"));
  ASSERT_EQ(s.collections().size(), 2u);
  const Collection& d = s.collections()[1];
  EXPECT_EQ(d.id, "0");
  EXPECT_EQ(d.name, "Default collection");  // MVT's name
  EXPECT_EQ(d.stix2_file_name, "orphan.stix2");
  EXPECT_EQ(s.indicators()[0].collection, 1u);
  EXPECT_EQ(s.indicators()[1].collection, 1u);

  IndicatorSet none;
  ASSERT_TRUE(none.load_bundle(bundle({malware("malware--a", "A"),
                                       indicator("indicator--1", "[process:name='p']"),
                                       rel("indicator--1", "malware--a")}),
                               "t.stix2"));
  EXPECT_EQ(none.collections().size(), 1u);
}

TEST(Stix2, DuplicatesAreUniquePerCollection) {
  std::vector<json> objs{
      malware("malware--a", "A"),
      malware("malware--b", "B"),
      // Same id twice (same pattern): processed twice, stored once.
      indicator("indicator--1", "[domain-name:value='x.example.com']"),
      indicator("indicator--1", "[domain-name:value='x.example.com']"),
      rel("indicator--1", "malware--a"),
      // Same value, different id, same collection: stored once.
      indicator("indicator--2", "[domain-name:value='X.example.com']"),
      rel("indicator--2", "malware--a"),
      // Same value in another collection: counted again.
      indicator("indicator--3", "[domain-name:value='x.example.com']"),
      rel("indicator--3", "malware--b"),
      // Same value, different kind: separate.
      indicator("indicator--4", "[url:value='http://x.example.com/']"),
      rel("indicator--4", "malware--a"),
  };
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(bundle(objs), "t.stix2"));
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(count_of(s, IocType::Domain), 2u);
  EXPECT_EQ(count_of(s, IocType::Url), 1u);
  ASSERT_EQ(s.files().size(), 1u);
  EXPECT_EQ(s.files()[0].indicators, 3u);
}

TEST(Stix2, IpLiteralAsDomainName) {
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(simple_bundle({"[domain-name:value='198.51.100.7']",
                                           "[domain-name:value='[2001:db8::7]']"}),
                            "t.stix2"));
  ASSERT_EQ(s.size(), 2u);
  // Declared type stays Domain; the value is the canonical IP.
  EXPECT_EQ(count_of(s, IocType::Domain), 2u);
  EXPECT_EQ(count_of(s, IocType::Ipv4), 0u);
  EXPECT_NE(find_value(s, IocType::Domain, "198.51.100.7"), nullptr);
  EXPECT_NE(find_value(s, IocType::Domain, "2001:db8::7"), nullptr);
}

TEST(Stix2, DomainWithPathKeepsHost) {
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(simple_bundle({"[domain-name:value='fgr1w2gnsdvsb.xyz/x']"}), "t.stix2"));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s.indicators()[0].value, "fgr1w2gnsdvsb.xyz");
  EXPECT_EQ(s.indicators()[0].raw_value, "fgr1w2gnsdvsb.xyz/x");
}

TEST(Stix2, PublicSuffixDomainsAreSkipped) {
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(simple_bundle({"[domain-name:value='com']", "[domain-name:value='co.uk']",
                                           "[domain-name:value='evil.co.uk']"}),
                            "t.stix2"));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.skipped(), 2u);
  EXPECT_TRUE(has_warning(s, "public suffix"));
  EXPECT_NE(find_value(s, IocType::Domain, "evil.co.uk"), nullptr);
}

TEST(Stix2, SingleLabelDomainIsKept) {
  // Unlisted single labels are not public suffixes (the implicit "*" rule is not applied):
  // predator.stix2 has the malformed "despachosnegocios".
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(simple_bundle({"[domain-name:value='despachosnegocios']",
                                           "[domain-name:value='github.io']"}),
                            "t.stix2"));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.skipped(), 1u);  // github.io is in the private section of the list
  EXPECT_NE(find_value(s, IocType::Domain, "despachosnegocios"), nullptr);
}

TEST(Stix2, InvalidIpIndicatorsSkipped) {
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(simple_bundle({"[ipv4-addr:value='198.51.100.0/24']", "[ipv4-addr:value='x']"}),
                            "t.stix2"));
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.skipped(), 2u);
}

TEST(Stix2, NotJsonOrNotBundle) {
  IndicatorSet s;
  EXPECT_FALSE(s.load_bundle("this is not json {", "bad.stix2"));
  EXPECT_FALSE(s.load_bundle("", "empty.stix2"));
  EXPECT_FALSE(s.load_bundle("[1,2,3]", "array.stix2"));
  EXPECT_FALSE(s.load_bundle(R"({"type":"bundle","objects":{}})", "obj.stix2"));
  EXPECT_FALSE(s.load_bundle(std::string(100000, '['), "deep.stix2"));
  EXPECT_EQ(s.warnings().size(), 5u);
  EXPECT_TRUE(has_warning(s, "bad.stix2"));
  EXPECT_TRUE(s.files().empty());
  // A bundle with junk objects still loads its good indicators.
  EXPECT_TRUE(s.load_bundle(
      R"({"type":"bundle","objects":[1,"x",null,{"type":5},{"type":"indicator"},
          {"type":"malware","id":7,"name":["n"]},
          {"type":"relationship","source_ref":1,"target_ref":null},
          {"type":"report","id":"report--1","object_refs":"nope"},
          {"type":"indicator","id":"indicator--ok","pattern":"[process:name='ok']"}]})",
      "junk.stix2"));
  EXPECT_EQ(s.size(), 1u);
}

TEST(Stix2, LoadFile) {
  test::Scratch dir;
  test::write_file(dir / "a.stix2", simple_bundle({"[process:name='a']"}));
  test::write_file(dir / "bad.stix2", "nope");
  IndicatorSet s;
  EXPECT_TRUE(s.load_file(dir / "a.stix2"));
  EXPECT_FALSE(s.load_file(dir / "bad.stix2"));
  EXPECT_FALSE(s.load_file(dir / "missing.stix2"));
  EXPECT_EQ(s.size(), 1u);
  ASSERT_EQ(s.files().size(), 1u);
  EXPECT_EQ(s.files()[0].path, (dir / "a.stix2").string());
  EXPECT_EQ(s.files()[0].sha256, sha256_hex(test::slurp(dir / "a.stix2")));
  EXPECT_EQ(s.files()[0].indicators, 1u);
  EXPECT_EQ(s.warnings().size(), 2u);
}

TEST(Stix2, CountsAndDigestAreStable) {
  std::string a = simple_bundle({"[process:name='a']", "[domain-name:value='a.example.com']"});
  std::string b = simple_bundle({"[process:name='b']", "[process:name='a']"});
  IndicatorSet s1, s2, s3;
  s1.load_bundle(a, "a.stix2");
  s1.load_bundle(b, "b.stix2");
  s2.load_bundle(b, "other/b.stix2");
  s2.load_bundle(a, "other/a.stix2");
  s3.load_bundle(a, "a.stix2");
  EXPECT_EQ(s1.digest(), s2.digest());  // order and names do not matter
  EXPECT_NE(s1.digest(), s3.digest());
  EXPECT_EQ(s1.digest().size(), 64u);
  std::string expect = sha256_hex(sha256_hex(a) < sha256_hex(b) ? sha256_hex(a) + "\n" + sha256_hex(b)
                                                                : sha256_hex(b) + "\n" + sha256_hex(a));
  EXPECT_EQ(s1.digest(), expect);
  EXPECT_EQ(IndicatorSet().digest(), sha256_hex(""));
  auto c = s1.counts();
  EXPECT_EQ(c[static_cast<int>(IocType::Process)], 3u);  // "a" in two collections counts twice
  EXPECT_EQ(c[static_cast<int>(IocType::Domain)], 1u);
  EXPECT_EQ(s1.counts(), s2.counts());
}

TEST(DefaultIndicatorFiles, DataDirThenEnvironment) {
  test::Scratch dir;
  auto data = dir / "data";
  test::write_file(data / "bridle" / "indicators" / "b.stix2", "{}");
  test::write_file(data / "bridle" / "indicators" / "a.stix2", "{}");
  test::write_file(data / "bridle" / "indicators" / "c.json", "{}");
  test::write_file(data / "bridle" / "indicators" / "sub" / "d.stix2", "{}");
  test::write_file(dir / "env" / "x" / "z.stix2", "{}");
  test::write_file(dir / "env" / "y.stix2", "{}");
  test::write_file(dir / "env" / "n.json", "{}");
  test::write_file(dir / "single.json", "{}");

  const char* old_xdg = std::getenv("XDG_DATA_HOME");
  const char* old_env = std::getenv("BRIDLE_STIX2");
  std::string save_xdg = old_xdg ? old_xdg : "", save_env = old_env ? old_env : "";
  setenv("XDG_DATA_HOME", data.c_str(), 1);
  std::string env = (dir / "env").string() + ":" + (dir / "single.json").string() + "::" +
                    (data / "bridle" / "indicators" / "a.stix2").string();
  setenv("BRIDLE_STIX2", env.c_str(), 1);
  auto files = default_indicator_files();
  if (old_xdg) setenv("XDG_DATA_HOME", save_xdg.c_str(), 1); else unsetenv("XDG_DATA_HOME");
  if (old_env) setenv("BRIDLE_STIX2", save_env.c_str(), 1); else unsetenv("BRIDLE_STIX2");

  // a.stix2 appears once (deduplicated by canonical path); sub/ is not searched in the data
  // dir; *.json only when named explicitly.
  std::vector<std::string> names;
  for (auto& f : files) names.push_back(f.filename().string());
  EXPECT_EQ(names, (std::vector<std::string>{"a.stix2", "b.stix2", "z.stix2", "y.stix2", "single.json"}));
}

// Random and truncated patterns never throw, and every indicator is either loaded or
// counted as skipped with a warning.
TEST(Stix2, RandomPatternsAreHandled) {
  const std::vector<std::string> seeds = {
      "[domain-name:value='a.example.com']", "[file:hashes.'SHA-256'='00']", R"([process:name='a\'b\\c'])",
      "[url:value = 'http://x/?a=b&c]']", "[a:b='c'] AND [d:e='f']"};
  const std::string noise = "[]':.=\\ ANDOR-_x'";
  std::uint32_t state = 7;
  auto rnd = [&] { return state = state * 1103515245u + 12345u, (state >> 8); };
  std::vector<std::string> patterns;
  for (const auto& s : seeds) {
    for (std::size_t cut = 0; cut <= s.size(); ++cut) patterns.push_back(s.substr(0, cut));
    for (int i = 0; i < 200; ++i) {
      std::string m = s;
      int edits = 1 + static_cast<int>(rnd() % 3);
      for (int e = 0; e < edits && !m.empty(); ++e) {
        std::size_t pos = rnd() % m.size();
        switch (rnd() % 3) {
          case 0: m[pos] = noise[rnd() % noise.size()]; break;
          case 1: m.erase(pos, 1); break;
          default: m.insert(pos, 1, noise[rnd() % noise.size()]); break;
        }
      }
      patterns.push_back(m);
    }
  }
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(simple_bundle(patterns), "fuzz.stix2"));
  EXPECT_EQ(s.skipped(), s.warnings().size());
  EXPECT_LE(s.size() + s.skipped(), patterns.size());
  IndicatorIndex idx(s);
  for (const auto& ind : s.indicators()) EXPECT_NO_THROW((void)idx.match({ObsKind::Domain, ind.value}));
}

namespace {

// What a set holds, as text (for comparing two loads).
std::string describe(const IndicatorSet& s) {
  std::string out;
  for (auto& c : s.collections()) out += "C " + c.id + "|" + c.name + "|" + c.description + "|" + c.stix2_file_name + "\n";
  for (auto& i : s.indicators())
    out += "I " + i.value + "|" + i.raw_value + "|" + std::string(ioc_type_key(i.type)) + "|" +
           std::to_string(i.collection) + "|" + i.stix_id + "\n";
  for (auto& w : s.warnings()) out += "W " + w + "\n";
  return out;
}

}  // namespace

// Bundles are parsed with simdjson, and with nlohmann::json when simdjson refuses the text
// (a UTF-8 BOM, numbers beyond 64 bits): both must read the same indicators.
TEST(Stix2, BothParsersReadTheSame) {
  std::string body =
      R"({"type":"bundle","id":"bundle--1","n":123456789012345678901234567890,"objects":[)"
      R"({"type":"malware","id":"malware--1","name":"first","name":"Last wins","description":"d"},)"
      R"({"\u0074ype":"indicator","id":"indicator--1","pattern":"[domain-name:value = 'evil.com']","pattern_type":"stix"},)"
      R"({"type":"indicator","type":"note","id":"indicator--2","pattern":"[domain-name:value = 'other.com']"},)"
      R"({"type":"indicator","id":"indicator--3","pattern":"[process:name = 'bad']","pattern_type":7},)"
      R"({"type":"relationship","source_ref":"indicator--1","target_ref":"malware--1"}]})";
  IndicatorSet big_number;  // simdjson refuses the 30-digit number: nlohmann reads it
  ASSERT_TRUE(big_number.load_bundle(body, "a.stix2"));
  std::string plain = body;
  plain.replace(plain.find("123456789012345678901234567890"), 30, "1");
  IndicatorSet fast;
  ASSERT_TRUE(fast.load_bundle(plain, "a.stix2"));
  EXPECT_EQ(describe(fast), describe(big_number));
  ASSERT_EQ(fast.collections().size(), 1u);
  EXPECT_EQ(fast.collections()[0].name, "Last wins");  // a repeated key: the last one
  ASSERT_EQ(fast.indicators().size(), 1u);              // indicator--2 is a "note"
  EXPECT_EQ(fast.indicators()[0].value, "evil.com");    // escaped key read unescaped
  EXPECT_EQ(fast.skipped(), 1u);                        // indicator--3: pattern_type not a string

  BRIDLE_REQUIRE_SHARED(shared);
  std::error_code ec;
  for (auto& e : fs::recursive_directory_iterator(shared / "iocs", ec)) {
    if (e.path().extension() != ".stix2") continue;
    auto text = read_file(e.path(), 64 << 20);
    ASSERT_TRUE(text);
    IndicatorSet a, b;
    a.load_bundle(*text, e.path().string());
    b.load_bundle("\xEF\xBB\xBF" + *text, e.path().string());  // BOM: the nlohmann path
    EXPECT_EQ(describe(a), describe(b)) << e.path();
    EXPECT_GT(a.size(), 0u) << e.path();
  }
}

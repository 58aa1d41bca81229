// IndicatorIndex matching rules.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "indicators/indicators.hpp"

using namespace bridle;
using nlohmann::json;

namespace {

struct Ioc {
  std::string pattern;
  std::string malware = "A";
};

std::string make_bundle(const std::vector<Ioc>& iocs) {
  json objs = json::array();
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < iocs.size(); ++i) {
    const auto& m = iocs[i].malware;
    if (std::find(seen.begin(), seen.end(), m) == seen.end()) {
      seen.push_back(m);
      objs.push_back({{"type", "malware"}, {"id", "malware--" + m}, {"name", m}});
    }
    std::string id = "indicator--" + std::to_string(i);
    objs.push_back({{"type", "indicator"}, {"id", id}, {"pattern", iocs[i].pattern}, {"pattern_type", "stix"}});
    objs.push_back({{"type", "relationship"}, {"source_ref", id}, {"target_ref", "malware--" + m}});
  }
  return json{{"type", "bundle"}, {"id", "bundle--x"}, {"objects", objs}}.dump();
}

class IndexTest : public ::testing::Test {
 protected:
  void load(const std::vector<Ioc>& iocs) {
    ASSERT_TRUE(set_.load_bundle(make_bundle(iocs), "test.stix2"));
    ASSERT_EQ(set_.skipped(), 0u) << set_.warnings().front();
    index_ = std::make_unique<IndicatorIndex>(set_);
  }
  std::vector<std::string> values(ObsKind k, const std::string& v) const {
    std::vector<std::string> out;
    for (const auto& m : index_->match({k, v})) out.push_back(m.indicator->value);
    return out;
  }
  bool hit(ObsKind k, const std::string& v) const { return index_->first({k, v}).has_value(); }
  std::string msg(ObsKind k, const std::string& v) const {
    auto m = index_->first({k, v});
    return m ? m->message : "";
  }

  IndicatorSet set_;
  std::unique_ptr<IndicatorIndex> index_;
};

using V = std::vector<std::string>;

}  // namespace

TEST_F(IndexTest, EmptyIndex) {
  load({});
  EXPECT_TRUE(index_->empty());
  EXPECT_FALSE(hit(ObsKind::Domain, "evil.com"));
  EXPECT_FALSE(hit(ObsKind::Url, "http://evil.com/"));
}

TEST_F(IndexTest, DomainLabelSuffixes) {
  load({{"[domain-name:value='evil.com']"}, {"[domain-name:value='c.evil.com']"},
        {"[domain-name:value='example.org']"}});
  EXPECT_FALSE(index_->empty());
  EXPECT_EQ(values(ObsKind::Domain, "evil.com"), V{"evil.com"});
  EXPECT_EQ(values(ObsKind::Domain, "a.b.evil.com"), V{"evil.com"});
  EXPECT_EQ(values(ObsKind::Domain, "c.evil.com"), (V{"evil.com", "c.evil.com"}));
  EXPECT_EQ(values(ObsKind::Domain, "x.c.evil.com"), (V{"evil.com", "c.evil.com"}));
  EXPECT_EQ(values(ObsKind::Domain, "EVIL.COM."), V{"evil.com"});
  EXPECT_EQ(values(ObsKind::Domain, "www.example.org"), V{"example.org"});
  EXPECT_EQ(values(ObsKind::Domain, "evil.com:443"), V{"evil.com"});
  EXPECT_FALSE(hit(ObsKind::Domain, "notevil.com"));
  EXPECT_FALSE(hit(ObsKind::Domain, "evil.com.attacker.net"));
  EXPECT_FALSE(hit(ObsKind::Domain, "example.orgx"));
  EXPECT_FALSE(hit(ObsKind::Domain, "com"));
  EXPECT_FALSE(hit(ObsKind::Domain, ""));
}

TEST_F(IndexTest, SubdomainIndicatorDoesNotMatchParent) {
  load({{"[domain-name:value='c.evil.com']"}});
  EXPECT_FALSE(hit(ObsKind::Domain, "evil.com"));
  EXPECT_FALSE(hit(ObsKind::Domain, "b.evil.com"));
  EXPECT_TRUE(hit(ObsKind::Domain, "c.evil.com"));
  EXPECT_TRUE(hit(ObsKind::Domain, "a.b.c.evil.com"));
}

TEST_F(IndexTest, WwwOnlyAsPrefix) {
  load({{"[domain-name:value='webmail.example.net']"}, {"[domain-name:value='wha.tsapp.me']"},
        {"[domain-name:value='www.andropwn.xyz']"}});
  EXPECT_TRUE(hit(ObsKind::Domain, "webmail.example.net"));
  EXPECT_TRUE(hit(ObsKind::Url, "https://webmail.example.net/"));
  EXPECT_TRUE(hit(ObsKind::Domain, "wha.tsapp.me"));
  EXPECT_FALSE(hit(ObsKind::Domain, "tsapp.me"));
  EXPECT_FALSE(hit(ObsKind::Domain, "ebmail.example.net"));
  // An indicator that itself starts with www. stays reachable (MVT can never match it).
  EXPECT_TRUE(hit(ObsKind::Domain, "www.andropwn.xyz"));
  EXPECT_TRUE(hit(ObsKind::Url, "http://www.andropwn.xyz/x"));
}

TEST_F(IndexTest, DomainMessage) {
  load({{"[domain-name:value='evil.com']", "Pegasus"}});
  EXPECT_EQ(msg(ObsKind::Domain, "a.evil.com"),
            "Found a known suspicious domain a.evil.com matching indicator \"evil.com\" from \"Pegasus\"");
  EXPECT_EQ(msg(ObsKind::Url, "https://a.evil.com/x"),
            "Found a known suspicious domain https://a.evil.com/x matching indicator \"evil.com\" from "
            "\"Pegasus\"");
}

TEST_F(IndexTest, PublicSuffixIndicatorNotIndexed) {
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(make_bundle({{"[domain-name:value='co.uk']"}, {"[domain-name:value='evil.co.uk']"}}),
                            "t.stix2"));
  IndicatorIndex idx(s);
  EXPECT_FALSE(idx.first({ObsKind::Domain, "bbc.co.uk"}));
  EXPECT_TRUE(idx.first({ObsKind::Domain, "x.evil.co.uk"}));
}

TEST_F(IndexTest, UrlRules) {
  load({{"[url:value='http://example.com/thisisbad']"}, {"[url:value='evil.net/path?q=1']"},
        {"[domain-name:value='evil.com']"}, {"[domain-name:value='fgr1w2gnsdvsb.xyz/x']"}});
  EXPECT_EQ(values(ObsKind::Url, "http://example.com/thisisbad"), V{"http://example.com/thisisbad"});
  EXPECT_TRUE(hit(ObsKind::Url, "HTTP://Example.COM:80/thisisbad#frag"));
  EXPECT_FALSE(hit(ObsKind::Url, "http://example.com/thisisbad?x=1"));
  EXPECT_FALSE(hit(ObsKind::Url, "http://example.com/thisisBAD"));
  EXPECT_FALSE(hit(ObsKind::Url, "http://example.com/"));
  // Scheme-less URL indicator: matches over http and https.
  EXPECT_TRUE(hit(ObsKind::Url, "https://evil.net/path?q=1"));
  EXPECT_TRUE(hit(ObsKind::Url, "http://evil.net/path?q=1"));
  EXPECT_FALSE(hit(ObsKind::Url, "http://evil.net/path"));
  // Host of the URL goes through the domain rules.
  EXPECT_EQ(values(ObsKind::Url, "https://user@x.evil.com:8443/a?b#c"), V{"evil.com"});
  EXPECT_TRUE(hit(ObsKind::Url, "evil.com/no/scheme"));
  EXPECT_TRUE(hit(ObsKind::Url, "ftp://evil.com/"));
  EXPECT_FALSE(hit(ObsKind::Url, "https://example.org.attacker.com/evil.com"));
  EXPECT_FALSE(hit(ObsKind::Url, "https://bit.ly/evil.com"));
  EXPECT_TRUE(hit(ObsKind::Url, "https://fgr1w2gnsdvsb.xyz/y"));
}

TEST_F(IndexTest, IpRules) {
  load({{"[ipv4-addr:value='198.51.100.1']"}, {"[ipv6-addr:value='2001:db8::1']"},
        {"[domain-name:value='203.0.113.5']"}, {"[domain-name:value='evil.com']"}});
  EXPECT_EQ(values(ObsKind::Ip, "198.51.100.1"), V{"198.51.100.1"});
  EXPECT_FALSE(hit(ObsKind::Ip, "198.51.100.10"));
  EXPECT_FALSE(hit(ObsKind::Ip, "198.51.100.11"));
  EXPECT_FALSE(hit(ObsKind::Ip, "98.51.100.1"));
  EXPECT_TRUE(hit(ObsKind::Ip, "::ffff:198.51.100.1"));
  EXPECT_TRUE(hit(ObsKind::Ip, "2001:0db8:0::0001"));
  EXPECT_TRUE(hit(ObsKind::Ip, "[2001:db8::1]"));
  EXPECT_TRUE(hit(ObsKind::Ip, "198.51.100.1:443"));
  EXPECT_TRUE(hit(ObsKind::Ip, "203.0.113.5"));  // IP written as a domain-name indicator
  EXPECT_FALSE(hit(ObsKind::Ip, "evil.com"));
  EXPECT_FALSE(hit(ObsKind::Ip, "not an ip"));
  // IP literals seen as domains or URL hosts follow the IP rules.
  EXPECT_TRUE(hit(ObsKind::Domain, "198.51.100.1"));
  EXPECT_TRUE(hit(ObsKind::Domain, "203.0.113.5"));
  EXPECT_TRUE(hit(ObsKind::Domain, "[2001:db8::1]"));
  EXPECT_FALSE(hit(ObsKind::Url, "https://198.51.100.10/"));
  EXPECT_TRUE(hit(ObsKind::Url, "https://198.51.100.1:8443/x"));
  EXPECT_TRUE(hit(ObsKind::Url, "http://[2001:db8::1]/"));
  EXPECT_FALSE(hit(ObsKind::Url, "http://[2001:db8::10]/"));
  EXPECT_FALSE(hit(ObsKind::Domain, "5.203.0.113.5"));  // not an IP; no suffix "5" rule for IPs
}

TEST_F(IndexTest, ProcessRules) {
  load({{"[process:name='bh']", "Pegasus"}, {"[process:name='ReminderIntentsUIExtension']"},
        {"[process:name='roleaccountd']"}, {"[process:name='abcdefghijklmnopq']"}});
  EXPECT_EQ(values(ObsKind::Process, "bh"), V{"bh"});
  EXPECT_EQ(values(ObsKind::Process, "/usr/libexec/bh"), V{"bh"});
  EXPECT_FALSE(hit(ObsKind::Process, "BH"));  // case-sensitive
  EXPECT_FALSE(hit(ObsKind::Process, "bhx"));
  EXPECT_FALSE(hit(ObsKind::Process, "roleaccount"));
  EXPECT_FALSE(hit(ObsKind::Process, "/bin/"));
  // iOS truncates to 16 characters, Linux to 15.
  EXPECT_EQ(values(ObsKind::Process, "ReminderIntentsU"), V{"ReminderIntentsUIExtension"});
  EXPECT_EQ(values(ObsKind::Process, "ReminderIntents"), V{"ReminderIntentsUIExtension"});
  EXPECT_FALSE(hit(ObsKind::Process, "ReminderIntentsUI"));  // 17: not a truncation
  EXPECT_FALSE(hit(ObsKind::Process, "ReminderIntent"));     // 14
  EXPECT_FALSE(hit(ObsKind::Process, "ReminderIntentsX"));
  // A 17-character indicator: 16- and 15-character prefixes match.
  EXPECT_TRUE(hit(ObsKind::Process, "abcdefghijklmnop"));
  EXPECT_TRUE(hit(ObsKind::Process, "abcdefghijklmno"));
  EXPECT_EQ(msg(ObsKind::Process, "bh"),
            "Found a known suspicious process name \"bh\" matching indicators from \"Pegasus\"");
}

TEST_F(IndexTest, FilePathRules) {
  load({{"[file:path='/private/var/tmp/stop']", "P"},
        {"[file:path='/private/var/db/com.apple.xpc.roleaccountd.staging/']"},
        {"[file:path='/var/mobile/Library/evil.plist']"},
        {"[file:path='Library/Preferences/com.apple.photolibraryd.plist']"},
        {"[file:name='evil.dylib']", "N"}});
  // Exact, /private normalisation on both sides.
  EXPECT_EQ(values(ObsKind::FilePath, "/private/var/tmp/stop"), V{"/private/var/tmp/stop"});
  EXPECT_TRUE(hit(ObsKind::FilePath, "/var/tmp/stop"));
  EXPECT_TRUE(hit(ObsKind::FilePath, "/private/var/mobile/Library/evil.plist"));
  EXPECT_TRUE(hit(ObsKind::FilePath, "//var//mobile/Library/evil.plist"));
  // Component boundaries.
  EXPECT_TRUE(hit(ObsKind::FilePath, "/private/var/tmp/stop/child"));
  EXPECT_FALSE(hit(ObsKind::FilePath, "/private/var/tmp/stopwatch.log"));
  EXPECT_FALSE(hit(ObsKind::FilePath, "/private/var/tmp/sto"));
  EXPECT_FALSE(hit(ObsKind::FilePath, "/private/var/tmp"));
  EXPECT_FALSE(hit(ObsKind::FilePath, "/other/private/var/tmp/stop"));
  // Directory indicator.
  EXPECT_TRUE(hit(ObsKind::FilePath, "/private/var/db/com.apple.xpc.roleaccountd.staging/mptbd/x"));
  EXPECT_TRUE(hit(ObsKind::FilePath, "/private/var/db/com.apple.xpc.roleaccountd.staging"));
  EXPECT_TRUE(hit(ObsKind::FilePath, "private/var/db/com.apple.xpc.roleaccountd.staging/x"));
  EXPECT_FALSE(hit(ObsKind::FilePath, "/private/var/db/com.apple.xpc.roleaccountd.stagingX/x"));
  // Relative indicator: observed path ends with it on a component boundary.
  EXPECT_TRUE(hit(ObsKind::FilePath, "/private/var/mobile/Library/Preferences/com.apple.photolibraryd.plist"));
  EXPECT_TRUE(hit(ObsKind::FilePath, "Library/Preferences/com.apple.photolibraryd.plist"));
  EXPECT_FALSE(hit(ObsKind::FilePath, "/var/mobile/XLibrary/Preferences/com.apple.photolibraryd.plist"));
  EXPECT_FALSE(hit(ObsKind::FilePath, "/var/mobile/Library/Preferences/com.apple.photolibraryd.plist.bak"));
  // File name indicator through a path.
  EXPECT_EQ(values(ObsKind::FilePath, "/usr/lib/evil.dylib"), V{"evil.dylib"});
  EXPECT_FALSE(hit(ObsKind::FilePath, "/usr/lib/evil.dylib.x"));
  EXPECT_FALSE(hit(ObsKind::FilePath, "/"));
  EXPECT_FALSE(hit(ObsKind::FilePath, ""));
  EXPECT_EQ(msg(ObsKind::FilePath, "/usr/lib/evil.dylib"),
            "Found a known suspicious file name \"evil.dylib\" matching indicators from \"N\"");
  EXPECT_EQ(msg(ObsKind::FilePath, "/var/tmp/stop/x"),
            "Found a known suspicious file path \"/var/tmp/stop/x\" matching indicators from \"P\"");
}

TEST_F(IndexTest, FileNameRules) {
  load({{"[file:name='evil.dylib']"}});
  EXPECT_TRUE(hit(ObsKind::FileName, "evil.dylib"));
  EXPECT_TRUE(hit(ObsKind::FileName, "/a/b/evil.dylib"));
  EXPECT_FALSE(hit(ObsKind::FileName, "Evil.dylib"));
  EXPECT_FALSE(hit(ObsKind::FileName, "evil"));
}

TEST_F(IndexTest, CaseInsensitiveKinds) {
  std::string sha256(64, 'a'), sha1(40, 'b'), md5(32, 'c'), cert(40, 'D');
  load({{"[email-addr:value='Bad@Example.com']", "E"},
        {"[app:id='com.evil.app']", "A"},
        {"[file:hashes.sha256='" + sha256 + "']", "H"},
        {"[file:hashes.sha1='" + sha1 + "']", "H"},
        {"[file:hashes.md5='" + md5 + "']", "H"},
        {"[app:cert.sha1='" + cert + "']", "C"},
        {"[configuration-profile:id='ABCDEF01-0000-0000-0000-000000000000']", "PR"},
        {"[android-property:name='persist.evil.flag']", "AP"}});
  EXPECT_TRUE(hit(ObsKind::Email, "bad@example.com"));
  EXPECT_TRUE(hit(ObsKind::Email, "BAD@EXAMPLE.COM"));
  EXPECT_FALSE(hit(ObsKind::Email, "bad@example.co"));
  EXPECT_TRUE(hit(ObsKind::AppId, "COM.Evil.App"));
  EXPECT_FALSE(hit(ObsKind::AppId, "com.evil.app2"));
  EXPECT_TRUE(hit(ObsKind::FileHash, std::string(64, 'A')));
  EXPECT_TRUE(hit(ObsKind::FileHash, std::string(40, 'B')));
  EXPECT_TRUE(hit(ObsKind::FileHash, std::string(32, 'c')));
  EXPECT_FALSE(hit(ObsKind::FileHash, std::string(63, 'a')));
  EXPECT_FALSE(hit(ObsKind::FileHash, std::string(32, 'a')));
  EXPECT_TRUE(hit(ObsKind::CertHash, std::string(40, 'd')));
  EXPECT_FALSE(hit(ObsKind::CertHash, std::string(64, 'a')));  // file hash, not a cert
  EXPECT_TRUE(hit(ObsKind::ProfileId, "abcdef01-0000-0000-0000-000000000000"));
  // Exact, not MVT's substring test.
  EXPECT_FALSE(hit(ObsKind::ProfileId, "ABCDEF01"));
  EXPECT_FALSE(hit(ObsKind::ProfileId, ""));
  EXPECT_TRUE(hit(ObsKind::Property, "Persist.Evil.Flag"));
  EXPECT_FALSE(hit(ObsKind::Property, "persist.evil"));

  EXPECT_EQ(msg(ObsKind::Email, "BAD@example.com"),
            "Found a known suspicious email address \"BAD@example.com\" matching indicators from \"E\"");
  EXPECT_EQ(msg(ObsKind::AppId, "com.evil.app"),
            "Found a known suspicious app with ID \"com.evil.app\" matching indicators from \"A\"");
  EXPECT_EQ(msg(ObsKind::FileHash, md5),
            "Found a known suspicious file with hash \"" + md5 + "\" matching indicators from \"H\"");
  EXPECT_EQ(msg(ObsKind::CertHash, cert),
            "Found a known suspicious app certificate with hash \"" + cert + "\" matching indicators from \"C\"");
  EXPECT_EQ(msg(ObsKind::ProfileId, "ABCDEF01-0000-0000-0000-000000000000"),
            "Found a known suspicious configuration profile \"ABCDEF01-0000-0000-0000-000000000000\" "
            "matching indicators from \"PR\"");
  EXPECT_EQ(msg(ObsKind::Property, "persist.evil.flag"),
            "Found a known suspicious Android property \"persist.evil.flag\" matching indicators from \"AP\"");
}

TEST_F(IndexTest, KindsDoNotCrossOver) {
  load({{"[domain-name:value='evil.com']"}, {"[process:name='evil.com']"}, {"[app:id='evil.com']"}});
  EXPECT_EQ(index_->match({ObsKind::Process, "evil.com"}).size(), 1u);
  EXPECT_EQ(index_->match({ObsKind::AppId, "evil.com"}).size(), 1u);
  EXPECT_EQ(index_->match({ObsKind::Domain, "evil.com"}).size(), 1u);
  EXPECT_FALSE(hit(ObsKind::Email, "evil.com"));
  EXPECT_FALSE(hit(ObsKind::FileName, "evil.com"));
}

TEST_F(IndexTest, AllMatchesInLoadOrderAcrossCollections) {
  load({{"[domain-name:value='evil.com']", "Second"}, {"[domain-name:value='a.evil.com']", "First"},
        {"[domain-name:value='evil.com']", "First"}});
  auto all = index_->match({ObsKind::Domain, "x.a.evil.com"});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].collection->name, "Second");
  EXPECT_EQ(all[0].indicator->value, "evil.com");
  EXPECT_EQ(all[1].indicator->value, "a.evil.com");
  EXPECT_EQ(all[2].collection->name, "First");
  EXPECT_EQ(all[0].indicator, &set_.indicators()[0]);
  auto first = index_->first({ObsKind::Domain, "x.a.evil.com"});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->indicator, all[0].indicator);
  // Same indicator reached twice (URL + host) is reported once.
  IndicatorSet s;
  ASSERT_TRUE(s.load_bundle(make_bundle({{"[url:value='http://evil.org/']"}, {"[domain-name:value='evil.org']"}}),
                            "t.stix2"));
  IndicatorIndex idx(s);
  EXPECT_EQ(idx.match({ObsKind::Url, "http://evil.org"}).size(), 2u);
}

TEST_F(IndexTest, TotalOnOddInput) {
  load({{"[domain-name:value='evil.com']"}, {"[file:path='/a/b']"}, {"[url:value='http://x.org/']"}});
  for (auto k : {ObsKind::Domain, ObsKind::Url, ObsKind::Ip, ObsKind::Process, ObsKind::FilePath,
                 ObsKind::FileName, ObsKind::Email, ObsKind::AppId, ObsKind::FileHash, ObsKind::CertHash,
                 ObsKind::ProfileId, ObsKind::Property}) {
    for (std::string v : {std::string(), std::string("/"), std::string("."), std::string("[]"),
                          std::string("::::"), std::string("\0\0", 2), std::string("http://"),
                          std::string(5000, 'a'), std::string("@@@:::///")}) {
      EXPECT_NO_THROW((void)index_->match({k, v}));
    }
  }
}

// Not a timed assertion: prints the lookup rate on a large synthetic index.
TEST(IndexPerf, LargeIndexLookupRate) {
  constexpr int kN = 200000;
  json objs = json::array();
  objs.push_back({{"type", "malware"}, {"id", "malware--m"}, {"name", "M"}});
  for (int i = 0; i < kN; ++i) {
    std::string id = "indicator--" + std::to_string(i);
    objs.push_back({{"type", "indicator"},
                    {"id", id},
                    {"pattern", "[domain-name:value='d" + std::to_string(i) + ".example-ioc.net']"}});
    objs.push_back({{"type", "relationship"}, {"source_ref", id}, {"target_ref", "malware--m"}});
  }
  std::string text = json{{"type", "bundle"}, {"objects", objs}}.dump();
  IndicatorSet s;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(s.load_bundle(text, "big.stix2"));
  IndicatorIndex idx(s);
  auto t1 = std::chrono::steady_clock::now();
  ASSERT_EQ(s.size(), static_cast<std::size_t>(kN));
  std::vector<Observation> obs;
  for (int i = 0; i < 1000; ++i)
    obs.push_back({ObsKind::Domain, "host" + std::to_string(i) + ".cdn.some-benign-site.com"});
  constexpr int kRounds = 1000;
  std::size_t found = 0;
  auto t2 = std::chrono::steady_clock::now();
  for (int r = 0; r < kRounds; ++r)
    for (const auto& o : obs) found += idx.match(o).size();
  auto t3 = std::chrono::steady_clock::now();
  EXPECT_EQ(found, 0u);
  EXPECT_TRUE(idx.first({ObsKind::Domain, "x.d1234.example-ioc.net"}));
  double load_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  double secs = std::chrono::duration<double>(t3 - t2).count();
  std::printf("[ perf ] %d domain indicators loaded+indexed in %.1f ms; %.2f M domain lookups/s\n", kN,
              load_ms, obs.size() * kRounds / secs / 1e6);
}

// Hosts with many labels (the suffix walk hashes 16 suffixes ahead, then goes on one by one),
// empty labels, and indicators sharing parents with observed hosts that do not match.
TEST_F(IndexTest, DomainManyLabelsAndSharedParents) {
  std::string deep;
  for (int i = 20; i >= 1; --i) deep += "l" + std::to_string(i) + ".";
  deep += "evil.com";  // l20.l19. ... .l1.evil.com
  std::string deep_ind = deep.substr(deep.find("l18."));  // 18 labels below evil.com + 2
  load({{"[domain-name:value='" + deep_ind + "']"}, {"[domain-name:value='x.y.shared.net']"},
        {"[domain-name:value='evil.com']", "B"}});
  EXPECT_EQ(values(ObsKind::Domain, deep), (V{deep_ind, "evil.com"}));
  EXPECT_EQ(values(ObsKind::Domain, "q." + deep), (V{deep_ind, "evil.com"}));
  EXPECT_EQ(values(ObsKind::Domain, deep_ind), (V{deep_ind, "evil.com"}));
  EXPECT_EQ(values(ObsKind::Domain, deep_ind.substr(4)), V{"evil.com"});
  EXPECT_EQ(values(ObsKind::Domain, "a.x.y.shared.net"), V{"x.y.shared.net"});
  EXPECT_TRUE(values(ObsKind::Domain, "y.shared.net").empty());   // a parent of an indicator
  EXPECT_TRUE(values(ObsKind::Domain, "shared.net").empty());
  EXPECT_TRUE(values(ObsKind::Domain, "z.y.shared.net").empty());
  EXPECT_TRUE(values(ObsKind::Domain, "x.y.shared.net.evil.org").empty());
  EXPECT_EQ(values(ObsKind::Domain, "a..x.y.shared.net"), V{"x.y.shared.net"});
}

// Normalisers used by the indicator index and by modules.
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "indicators/indicators.hpp"

using namespace bridle;

TEST(NormalizeHost, LowerCaseTrailingDotAndWww) {
  EXPECT_EQ(normalize_host("Evil.COM"), "evil.com");
  EXPECT_EQ(normalize_host("evil.com."), "evil.com");
  EXPECT_EQ(normalize_host("  evil.com \n"), "evil.com");
  EXPECT_EQ(normalize_host("www.example.org"), "example.org");
  EXPECT_EQ(normalize_host("WWW.Example.org"), "example.org");
}

TEST(NormalizeHost, WwwIsOnlyAPrefix) {
  // MVT's lstrip("www.") strips characters; this must not.
  EXPECT_EQ(normalize_host("webmail.example.net"), "webmail.example.net");
  EXPECT_EQ(normalize_host("wha.tsapp.me"), "wha.tsapp.me");
  EXPECT_EQ(normalize_host("www.andropwn.xyz"), "andropwn.xyz");
  EXPECT_EQ(normalize_host("wwwx.example.org"), "wwwx.example.org");
  EXPECT_EQ(normalize_host("a.www.example.org"), "a.www.example.org");
}

TEST(NormalizeHost, IpLiterals) {
  EXPECT_EQ(normalize_host("[2001:DB8::1]"), "2001:db8::1");
  EXPECT_EQ(normalize_host("2001:db8:0:0::1"), "2001:db8::1");
  EXPECT_EQ(normalize_host("198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(normalize_host("[::ffff:198.51.100.1]"), "198.51.100.1");
}

TEST(NormalizeHost, PortIsDropped) {
  EXPECT_EQ(normalize_host("evil.com:8443"), "evil.com");
}

TEST(NormalizeHost, ImplausibleIsEmpty) {
  EXPECT_EQ(normalize_host(""), "");
  EXPECT_EQ(normalize_host("   "), "");
  EXPECT_EQ(normalize_host("."), "");
  EXPECT_EQ(normalize_host("a..b"), "");
  EXPECT_EQ(normalize_host("evil.com/path"), "");
  EXPECT_EQ(normalize_host("a b.com"), "");
  EXPECT_EQ(normalize_host("user@evil.com"), "");
  EXPECT_EQ(normalize_host("[not-an-ip]"), "");
}

TEST(NormalizeUrl, Basics) {
  EXPECT_EQ(normalize_url("HTTP://Evil.COM"), "http://evil.com/");
  EXPECT_EQ(normalize_url("https://evil.com:443/a/B?x=1#frag"), "https://evil.com/a/B?x=1");
  EXPECT_EQ(normalize_url("http://evil.com:80"), "http://evil.com/");
  EXPECT_EQ(normalize_url("http://evil.com:8080/x"), "http://evil.com:8080/x");
  EXPECT_EQ(normalize_url("https://evil.com:80/x"), "https://evil.com:80/x");
  EXPECT_EQ(normalize_url("http://user:pw@Evil.com/x"), "http://evil.com/x");
  EXPECT_EQ(normalize_url("http://evil.com?q=1"), "http://evil.com/?q=1");
  EXPECT_EQ(normalize_url("http://evil.com./x"), "http://evil.com/x");
  EXPECT_EQ(normalize_url("http://[2001:DB8::1]:8080/x"), "http://[2001:db8::1]:8080/x");
  EXPECT_EQ(normalize_url("  https://evil.com/x  "), "https://evil.com/x");
}

TEST(NormalizeUrl, RejectsWithoutSchemeOrHost) {
  EXPECT_FALSE(normalize_url("evil.com/x"));
  EXPECT_FALSE(normalize_url("http:///x"));
  EXPECT_FALSE(normalize_url("://evil.com"));
  EXPECT_FALSE(normalize_url("1http://evil.com"));
  EXPECT_FALSE(normalize_url("http://evil.com:abc/"));
  EXPECT_FALSE(normalize_url(""));
}

TEST(UrlHost, WithAndWithoutScheme) {
  EXPECT_EQ(url_host("https://user@Evil.com:8443/x?y#z"), "evil.com");
  EXPECT_EQ(url_host("evil.com/x"), "evil.com");
  EXPECT_EQ(url_host("fgr1w2gnsdvsb.xyz/x"), "fgr1w2gnsdvsb.xyz");
  EXPECT_EQ(url_host("//evil.com/x"), "evil.com");
  EXPECT_EQ(url_host("http://[::1]:80/"), "::1");
  EXPECT_EQ(url_host("evil.com:80"), "evil.com");
  EXPECT_EQ(url_host("http://evil.com?x=http://other.org/"), "evil.com");
  EXPECT_EQ(url_host(""), "");
  EXPECT_EQ(url_host("http:///x"), "");
}

TEST(NormalizeIp, CanonicalForms) {
  EXPECT_EQ(normalize_ip("198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(normalize_ip(" 198.51.100.1 "), "198.51.100.1");
  EXPECT_EQ(normalize_ip("2001:0DB8:0000::0001"), "2001:db8::1");
  EXPECT_EQ(normalize_ip("[2001:db8::1]"), "2001:db8::1");
  EXPECT_EQ(normalize_ip("::ffff:198.51.100.1"), "198.51.100.1");
  EXPECT_EQ(normalize_ip("fe80::1%en0"), "fe80::1");
}

TEST(NormalizeIp, RejectsNonIps) {
  EXPECT_FALSE(normalize_ip(""));
  EXPECT_FALSE(normalize_ip("evil.com"));
  EXPECT_FALSE(normalize_ip("198.51.100"));
  EXPECT_FALSE(normalize_ip("198.51.100.256"));
  EXPECT_FALSE(normalize_ip("198.51.100.1/24"));
  EXPECT_FALSE(normalize_ip("84.110.47.86forti.external-Staging-02.com"));
  EXPECT_FALSE(normalize_ip(std::string("1.2.3.4\0", 8)));
  EXPECT_FALSE(normalize_ip(std::string(100, '1')));
}

TEST(NormalizePath, PrivateFirmlinks) {
  EXPECT_EQ(normalize_path("/private/var/mobile/x"), "/var/mobile/x");
  EXPECT_EQ(normalize_path("/private/etc/hosts"), "/etc/hosts");
  EXPECT_EQ(normalize_path("/private/tmp/x"), "/tmp/x");
  EXPECT_EQ(normalize_path("/private/var"), "/var");
  EXPECT_EQ(normalize_path("private/var/db/x"), "/var/db/x");
  EXPECT_EQ(normalize_path("/private/variable/x"), "/private/variable/x");
  EXPECT_EQ(normalize_path("/private/other/x"), "/private/other/x");
  EXPECT_EQ(normalize_path("/var/x"), "/var/x");
}

TEST(NormalizePath, CollapsesSlashes) {
  EXPECT_EQ(normalize_path("//private//var///x/"), "/var/x/");
  EXPECT_EQ(normalize_path("a//b"), "a/b");
  EXPECT_EQ(normalize_path(""), "");
  EXPECT_EQ(normalize_path("Library/Preferences/x.plist"), "Library/Preferences/x.plist");
}

// The normalisers are total: random bytes never throw or crash (ASan/UBSan builds check
// memory safety on the same inputs).
TEST(Normalize, TotalOnRandomBytes) {
  std::mt19937 rng(12345);
  const std::string alphabet = "abcXYZ019.:/@[]%?#\\ \t-_'\"\x00\xff\x80www.private/var";
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    int len = static_cast<int>(rng() % 40);
    for (int j = 0; j < len; ++j) {
      if (rng() % 4 == 0) s.push_back(static_cast<char>(rng() & 0xff));
      else s.push_back(alphabet[rng() % alphabet.size()]);
    }
    EXPECT_NO_THROW({
      (void)normalize_host(s);
      (void)normalize_url(s);
      (void)url_host(s);
      (void)normalize_ip(s);
      (void)normalize_path(s);
    });
  }
}

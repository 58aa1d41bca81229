// extract_urls: the URLs MVT-style modules pull out of free text (SMS bodies, notes).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "modules/module.hpp"

using bridle::extract_urls;
using V = std::vector<std::string>;

TEST(ExtractUrls, FindsHttpAndHttpsInAnyCase) {
  EXPECT_EQ(extract_urls("see https://a.example/x and HTTP://B.Example/Y ok"),
            (V{"https://a.example/x", "HTTP://B.Example/Y"}));
  EXPECT_EQ(extract_urls("HtTpS://mixed.example"), (V{"HtTpS://mixed.example"}));
  EXPECT_EQ(extract_urls("https://first.example\thttp://second.example\nhttp://third.example"),
            (V{"https://first.example", "http://second.example", "http://third.example"}));
}

TEST(ExtractUrls, IgnoresLookAlikesAndBareSchemes) {
  EXPECT_EQ(extract_urls("hxxp://defanged.example hh http:/x https:// ftp://f.example h"), V{});
  EXPECT_EQ(extract_urls("http://"), V{});
  EXPECT_EQ(extract_urls(""), V{});
  EXPECT_EQ(extract_urls("h"), V{});
  EXPECT_EQ(extract_urls("xhttps://glued.example"), (V{"https://glued.example"}));
  EXPECT_EQ(extract_urls(std::string("\xE9http://after-latin1.example\xC3\xA9", 30)),
            (V{std::string("http://after-latin1.example\xC3\xA9")}));
}

TEST(ExtractUrls, TrimsSentencePunctuationButKeepsBalancedParentheses) {
  EXPECT_EQ(extract_urls("go to https://a.example/p. now"), (V{"https://a.example/p"}));
  EXPECT_EQ(extract_urls("(https://a.example/p)!"), (V{"https://a.example/p"}));
  EXPECT_EQ(extract_urls("https://en.example/wiki/X_(y)"), (V{"https://en.example/wiki/X_(y)"}));
  EXPECT_EQ(extract_urls("\"https://q.example/?a=1\","), (V{"https://q.example/?a=1"}));
}

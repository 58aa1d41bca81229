// WebkitSafariViewService: origins named by the children of the WebKit folder ("https_host_0" -> URL).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "support/fs_dump.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

TEST(WebkitSafariViewService, OriginsFromFolderNames) {
  Scratch d;
  auto base = d / "dump/private/var/mobile/Containers/Data/Application/APP-1/SystemData/com.apple.SafariViewService/Library/WebKit/WebsiteData";
  write_file(base / "https_evil.example.com_0" / "x", "x");
  fs::create_directories(base / "http_news.example.org_0");
  write_file(base / "other", "x");
  write_file(base / ".hidden", "x");
  struct timespec ts[2] = {{1600000000, 0}, {1600000000, 0}};
  ::utimensat(AT_FDCWD, base.c_str(), ts, 0);
  auto src = open_fs(d / "dump");
  auto run = run_fs_module(*src, d, "WebkitSafariViewService", "webkit_safari_view_service", stix_bundle({"[domain-name:value='evil.example.com']"}));
  ASSERT_TRUE(run.doc.is_array());
  ASSERT_EQ(run.doc.size(), 2u);
  EXPECT_EQ(run.doc[0]["url"], "http://news.example.org");
  EXPECT_EQ(run.doc[1]["url"], "https://evil.example.com");
  EXPECT_EQ(run.doc[1]["folder"], "private/var/mobile/Containers/Data/Application/APP-1/SystemData/com.apple.SafariViewService/Library/WebKit/WebsiteData");
  EXPECT_EQ(run.doc[1]["isodate"], "2020-09-13 12:26:40.000000");
  EXPECT_EQ(run.alerts(Level::Critical).size(), 1u);
  EXPECT_EQ(run.rows().size(), std::string("").empty() ? 0u : 2u);
}

}  // namespace

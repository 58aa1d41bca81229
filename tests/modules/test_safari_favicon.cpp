// SafariFavicon: valid and rejected favicons, URL indicators on page or icon URL.
#include <gtest/gtest.h>

#include "support/fs_dump.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kSql =
    "CREATE TABLE page_url (uuid TEXT, url TEXT);"
    "CREATE TABLE icon_info (uuid TEXT, url TEXT, timestamp REAL);"
    "CREATE TABLE rejected_resources (page_url TEXT, icon_url TEXT, timestamp REAL);"
    "INSERT INTO page_url VALUES ('u1', 'https://news.example.org/');"
    "INSERT INTO icon_info VALUES ('u1', 'https://news.example.org/favicon.ico', 650000000);"
    "INSERT INTO rejected_resources VALUES ('https://ok.example.net/', 'https://cdn.evil.example/i.ico', 600000000);";

TEST(SafariFavicon, ValidAndRejected) {
  Scratch d;
  make_sqlite(d / "dump/private/var/mobile/Library/Image Cache/Favicons/Favicons.db", kSql);
  auto src = open_fs(d / "dump");
  auto run = run_fs_module(*src, d, "SafariFavicon", "safari_favicon", stix_bundle({"[domain-name:value='evil.example']"}));
  ASSERT_TRUE(run.doc.is_array());
  ASSERT_EQ(run.doc.size(), 2u);
  EXPECT_EQ(run.doc[0]["type"], "rejected");
  EXPECT_EQ(run.doc[0]["isodate"], "2020-01-06 10:40:00.000000");
  EXPECT_EQ(run.doc[1]["type"], "valid");
  EXPECT_EQ(run.doc[1]["icon_url"], "https://news.example.org/favicon.ico");
  EXPECT_EQ(run.doc[1]["safari_favicon_db_path"], "private/var/mobile/Library/Image Cache/Favicons/Favicons.db");
  auto crit = run.alerts(Level::Critical);
  ASSERT_EQ(crit.size(), 1u);
  EXPECT_EQ(crit[0]->event["type"], "rejected");
}

}  // namespace

// Netusage: NetBase over networkd's netusage.sqlite in a filesystem dump (both locations).
#include <gtest/gtest.h>

#include "support/fs_dump.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kSql =
    "CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,"
    " ZFIRSTTIMESTAMP TIMESTAMP, ZTIMESTAMP TIMESTAMP, ZBUNDLENAME VARCHAR, ZPROCNAME VARCHAR);"
    "CREATE TABLE ZLIVEUSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZKIND INTEGER,"
    " ZMETADATA INTEGER, ZTAG INTEGER, ZHASPROCESS INTEGER, ZBILLCYCLEEND TIMESTAMP, ZTIMESTAMP TIMESTAMP,"
    " ZWIFIIN FLOAT, ZWIFIOUT FLOAT, ZWWANIN FLOAT, ZWWANOUT FLOAT);"
    "INSERT INTO ZPROCESS VALUES (1, 1, 1, 588812000.0, 588812000.5, 'com.apple.Maps', 'UUID/com.apple.Maps');"
    "INSERT INTO ZPROCESS VALUES (2, 1, 1, 588812100.0, 588812100.0, NULL, 'evilproc');"
    "INSERT INTO ZPROCESS VALUES (3, 1, 1, 588812200.0, 588812200.0, NULL, 'presentbin');"
    "INSERT INTO ZLIVEUSAGE VALUES (1, 1, 1, 0, 0, 0, 2, NULL, 588812150.0, 1.0, 2.0, 300.0, 4.0);";

TEST(Netusage, RecordsIndicatorsAndBinarySearch) {
  Scratch d;
  make_sqlite(d / "dump/private/var/networkd/db/netusage.sqlite", kSql);
  write_file(d / "dump/private/var/containers/Bundle/presentbin", "x");
  auto src = open_fs(d / "dump");
  auto run = run_fs_module(*src, d, "Netusage", "netusage", stix_bundle({"[process:name='evilproc']"}));
  ASSERT_TRUE(run.doc.is_array());
  EXPECT_EQ(run.doc.size(), 3u);
  EXPECT_FALSE(run.alerts(Level::Critical).empty());
  // evilproc has no bundle id and no binary in the dump; presentbin's binary is there.
  std::size_t missing = 0;
  for (auto* a : run.alerts(Level::Medium)) {
    EXPECT_NE(a->message.find("evilproc"), std::string::npos) << a->message;
    ++missing;
  }
  EXPECT_EQ(missing, 1u);
  auto fast = run_fs_module(*src, d, "Netusage", "netusage", "", true);
  EXPECT_TRUE(fast.alerts(Level::Medium).empty());
}

}  // namespace

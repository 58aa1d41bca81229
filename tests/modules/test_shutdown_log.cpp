// ShutdownLog: MVT's records, indicator matching (UUID suffix removed), iShutdown checks.
#include <gtest/gtest.h>

#include "modules/ios/shutdown_log.hpp"
#include "support/fs_dump.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kLog =
    "remaining client pid: 123 (/private/var/db/com.apple.xpc.roleaccountd.staging/mptbd/42286BD8-3758-3B85-B19F-6E1FDB2CB030)\n"
    "remaining client pid: 140 (/usr/libexec/nsurlsessiond)\n"
    "After 1.50s, these clients are still here:\n"
    "remaining client pid: 123 (/private/var/db/com.apple.xpc.roleaccountd.staging/mptbd/42286BD8-3758-3B85-B19F-6E1FDB2CB030)\n"
    "After 2.00s, these clients are still here:\n"
    "After 3.25s, these clients are still here:\n"
    "SIGTERM: [1700000000]\n"
    "remaining client pid: 77 (/usr/libexec/locationd)\n"
    "some text @1600000000 SIGTERM\n"
    "SIGTERM: reboot @1600000000 ok\n";

TEST(ShutdownLog, RecordsHeuristicsAndIndicators) {
  Scratch d;
  write_file(d / "dump/private/var/db/diagnostics/shutdown.log", kLog);
  write_file(d / "dump/private/var/db/diagnostics/shutdown.0.log",
             "remaining client pid: 9 (/private/var/tmp/x)\nSIGTERM: [1500000000]\n");
  auto src = open_fs(d / "dump");
  auto run = run_fs_module(*src, d, "ShutdownLog", "shutdown_log",
                           stix_bundle({"[process:name='mptbd']"}));
  ASSERT_TRUE(run.doc.is_array());
  ASSERT_EQ(run.doc.size(), 5u);
  // Sorted by isodate: the rotated log's 2017 shutdown first.
  EXPECT_EQ(run.doc[0]["client"], "/private/var/tmp/x");
  EXPECT_EQ(run.doc[0]["isodate"], "2017-07-14 02:40:00.000000");
  EXPECT_EQ(run.doc[1]["pid"], "77");
  EXPECT_EQ(run.doc[1]["isodate"], "2020-09-13 12:26:40.000000");
  const Json& last = run.doc[4];
  EXPECT_EQ(last["pid"], "123");
  EXPECT_DOUBLE_EQ(last["delay"].get<double>(), 1.5);
  EXPECT_EQ(last["times_delayed"], 1);
  EXPECT_EQ(run.doc[2]["delay"].get<double>(), 0.0);
  // Indicator: process component of a path with an iOS 26 UUID suffix.
  auto crit = run.alerts(Level::Critical);
  EXPECT_EQ(crit.size(), 2u);
  for (auto* a : crit) EXPECT_EQ(a->matched->value, "mptbd");
  // iShutdown: delayed 3 times -> MEDIUM; clients in /private/var/db and /private/var/tmp -> HIGH.
  auto med = run.alerts(Level::Medium);
  ASSERT_EQ(med.size(), 1u);
  EXPECT_EQ(med[0]->event_time, "2023-11-14 22:13:20.000000");
  EXPECT_NE(med[0]->message.find("delayed 3 times"), std::string::npos);
  auto high = run.alerts(Level::High);
  ASSERT_EQ(high.size(), 2u);
  EXPECT_NE(high[0]->message.find("unusual location"), std::string::npos);
  // Timeline rows as MVT (de-duplicated).
  std::size_t shutdown_rows = 0;
  for (auto* t : run.rows())
    if (t->event == "shutdown") ++shutdown_rows;
  EXPECT_EQ(shutdown_rows, 4u);
}

TEST(ShutdownLog, FilePathIndicatorAndNoLog) {
  Scratch d;
  write_file(d / "dump/private/var/db/diagnostics/shutdown.log",
             "remaining client pid: 5 (/usr/bin/evil)\nSIGTERM: [1700000000]\n");
  auto src = open_fs(d / "dump");
  auto run = run_fs_module(*src, d, "ShutdownLog", "shutdown_log", stix_bundle({"[file:path='/usr/bin/evil']"}));
  ASSERT_EQ(run.alerts(Level::Critical).size(), 1u);
  EXPECT_TRUE(run.alerts(Level::High).empty());
  Scratch e;
  fs::create_directories(e / "private/var/mobile");
  auto empty = open_fs(e.path());
  auto r2 = run_fs_module(*empty, e, "ShutdownLog", "shutdown_log");
  EXPECT_TRUE(r2.doc.is_null());
  EXPECT_FALSE(r2.result.partial());
}

}  // namespace

// The parser alone (also the fuzz target's entry point): shutdowns in file order, delays
// accumulated per shutdown, trailing client lines counted, hostile bytes tolerated.
TEST(ShutdownLogParser, ShutdownsDelaysAndTrailingClients) {
  auto p = parse_shutdown_log(kLog);
  ASSERT_EQ(p.shutdowns.size(), 2u);
  EXPECT_EQ(p.shutdowns[0].isodate, "2023-11-14 22:13:20.000000");
  ASSERT_EQ(p.shutdowns[0].clients.size(), 3u);
  EXPECT_EQ(p.shutdowns[0].clients[0].pid, "123");
  EXPECT_EQ(p.shutdowns[0].clients[2].times_delayed, 1);
  EXPECT_DOUBLE_EQ(p.shutdowns[0].clients[2].delay, 1.5);
  EXPECT_EQ(p.shutdowns[0].times_delayed, 3);
  EXPECT_DOUBLE_EQ(p.shutdowns[0].delay, 6.75);
  EXPECT_EQ(p.shutdowns[1].isodate, "2020-09-13 12:26:40.000000");
  EXPECT_EQ(p.shutdowns[1].clients.size(), 1u);
  EXPECT_EQ(p.trailing_clients, 0u);

  auto t = parse_shutdown_log("SIGTERM: [99999999999999999]\nremaining client pid: 1 (/x)\nremaining client pid: (\n");
  ASSERT_EQ(t.shutdowns.size(), 1u);
  EXPECT_EQ(t.trailing_clients, 2u);
  std::string junk("\0\xff" "After 1e308.5.5s\nAfter .\nSIGTERM: [\nremaining client pid: )(", 60);
  EXPECT_EQ(parse_shutdown_log(junk).shutdowns.size(), 1u);
  EXPECT_TRUE(parse_shutdown_log("").shutdowns.empty());
}

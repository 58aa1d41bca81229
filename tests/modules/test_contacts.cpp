// Contacts: ABPerson x ABMultiValue values, no timeline.
#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/backup_builder.hpp"
#include "support/module_runner.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

TEST(Contacts, PersonValues) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("HomeDomain", "Library/AddressBook/AddressBook.sqlitedb",
               "CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY, First TEXT, Last TEXT, Middle TEXT,"
               " Organization TEXT);"
               "CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER, property INTEGER, value TEXT);"
               "INSERT INTO ABPerson VALUES (1, 'Alice', 'Example', NULL, 'ACME');"
               "INSERT INTO ABPerson VALUES (2, 'Bob', NULL, 'Q', NULL);"
               "INSERT INTO ABMultiValue VALUES (1, 2, 3, '+14155550101');"
               "INSERT INTO ABMultiValue VALUES (2, 1, 3, '+14155550100');"
               "INSERT INTO ABMultiValue VALUES (3, 1, 4, 'alice@example.org');"
               "INSERT INTO ABMultiValue VALUES (4, 1, 4, NULL);");
  b.finish();
  auto r = run_ios_module(b.root(), "Contacts");
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"value": "+14155550100", "first": "Alice", "middle": null,
      "last": "Example", "organization": "ACME"})"));
  EXPECT_EQ(r.records[1]["value"], "alice@example.org");
  EXPECT_EQ(r.records[2]["first"], "Bob");
  EXPECT_TRUE(r.result.timeline.empty());
  EXPECT_FALSE(r.result.partial());
}

}  // namespace

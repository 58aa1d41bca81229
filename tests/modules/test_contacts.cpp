// Contacts: ABPerson x ABMultiValue values, no timeline.
#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/backup_builder.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

struct Run {
  ScanResult result;
  Json records = Json::array();
};

// Runs one module over a finished backup, with an optional STIX2 bundle.
Run scan(const std::filesystem::path& backup, const Scratch& out, const std::string& module,
         const std::string& slug, const char* stix = nullptr) {
  std::string err;
  auto src = IosBackupSource::open(backup, &err);
  EXPECT_TRUE(src) << err;
  IndicatorSet set;
  if (stix) {
    EXPECT_TRUE(set.load_bundle(stix, "test.stix2"));
  }
  IndicatorIndex index(set);
  auto mods = ModuleRegistry::instance().create(kIosBackup);
  EXPECT_TRUE(select_modules(mods, {module}, &err)) << err;
  ScanOptions opts;
  opts.output_dir = out.path();
  opts.threads = 1;
  opts.module_options.have_indicators = stix != nullptr;
  Run r;
  r.result = Engine(stix ? &set : nullptr, stix ? &index : nullptr).run(std::move(mods), src.get(), nullptr, opts);
  auto file = out / (slug + ".json");
  if (std::filesystem::exists(file)) r.records = Json::parse(slurp(file));
  return r;
}

[[maybe_unused]] bool has_row(const ScanResult& r, const std::string& ts, const std::string& event, const std::string& desc) {
  for (auto& t : r.timeline)
    if (t.timestamp == ts && t.event == event && t.description == desc) return true;
  return false;
}

[[maybe_unused]] std::string stix_with(const std::string& pattern) {
  return R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"Spy"},
 {"type":"indicator","id":"indicator--1","pattern":")" + pattern + R"(","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"}]})";
}

}  // namespace

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
  Scratch out;
  auto r = scan(b.root(), out, "Contacts", "contacts");
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"value": "+14155550100", "first": "Alice", "middle": null,
      "last": "Example", "organization": "ACME"})"));
  EXPECT_EQ(r.records[1]["value"], "alice@example.org");
  EXPECT_EQ(r.records[2]["first"], "Bob");
  EXPECT_TRUE(r.result.timeline.empty());
  EXPECT_FALSE(r.result.partial());
}

}  // namespace

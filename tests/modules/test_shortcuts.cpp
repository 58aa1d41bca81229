// Shortcuts: ZSHORTCUT x ZSHORTCUTACTIONS, URLs from action parameters, indicators, timeline.
#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/backup_builder.hpp"
#include "core/util.hpp"
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

TEST(Shortcuts, ActionsUrlsAndIndicators) {
  Scratch d;
  BackupBuilder b(d / "backup");
  Json actions = Json::array({{{"WFWorkflowActionIdentifier", "is.workflow.actions.openurl"},
                               {"WFWorkflowActionParameters", {{"WFInput", "see https://evil.org/x?a=1, then"},
                                                               {"Nested", Json::array({"http://example.com/"})}}}},
                              {{"WFWorkflowActionIdentifier", "is.workflow.actions.alert"}}});
  std::string blob = make_plist(actions);
  std::string hex = to_hex(reinterpret_cast<const unsigned char*>(blob.data()), blob.size());
  b.add_sqlite("HomeDomain", "Library/Shortcuts/Shortcuts.sqlite",
               "CREATE TABLE ZSHORTCUT (Z_PK INTEGER PRIMARY KEY, ZNAME VARCHAR, ZCREATIONDATE TIMESTAMP,"
               " ZMODIFICATIONDATE TIMESTAMP, ZACTIONSDESCRIPTION VARCHAR);"
               "CREATE TABLE ZSHORTCUTACTIONS (Z_PK INTEGER PRIMARY KEY, ZSHORTCUT INTEGER, ZDATA BLOB);"
               "INSERT INTO ZSHORTCUT VALUES (1, 'Open', 600000000, 600000060, 'Opens a page');"
               "INSERT INTO ZSHORTCUT VALUES (2, 'Empty', 600000000, 600000000, NULL);"
               "INSERT INTO ZSHORTCUTACTIONS VALUES (1, 1, X'" + hex + "');");
  b.finish();
  Scratch out;
  auto stix = stix_with("[domain-name:value='evil.org']");
  auto r = scan(b.root(), out, "Shortcuts", "shortcuts", stix.c_str());
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"shortcut_id": 1, "shortcut_name": "Open",
      "modified_date": "2020-01-06 10:41:00.000000", "description": "Opens a page", "parsed_actions": 2,
      "action_urls": ["https://evil.org/x?a=1", "http://example.com/"], "isodate": "2020-01-06 10:40:00.000000"})"));
  EXPECT_TRUE(r.records[1]["action_urls"].is_null());
  EXPECT_EQ(r.records[1]["parsed_actions"], 0);
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].event["shortcut_id"], 1);
  EXPECT_TRUE(has_row(r.result, "2020-01-06 10:40:00.000000", "shortcut_created",
                      "iOS Shortcut 'Open': Opens a page - URLs in actions: https://evil.org/x?a=1, http://example.com/"));
  EXPECT_TRUE(has_row(r.result, "2020-01-06 10:41:00.000000", "shortcut_modified",
                      "iOS Shortcut 'Open': Opens a page - URLs in actions: https://evil.org/x?a=1, http://example.com/"));
  EXPECT_TRUE(has_row(r.result, "2020-01-06 10:40:00.000000", "shortcut_created", "iOS Shortcut 'Empty':  "));
}

}  // namespace

// Shortcuts: ZSHORTCUT x ZSHORTCUTACTIONS, URLs from action parameters, indicators, timeline.
#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "support/backup_builder.hpp"
#include "core/util.hpp"
#include "support/module_runner.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

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
  auto stix = stix_with("[domain-name:value='evil.org']");
  auto r = run_ios_module(b.root(), "Shortcuts", stix);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"shortcut_id": 1, "shortcut_name": "Open",
      "modified_date": "2020-01-06 10:41:00.000000", "description": "Opens a page", "parsed_actions": 2,
      "action_urls": ["https://evil.org/x?a=1", "http://example.com/"], "isodate": "2020-01-06 10:40:00.000000"})"));
  EXPECT_TRUE(r.records[1]["action_urls"].is_null());
  EXPECT_EQ(r.records[1]["parsed_actions"], 0);
  ASSERT_EQ(r.result.alerts.size(), 1u);
  EXPECT_EQ(r.result.alerts[0].event["shortcut_id"], 1);
  EXPECT_TRUE(has_timeline_row(r.result, "2020-01-06 10:40:00.000000", "shortcut_created",
                               "iOS Shortcut 'Open': Opens a page - URLs in actions: https://evil.org/x?a=1, http://example.com/"));
  EXPECT_TRUE(has_timeline_row(r.result, "2020-01-06 10:41:00.000000", "shortcut_modified",
                               "iOS Shortcut 'Open': Opens a page - URLs in actions: https://evil.org/x?a=1, http://example.com/"));
  EXPECT_TRUE(has_timeline_row(r.result, "2020-01-06 10:40:00.000000", "shortcut_created", "iOS Shortcut 'Empty':  "));
}

}  // namespace

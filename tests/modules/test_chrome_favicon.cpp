// ChromeFavicon: favicon records (last update, else last request), sorted by date, URL indicators.
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

TEST(ChromeFavicon, RecordsSortedAndIndicators) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("AppDomain-com.google.chrome.ios", "Library/Application Support/Google/Chrome/Default/Favicons",
               "CREATE TABLE icon_mapping (id INTEGER PRIMARY KEY, page_url LONGVARCHAR, icon_id INTEGER);"
               "CREATE TABLE favicons (id INTEGER PRIMARY KEY, url LONGVARCHAR, icon_type INTEGER);"
               "CREATE TABLE favicon_bitmaps (id INTEGER PRIMARY KEY, icon_id INTEGER, last_updated INTEGER,"
               " last_requested INTEGER);"
               "INSERT INTO icon_mapping VALUES (1, 'https://example.com/', 1);"
               "INSERT INTO icon_mapping VALUES (2, 'https://news.example.net/', 2);"
               "INSERT INTO favicons VALUES (1, 'https://example.com/favicon.ico', 1);"
               "INSERT INTO favicons VALUES (2, 'https://cdn.evil.org/i.png', 1);"
               "INSERT INTO favicon_bitmaps VALUES (1, 1, 13230000005000000, 0);"
               "INSERT INTO favicon_bitmaps VALUES (2, 2, 0, 13230000000000000);");
  b.finish();
  Scratch out;
  auto stix = stix_with("[domain-name:value='evil.org']");
  auto r = scan(b.root(), out, "ChromeFavicon", "chrome_favicon", stix.c_str());
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"url": "https://news.example.net/", "icon_url": "https://cdn.evil.org/i.png",
      "timestamp": 13230000000000000, "isodate": "2020-03-30 00:00:00.000000"})"));
  EXPECT_EQ(r.records[1]["isodate"], "2020-03-30 00:00:05.000000");
  ASSERT_EQ(r.result.alerts.size(), 1u);  // the icon URL
  EXPECT_EQ(r.result.alerts[0].event["url"], "https://news.example.net/");
  EXPECT_TRUE(has_row(r.result, "2020-03-30 00:00:00.000000", "new_favicon",
                      "https://cdn.evil.org/i.png from https://news.example.net/"));
}

}  // namespace

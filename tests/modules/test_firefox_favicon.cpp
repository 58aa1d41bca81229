// FirefoxFavicon: favicons x favicon_sites x history, page or icon URL indicators.
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

const char* kBrowserDb =
    "CREATE TABLE history (id INTEGER PRIMARY KEY, guid TEXT, url TEXT, title TEXT);"
    "CREATE TABLE visits (id INTEGER PRIMARY KEY, siteID INTEGER, date REAL, type INTEGER, is_local TINYINT);"
    "CREATE TABLE favicons (id INTEGER PRIMARY KEY, url TEXT, width INTEGER, height INTEGER, type INTEGER,"
    " date REAL);"
    "CREATE TABLE favicon_sites (id INTEGER PRIMARY KEY, siteID INTEGER, faviconID INTEGER);"
    "INSERT INTO history VALUES (1, 'g1', 'https://example.com/', 'Example');"
    "INSERT INTO history VALUES (2, 'g2', 'https://a.evil.org/p', NULL);"
    "INSERT INTO visits VALUES (1, 1, 1585526400123456, 1, 1);"
    "INSERT INTO visits VALUES (2, 2, 1585526401000000, 2, 0);"
    "INSERT INTO favicons VALUES (5, 'https://example.com/f.ico', 16, 16, 1, 1585526402);"
    "INSERT INTO favicon_sites VALUES (1, 2, 5);";

TEST(FirefoxFavicon, FaviconsWithTheirPages) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_sqlite("AppDomainGroup-group.org.mozilla.ios.Firefox", "profile.profile/browser.db", kBrowserDb);
  b.finish();
  Scratch out;
  auto stix = stix_with("[domain-name:value='evil.org']");
  auto r = scan(b.root(), out, "FirefoxFavicon", "firefox_favicon", stix.c_str());
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0], Json::parse(R"({"id": 5, "url": "https://example.com/f.ico", "width": 16, "height": 16,
      "type": 1, "isodate": "2020-03-30 00:00:02.000000", "history_id": 2, "history_url": "https://a.evil.org/p"})"));
  ASSERT_EQ(r.result.alerts.size(), 1u);  // through the page URL
  EXPECT_EQ(r.result.alerts[0].matched->value, "evil.org");
  EXPECT_TRUE(has_row(r.result, "2020-03-30 00:00:02.000000", "firefox_history",
                      "Firefox favicon https://example.com/f.ico when visiting https://a.evil.org/p"));
}

}  // namespace

// Datausage (and the shared NetBase logic) over fixtures built from SQL text.
#include <gtest/gtest.h>

#include "acquisition/ios_backup.hpp"
#include "core/util.hpp"
#include "engine/engine.hpp"
#include "indicators/indicators.hpp"
#include "modules/ios/netbase.hpp"
#include "support/backup_builder.hpp"
#include "support/module_runner.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::test;

namespace {

const char* kStix = R"({"type":"bundle","id":"bundle--1","objects":[
 {"type":"malware","id":"malware--1","name":"TestSpy"},
 {"type":"indicator","id":"indicator--1","pattern":"[process:name='evilproc']","pattern_type":"stix"},
 {"type":"indicator","id":"indicator--2","pattern":"[process:name='com.evil.bundle']","pattern_type":"stix"},
 {"type":"relationship","id":"relationship--1","source_ref":"indicator--1","target_ref":"malware--1"},
 {"type":"relationship","id":"relationship--2","source_ref":"indicator--2","target_ref":"malware--1"}]})";

const char* kSchema =
    "CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,"
    " ZFIRSTTIMESTAMP TIMESTAMP, ZTIMESTAMP TIMESTAMP, ZBUNDLENAME VARCHAR, ZPROCNAME VARCHAR);"
    "CREATE TABLE ZLIVEUSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZKIND INTEGER,"
    " ZMETADATA INTEGER, ZTAG INTEGER, ZHASPROCESS INTEGER, ZBILLCYCLEEND TIMESTAMP, ZTIMESTAMP TIMESTAMP,"
    " ZWIFIIN FLOAT, ZWIFIOUT FLOAT, ZWWANIN FLOAT, ZWWANOUT FLOAT);";

// Processes 1-4 and 6 (5 was deleted), evilproc used twice, a look-alike, a bundle-id hit.
const char* kRows =
    "INSERT INTO ZPROCESS VALUES (1, 1, 1, 588812000.25, 588812000.5, 'com.apple.Maps', 'UUID/com.apple.Maps');"
    "INSERT INTO ZPROCESS VALUES (2, 1, 1, 588812100.0, 588812100.0, NULL, 'evilproc');"
    "INSERT INTO ZPROCESS VALUES (3, 1, 1, 588812200.0, 588812300.0, NULL, 'evilprocX');"
    "INSERT INTO ZPROCESS VALUES (4, 1, 1, 588812400.0, 588812400.0, 'com.evil.bundle', 'helper/com.evil.bundle');"
    "INSERT INTO ZPROCESS VALUES (6, 1, 1, 588812600.0, 588812700.0, 'com.apple.news', 'news/com.apple.news');"
    "INSERT INTO ZLIVEUSAGE VALUES (1, 1, 1, 0, 0, 0, 2, NULL, 588812150.0, 1.0, 2.0, 300.0, 4.0);"
    "INSERT INTO ZLIVEUSAGE VALUES (2, 1, 1, 0, 0, 0, 2, NULL, 653221799.486609, 0.0, 0.0, 0.0, 0.0);"
    "INSERT INTO ZLIVEUSAGE VALUES (3, 1, 1, 0, 0, 0, 3, NULL, 588812250.0, 0.0, 0.0, 10.0, 0.0);"
    "INSERT INTO ZLIVEUSAGE VALUES (4, 1, 1, 0, 0, 0, 6, NULL, 588812650.0, 0.0, 0.0, 5.0, 6.0);";

ModuleRun run_module(IosSource& src, const Scratch& dir, bool with_iocs = true, bool fast = false) {
  ModuleRunOptions o;
  o.fast = fast;
  o.out_dir = dir / "out";
  return run_ios_module(src, "Datausage", with_iocs ? kStix : "", o);
}

ModuleRun run_backup(const Scratch& dir, const std::string& sql, bool with_iocs = true) {
  BackupBuilder b(dir / "backup");
  b.add_sqlite("WirelessDomain", "Library/Databases/DataUsage.sqlite", sql);
  b.finish();
  std::string err;
  auto src = IosBackupSource::open(dir / "backup", &err);
  EXPECT_TRUE(src) << err;
  return run_module(*src, dir, with_iocs);
}

const Json* find_record(const Json& records, const std::string& proc_name, int nth = 0) {
  for (auto& r : records)
    if (r["proc_name"] == proc_name && nth-- == 0) return &r;
  return nullptr;
}

TEST(Datausage, RecordsInMvtShapeAndOrder) {
  Scratch d;
  auto r = run_backup(d, std::string(kSchema) + kRows);
  // 4 live rows + 2 processes without live rows (1, 4) + 1 placeholder for process 5.
  ASSERT_EQ(r.records.size(), 7u) << r.records.dump(1);
  std::vector<std::string> keys;
  for (auto& [k, v] : r.records[0].items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"first_isodate", "isodate", "proc_name", "bundle_id", "proc_id",
                                             "wifi_in", "wifi_out", "wwan_in", "wwan_out", "live_id",
                                             "live_proc_id", "live_isodate"}));
  // Sorted by first_isodate.
  for (std::size_t i = 1; i < r.records.size(); ++i)
    EXPECT_LE(r.records[i - 1]["first_isodate"].get<std::string>(), r.records[i]["first_isodate"].get<std::string>());
  const Json* maps = find_record(r.records, "UUID/com.apple.Maps");
  ASSERT_TRUE(maps);
  EXPECT_EQ((*maps)["first_isodate"], "2019-08-29 22:53:20.250000");
  EXPECT_EQ((*maps)["isodate"], "2019-08-29 22:53:20.500000");
  EXPECT_EQ((*maps)["proc_id"], 1);
  EXPECT_TRUE((*maps)["live_id"].is_null());
  EXPECT_TRUE((*maps)["live_proc_id"].is_null());
  EXPECT_EQ((*maps)["live_isodate"], (*maps)["first_isodate"]);
  // evilproc: two live rows, ordered by the live columns (wwan_in 0.0 first).
  const Json* e0 = find_record(r.records, "evilproc", 0);
  const Json* e1 = find_record(r.records, "evilproc", 1);
  ASSERT_TRUE(e0 && e1);
  EXPECT_EQ((*e0)["live_id"], 2);
  EXPECT_EQ((*e0)["live_isodate"], "2021-09-13 10:29:59.486609");
  EXPECT_EQ((*e1)["live_id"], 1);
  EXPECT_EQ((*e1)["wwan_in"], 300.0);
  EXPECT_EQ((*e1)["wifi_in"], 1.0);
  EXPECT_TRUE((*e1)["bundle_id"].is_null());
}

TEST(Datausage, IndicatorAlertsOnePerRowAndBundleIds) {
  Scratch d;
  auto r = run_backup(d, std::string(kSchema) + kRows);
  auto crit = r.alerts(Level::Critical);
  ASSERT_EQ(crit.size(), 3u);
  int evil = 0, bundle = 0;
  for (auto* a : crit) {
    ASSERT_TRUE(a->matched);
    if (a->matched->value == "evilproc") {
      ++evil;
      EXPECT_EQ(a->message, "Found a known suspicious process name \"evilproc\" matching indicators from \"TestSpy\"");
      EXPECT_EQ(a->event_time, "2019-08-29 22:55:00.000000");  // first_isodate, as MVT
    } else if (a->matched->value == "com.evil.bundle") {
      ++bundle;
      EXPECT_EQ(a->event["proc_name"], "helper/com.evil.bundle");
    }
  }
  EXPECT_EQ(evil, 2);  // one per ZLIVEUSAGE row, as MVT (evilprocX does not match)
  EXPECT_EQ(bundle, 1);  // not doubled by bundle_id == basename(proc_name)
}

TEST(Datausage, MissingProcessPlaceholderAndLowAlert) {
  Scratch d;
  auto r = run_backup(d, std::string(kSchema) + kRows, false);
  auto low = r.alerts(Level::Low);
  ASSERT_EQ(low.size(), 1u);
  EXPECT_EQ(low[0]->message,
            "Missing process 5. Previous process at \"2019-08-29 23:00:00.000000\" (helper/com.evil.bundle)");
  EXPECT_EQ(low[0]->event_time, "2019-08-29 23:00:00.000000");
  EXPECT_EQ(low[0]->event["proc_id"], 4);
  const Json* m = find_record(r.records, "MISSING [follows helper/com.evil.bundle]");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)["proc_id"], 5);
  EXPECT_EQ((*m)["live_proc_id"], 5);
  EXPECT_TRUE((*m)["bundle_id"].is_null());
  EXPECT_TRUE((*m)["wwan_in"].is_null());
  EXPECT_EQ((*m)["first_isodate"], "2019-08-29 23:00:00.000000");
  EXPECT_EQ((*m)["isodate"], "2019-08-29 23:00:00.000000");
  EXPECT_EQ((*m)["live_isodate"], "2019-08-29 23:00:00.000000");
  // The placeholder sorts after the process it follows.
  std::size_t pm = 0, pp = 0;
  for (std::size_t i = 0; i < r.records.size(); ++i) {
    if (r.records[i]["proc_id"] == 5) pm = i;
    if (r.records[i]["proc_id"] == 4) pp = i;
  }
  EXPECT_EQ(pm, pp + 1);
  EXPECT_EQ(r.result.alerts.size(), 1u);  // no indicators: no other alert
}

TEST(Datausage, TimelineRowsAsMvt) {
  Scratch d;
  auto r = run_backup(d, std::string(kSchema) + kRows, false);
  auto live = r.rows("live_usage");
  auto first = r.rows("first_usage");
  auto current = r.rows("current_usage");
  EXPECT_EQ(live.size(), 7u);
  // Only rows with a live process entry (evilproc's two rows give the same first/current row).
  EXPECT_EQ(first.size(), 3u);
  EXPECT_EQ(current.size(), 3u);
  bool found = false;
  for (auto* t : live) {
    EXPECT_EQ(t->plugin, "Datausage");
    if (t->description == "evilproc (Bundle ID: None, ID: 2) WWAN IN: 300.0, WWAN OUT: 4.0") {
      found = true;
      EXPECT_EQ(t->timestamp, "2019-08-29 22:55:50.000000");
    }
    if (t->description.rfind("MISSING", 0) == 0) {
      EXPECT_EQ(t->description,
                "MISSING [follows helper/com.evil.bundle] (Bundle ID: None, ID: 5) WWAN IN: None, WWAN OUT: None");
    }
  }
  EXPECT_TRUE(found);
  bool f2 = false;
  for (auto* t : first)
    if (t->description == "evilproc (Bundle ID: None, ID: 2)") {
      f2 = true;
      EXPECT_EQ(t->timestamp, "2019-08-29 22:55:00.000000");
    }
  EXPECT_TRUE(f2);
}

TEST(Datausage, DeletedProcessRowIsManipulated) {
  Scratch d;
  std::string sql = std::string(kSchema) +
                    "INSERT INTO ZPROCESS VALUES (1, 1, 1, 588812000.0, 588812000.0, 'com.apple.Maps', 'Maps/com.apple.Maps');"
                    "INSERT INTO ZPROCESS VALUES (2, 1, 1, 588812100.0, 588812100.0, NULL, 'ok');"
                    "INSERT INTO ZLIVEUSAGE VALUES (1, 1, 1, 0, 0, 0, 9, NULL, 588813000.0, 0.0, 0.0, 7.0, 8.0);"
                    "INSERT INTO ZLIVEUSAGE VALUES (2, 1, 1, 0, 0, 0, 9, NULL, 588812900.0, 0.0, 0.0, 1.0, 2.0);"
                    "INSERT INTO ZLIVEUSAGE VALUES (3, 1, 1, 0, 0, 0, 2, NULL, 588812900.0, 0.0, 0.0, 1.0, 2.0);";
  auto r = run_backup(d, sql, false);
  auto high = r.alerts(Level::High);
  ASSERT_EQ(high.size(), 1u);  // once per deleted process, not per row
  EXPECT_EQ(high[0]->message, "Found manipulated process entry 9. Entry on 2019-08-29 23:08:20.000000");
  EXPECT_EQ(high[0]->event_time, "2019-08-29 23:08:20.000000");
  EXPECT_EQ(high[0]->event["proc_name"], "MANIPULATED [process record deleted]");
  int manipulated = 0;
  for (auto& rec : r.records)
    if (rec["proc_name"] == "MANIPULATED [process record deleted]") {
      ++manipulated;
      EXPECT_TRUE(rec["proc_id"].is_null());
      EXPECT_EQ(rec["live_proc_id"], 9);
      EXPECT_EQ(rec["first_isodate"], rec["live_isodate"]);
      EXPECT_EQ(rec["isodate"], rec["live_isodate"]);
    }
  EXPECT_EQ(manipulated, 2);
  // Process 1 has no live row: still listed although... a NULL ZHASPROCESS must not hide it.
  EXPECT_TRUE(find_record(r.records, "Maps/com.apple.Maps"));
  // Manipulated rows only have live_usage timeline rows.
  for (auto& t : r.result.timeline)
    if (t.description.rfind("MANIPULATED", 0) == 0) {
      EXPECT_EQ(t.event, "live_usage");
    }
  EXPECT_TRUE(r.alerts(Level::Low).empty());
}

TEST(Datausage, NullLiveProcessDoesNotHideOrphanProcesses) {
  Scratch d;
  std::string sql = std::string(kSchema) +
                    "INSERT INTO ZPROCESS VALUES (1, 1, 1, 588812000.0, 588812000.0, 'com.apple.Maps', 'Maps/com.apple.Maps');"
                    "INSERT INTO ZLIVEUSAGE VALUES (1, 1, 1, 0, 0, 0, NULL, NULL, 588813000.0, 0.0, 0.0, 7.0, 8.0);";
  auto r = run_backup(d, sql, false);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_TRUE(find_record(r.records, "Maps/com.apple.Maps"));
  auto high = r.alerts(Level::High);
  ASSERT_EQ(high.size(), 1u);
  EXPECT_EQ(high[0]->message, "Found manipulated process entry None. Entry on 2019-08-29 23:10:00.000000");
}

TEST(Datausage, OldSchemaWithoutWifiColumns) {
  Scratch d;
  std::string sql =
      "CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, ZFIRSTTIMESTAMP TIMESTAMP, ZTIMESTAMP TIMESTAMP,"
      " ZBUNDLENAME VARCHAR, ZPROCNAME VARCHAR);"
      "CREATE TABLE ZLIVEUSAGE (Z_PK INTEGER PRIMARY KEY, ZHASPROCESS INTEGER, ZTIMESTAMP TIMESTAMP,"
      " ZWWANIN FLOAT, ZWWANOUT FLOAT);"
      "INSERT INTO ZPROCESS VALUES (1, 500000000.0, 500000100.0, NULL, 'evilproc');"
      "INSERT INTO ZLIVEUSAGE VALUES (1, 1, 500000050.0, 12.0, 13.0);";
  auto r = run_backup(d, sql);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_TRUE(r.records[0]["wifi_in"].is_null());
  EXPECT_TRUE(r.records[0]["wifi_out"].is_null());
  EXPECT_EQ(r.records[0]["wwan_in"], 12.0);
  EXPECT_EQ(r.records[0]["live_isodate"], "2016-11-05 00:54:10.000000");
  EXPECT_EQ(r.alerts(Level::Critical).size(), 1u);
  EXPECT_FALSE(r.result.partial());
}

TEST(Datausage, MissingTablesAreReportedUnreadable) {
  Scratch d;
  auto r = run_backup(d, "CREATE TABLE other (x INTEGER);");
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.partial());
  bool said = false;
  for (auto& dg : r.result.diagnostics)
    if (dg.unread && dg.message.find("ZPROCESS") != std::string::npos) said = true;
  EXPECT_TRUE(said);

  // ZPROCESS without ZLIVEUSAGE: processes are still listed, the run is partial.
  Scratch d2;
  auto r2 = run_backup(d2,
                       "CREATE TABLE ZPROCESS (Z_PK INTEGER PRIMARY KEY, ZFIRSTTIMESTAMP TIMESTAMP,"
                       " ZTIMESTAMP TIMESTAMP, ZBUNDLENAME VARCHAR, ZPROCNAME VARCHAR);"
                       "INSERT INTO ZPROCESS VALUES (1, 500000000.0, 500000100.0, NULL, 'evilproc');");
  ASSERT_EQ(r2.records.size(), 1u);
  EXPECT_TRUE(r2.records[0]["live_id"].is_null());
  EXPECT_TRUE(r2.result.partial());
  EXPECT_EQ(r2.alerts(Level::Critical).size(), 1u);
}

TEST(Datausage, DamagedDatabaseIsUnreadable) {
  Scratch d;
  BackupBuilder b(d / "backup");
  b.add_file("WirelessDomain", "Library/Databases/DataUsage.sqlite", std::string(8192, 'Z'));
  b.finish();
  std::string err;
  auto src = IosBackupSource::open(d / "backup", &err);
  ASSERT_TRUE(src) << err;
  auto r = run_module(*src, d);
  EXPECT_TRUE(r.records.empty());
  EXPECT_TRUE(r.result.partial());
}

TEST(Datausage, HugeProcessIdGapIsBounded) {
  Scratch d;
  std::string sql = std::string(kSchema) +
                    "INSERT INTO ZPROCESS VALUES (1, 1, 1, 588812000.0, 588812000.0, NULL, 'a');"
                    "INSERT INTO ZPROCESS VALUES (4611686018427387904, 1, 1, 588812100.0, 588812100.0, NULL, 'b');";
  auto r = run_backup(d, sql, false);
  // More alerts than the engine keeps in memory (result.alerts): counted over all of them.
  EXPECT_EQ(r.result.count(Level::Low), 10000u);
  EXPECT_EQ(r.result.alert_count(), 10000u);
  EXPECT_EQ(r.records.size(), 10002u);
}

TEST(Datausage, TriangulationBackupAgent) {
  Scratch d;
  std::string sql = std::string(kSchema) +
                    "INSERT INTO ZPROCESS VALUES (1, 1, 1, 680000000.0, 680000100.0, NULL, 'BackupAgent');"
                    "INSERT INTO ZPROCESS VALUES (2, 1, 1, 680000000.0, 680000100.0, NULL, 'BackupAgent2');"
                    "INSERT INTO ZPROCESS VALUES (3, 1, 1, 680000000.0, 680000100.0, NULL, 'MyBackupAgent');"
                    "INSERT INTO ZLIVEUSAGE VALUES (1, 1, 1, 0, 0, 0, 1, NULL, 680000050.0, 0.0, 0.0, 1.0, 1.0);"
                    "INSERT INTO ZLIVEUSAGE VALUES (2, 1, 1, 0, 0, 0, 1, NULL, 680000060.0, 0.0, 0.0, 2.0, 1.0);";
  auto r = run_backup(d, sql, false);
  auto crit = r.alerts(Level::Critical);
  ASSERT_EQ(crit.size(), 1u);
  EXPECT_EQ(crit[0]->message,
            "Operation Triangulation: BackupAgent process seen in DataUsage (first seen "
            "2022-07-20 08:53:20.000000, last seen 2022-07-20 08:55:00.000000)");
  EXPECT_FALSE(crit[0]->matched);
  EXPECT_TRUE(ios::is_triangulation_backup_agent("BackupAgent/com.apple.x"));
  EXPECT_FALSE(ios::is_triangulation_backup_agent("BackupAgent2"));
  EXPECT_FALSE(ios::is_triangulation_backup_agent("com.apple.BackupAgent"));
}

// A minimal filesystem-dump source (exact paths only), for the fs-only heuristic.
class DumpSource final : public IosSource {
 public:
  explicit DumpSource(fs::path root) : root_(std::move(root)) {}
  bool is_backup() const override { return false; }
  const fs::path& root() const override { return root_; }
  std::vector<IosFile> find(const ArtifactSpec& spec) override {
    std::vector<IosFile> out;
    for (auto& g : spec.fs_globs)
      if (fs::exists(root_ / g)) out.push_back({"", "", g, root_ / g, g});
    return out;
  }
  std::unique_ptr<SqliteDb> open_sqlite(const IosFile& f, SqliteError* err) override {
    return SqliteDb::open(f.disk_path, err);
  }
  std::optional<std::string> read(const IosFile& f, std::string* err, std::uint64_t max) override {
    return read_file(f.disk_path, max, err);
  }

 private:
  fs::path root_;
};

TEST(Datausage, FsDumpProcessWithoutBinary) {
  Scratch d;
  fs::path root = d / "dump";
  make_sqlite(root / "private/var/wireless/Library/Databases/DataUsage.sqlite",
              std::string(kSchema) +
                  "INSERT INTO ZPROCESS VALUES (1, 1, 1, 588812000.0, 588812000.0, NULL, 'ghostd');"
                  "INSERT INTO ZPROCESS VALUES (2, 1, 1, 588812000.0, 588812000.0, NULL, 'realdaemon');"
                  "INSERT INTO ZPROCESS VALUES (3, 1, 1, 588812000.0, 588812000.0, 'com.apple.x', 'x/com.apple.x');"
                  "INSERT INTO ZLIVEUSAGE VALUES (1, 1, 1, 0, 0, 0, 1, NULL, 588812050.0, 0.0, 0.0, 1.0, 1.0);");
  write_file(root / "usr/libexec/realdaemon", "binary");
  DumpSource src(root);
  auto r = run_module(src, d, false);
  auto med = r.alerts(Level::Medium);
  ASSERT_EQ(med.size(), 1u);
  EXPECT_EQ(med[0]->message, "Could not find the binary associated with the process with name ghostd");
  EXPECT_EQ(med[0]->event_time, "2019-08-29 22:54:10.000000");
  // --fast skips the file inventory.
  Scratch d2;
  auto r2 = run_module(src, d2, false, true);
  EXPECT_TRUE(r2.alerts(Level::Medium).empty());
}

TEST(Datausage, CorpusMatchesMvt) {
  BRIDLE_REQUIRE_SHARED(shared);
  auto backup = shared / "corpus/mvt/ios_backup";
  auto mvt = shared / "corpus/mvt-results/ios_check_backup";
  if (!fs::exists(backup / "Manifest.db")) GTEST_SKIP() << "corpus backup not found";
  std::string err;
  auto src = IosBackupSource::open(backup, &err);
  ASSERT_TRUE(src) << err;
  Scratch d;
  IndicatorSet set;
  ASSERT_TRUE(set.load_file(shared / "corpus/mvt-results/test.stix2"));
  ASSERT_TRUE(set.load_file(shared / "corpus/mvt-results/demo.stix2"));
  IndicatorIndex index(set);
  auto mods = ModuleRegistry::instance().create(kIosBackup);
  ASSERT_TRUE(select_modules(mods, {"Datausage"}, &err));
  ScanOptions opts;
  opts.output_dir = d / "out";
  std::filesystem::create_directories(*opts.output_dir);
  auto res = Engine(&set, &index).run(std::move(mods), src.get(), nullptr, opts);
  EXPECT_EQ(Json::parse(slurp(d / "out" / "datausage.json")), Json::parse(slurp(mvt / "datausage.json")));
  EXPECT_EQ(Json::parse(slurp(d / "out" / "datausage_detected.json")),
            Json::parse(slurp(mvt / "datausage_detected.json")));
}

}  // namespace

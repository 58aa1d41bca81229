// The observation store, run against SQLite and (when BRIDLE_TEST_PG_URL is set, see
// scripts/with-postgres.sh) PostgreSQL: same tests, same expectations.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <set>
#include <tuple>

#include "core/util.hpp"
#include "engine/store/observation_keys.hpp"
#include "engine/store/store.hpp"
#include "engine/store/store_sink.hpp"
#include "indicators/indicators.hpp"
#include "support/support.hpp"

using namespace bridle;
using namespace bridle::store;
using bridle::test::Scratch;

namespace {

std::string bundle(const std::vector<std::pair<std::string, std::string>>& patterns) {
  Json b = {{"type", "bundle"}, {"id", "bundle--1"}, {"objects", Json::array()}};
  b["objects"].push_back({{"type", "malware"}, {"id", "malware--1"}, {"name", "TestSpy"}});
  int n = 0;
  for (auto& [type, value] : patterns) {
    std::string id = "indicator--" + std::to_string(++n);
    std::string v = value;
    b["objects"].push_back({{"type", "indicator"}, {"id", id}, {"pattern", "[" + type + "='" + v + "']"},
                            {"pattern_type", "stix"}});
    b["objects"].push_back({{"type", "relationship"}, {"id", "relationship--" + std::to_string(n)},
                            {"source_ref", id}, {"target_ref", "malware--1"}, {"relationship_type", "indicates"}});
  }
  return b.dump();
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      store_ = Store::open((dir_.path() / "store.sqlite").string());
      return;
    }
    const char* url = std::getenv("BRIDLE_TEST_PG_URL");
    if (!url || !*url)
      GTEST_SKIP() << "skipped: BRIDLE_TEST_PG_URL is not set (scripts/with-postgres.sh starts a private PostgreSQL)";
    // A private schema per test: tests never see each other's rows.
    static std::atomic<int> n{0};
    std::string schema = "bridle_t" + std::to_string(getpid()) + "_" + std::to_string(n++);
    {
      auto db = open_postgres(url);
      db->exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
    }
    std::string u = url;
    u += (u.find('?') == std::string::npos ? "?" : "&");
    u += "options=-csearch_path%3D" + schema;
    store_ = Store::open(u);
  }

  // Records an acquisition whose observations are `obs` (module "sms").
  std::int64_t add(const std::string& device, const std::vector<Observation>& obs, const std::string& sha = "") {
    StoreSink sink({{"sms", {"SMS", Level::Critical}}});
    sink.observe("sms", "1", obs, "2024-01-02 03:04:05.000000");
    sink.observe("sms", "2", obs, "2024-01-01 00:00:00.000000");
    AcquisitionInfo a;
    a.kind = "ios_backup";
    a.device = device;
    a.input_sha256 = sha.empty() ? sha256_hex(device) : sha;
    a.tool_version = "0.1.0";
    a.indicator_digest = "d";
    a.verdict = "clean";
    return store_->record(a, sink.rows());
  }

  IndicatorSet load(const std::vector<std::pair<std::string, std::string>>& patterns, const std::string& name) {
    IndicatorSet set;
    EXPECT_TRUE(set.load_bundle(bundle(patterns), name));
    return set;
  }

  Scratch dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace

TEST_P(StoreTest, RecordsListsShowsAndForgets) {
  auto id = add("phone-a", {{ObsKind::Url, "https://a.example.com/x"}, {ObsKind::Process, "/usr/bin/bh"}});
  auto all = store_->list();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, id);
  EXPECT_EQ(all[0].device, "phone-a");
  // url + its host + process, each seen twice (count 2) with first/last times.
  auto obs = store_->observations(id);
  ASSERT_EQ(obs.size(), 3u);
  for (auto& o : obs) {
    EXPECT_EQ(o.count, 2) << o.value;
    EXPECT_EQ(o.first_seen, "2024-01-01 00:00:00.000000");
    EXPECT_EQ(o.last_seen, "2024-01-02 03:04:05.000000");
    EXPECT_EQ(o.artifact, "SMS");
  }
  // The same input checked again replaces the earlier record.
  auto id2 = add("phone-a", {{ObsKind::Domain, "b.example.com"}, {ObsKind::FilePath, "/var/mobile/x.db"}});
  auto keep = add("phone-b", {{ObsKind::FilePath, "/var/mobile/shared.db"}});
  EXPECT_EQ(store_->db().query("SELECT COUNT(*) FROM path_suffixes").at(0).at(0), "2");
  EXPECT_TRUE(store_->forget(keep));
  EXPECT_NE(id2, id);
  EXPECT_EQ(store_->list().size(), 1u);
  EXPECT_TRUE(store_->find_done(sha256_hex("phone-a"), "0.1.0", "d"));
  EXPECT_FALSE(store_->find_done(sha256_hex("phone-a"), "0.1.0", "other"));
  EXPECT_TRUE(store_->forget(id2));
  EXPECT_FALSE(store_->forget(id2));
  EXPECT_TRUE(store_->list().empty());
  EXPECT_TRUE(store_->observations(id2).empty());
  EXPECT_EQ(store_->db().query("SELECT COUNT(*) FROM sightings").at(0).at(0), "0");
  // Forget means forget: no observable only that acquisition had remains in the store, nor
  // the reversed key of a path.
  EXPECT_EQ(store_->db().query("SELECT COUNT(*) FROM observables").at(0).at(0), "0");
  EXPECT_EQ(store_->db().query("SELECT COUNT(*) FROM path_suffixes").at(0).at(0), "0");
}

TEST_P(StoreTest, HuntReportsNewHitsOnceOnTheRightAcquisition) {
  auto clean = add("clean-phone", {{ObsKind::Domain, "www.apple.com"}, {ObsKind::Url, "https://good.example.org/"}});
  auto bad = add("bad-phone", {{ObsKind::Url, "https://cdn.evil-c2.example.com/p?q=1"}, {ObsKind::Domain, "apple.com"}});
  (void)clean;
  auto set = load({{"domain-name:value", "evil-c2.example.com"}}, "hunt.stix2");
  auto r1 = store_->hunt(set);
  ASSERT_EQ(r1.hits.size(), 1u);
  EXPECT_EQ(r1.hits[0].acq_id, bad);
  EXPECT_TRUE(r1.hits[0].is_new);
  EXPECT_EQ(r1.hits[0].device, "bad-phone");
  EXPECT_EQ(r1.hits[0].module, "sms");
  EXPECT_EQ(r1.hits[0].ioc_value, "evil-c2.example.com");
  EXPECT_EQ(r1.hits[0].collection, "TestSpy");
  EXPECT_EQ(r1.hits[0].first_seen, "2024-01-01 00:00:00.000000");
  EXPECT_EQ(r1.acquisitions, 2u);
  EXPECT_FALSE(r1.digest_seen_before);
  auto r2 = store_->hunt(set);
  ASSERT_EQ(r2.hits.size(), 1u);
  EXPECT_FALSE(r2.hits[0].is_new);
  EXPECT_TRUE(r2.digest_seen_before);
  // A new acquisition with the same domain is new on the next hunt; the old one is not.
  auto bad2 = add("bad-phone-2", {{ObsKind::Domain, "evil-c2.example.com."}});
  auto r3 = store_->hunt(set);
  ASSERT_EQ(r3.hits.size(), 2u);
  for (auto& h : r3.hits) EXPECT_EQ(h.is_new, h.acq_id == bad2) << h.device;
}

// The SQL hunt gives exactly the in-memory IndicatorIndex's answers on the same observations.
TEST_P(StoreTest, HuntMatchesTheIndicatorIndex) {
  auto set = load({{"domain-name:value", "evil.com"},
                   {"domain-name:value", "www.spy.net"},
                   {"domain-name:value", "10.1.2.3"},
                   {"ipv4-addr:value", "192.0.2.7"},
                   {"ipv6-addr:value", "2001:db8::1"},
                   {"url:value", "https://tracker.example.org/a/b"},
                   {"url:value", "bare.example.org/x"},
                   {"process:name", "bh"},
                   {"process:name", "com.apple.averylongprocessname"},
                   {"file:name", "implant.plist"},
                   {"file:path", "/private/var/db/evil"},
                   {"file:path", "Library/Caches/spy.db"},
                   {"email-addr:value", "bad@evil.com"},
                   {"app:id", "com.spy.app"},
                   {"file:hashes.sha256", std::string(64, 'a')},
                   {"file:hashes.md5", std::string(32, 'b')},
                   {"app:cert", std::string(40, 'c')},
                   {"configuration-profile:id", "ABCDEF01-0000-0000-0000-000000000000"},
                   {"android-property:name", "persist.spy.flag"},
                   {"file:name", "na\xc3\xafve.db"},
                   {"file:path", "/data/local/tmp/\xc3\xa9t\xc3\xa9"}},
                  "many.stix2");
  IndicatorIndex index(set);
  std::vector<Observation> obs = {
      {ObsKind::Domain, "evil.com"}, {ObsKind::Domain, "A.B.Evil.COM"}, {ObsKind::Domain, "notevil.com"},
      {ObsKind::Domain, "evil.com.au"}, {ObsKind::Domain, "www.spy.net"}, {ObsKind::Domain, "spy.net"},
      {ObsKind::Domain, "x.www.spy.net"}, {ObsKind::Domain, "10.1.2.3"}, {ObsKind::Domain, "evil.com:443"},
      {ObsKind::Url, "https://x.evil.com/path"}, {ObsKind::Url, "https://tracker.example.org/a/b"},
      {ObsKind::Url, "HTTPS://Tracker.Example.org:443/a/b"}, {ObsKind::Url, "https://tracker.example.org/a/b/c"},
      {ObsKind::Url, "http://bare.example.org/x"}, {ObsKind::Url, "https://bare.example.org/x"},
      {ObsKind::Url, "http://192.0.2.7/x"}, {ObsKind::Ip, "192.0.2.7"}, {ObsKind::Ip, "192.0.2.7:443"},
      {ObsKind::Ip, "2001:DB8:0::1"}, {ObsKind::Ip, "192.0.2.8"}, {ObsKind::Process, "bh"},
      {ObsKind::Process, "/usr/libexec/bh"}, {ObsKind::Process, "bhx"}, {ObsKind::Process, "com.apple.avery"},
      {ObsKind::Process, "com.apple.averyl"}, {ObsKind::Process, "com.apple.aver"},
      {ObsKind::Process, "com.apple.averylongprocessname"}, {ObsKind::FileName, "implant.plist"},
      {ObsKind::FileName, "/x/y/implant.plist"}, {ObsKind::FilePath, "/var/mobile/implant.plist"},
      {ObsKind::FilePath, "/private/var/db/evil"}, {ObsKind::FilePath, "/var/db/evil/sub/file"},
      {ObsKind::FilePath, "/var/db/evilness"}, {ObsKind::FilePath, "/var/db"},
      {ObsKind::FilePath, "/var/mobile/Library/Caches/spy.db"}, {ObsKind::FilePath, "Library/Caches/spy.db"},
      {ObsKind::FilePath, "/x/MyLibrary/Caches/spy.db"}, {ObsKind::Email, "Bad@Evil.com"},
      {ObsKind::Email, "good@evil.com"}, {ObsKind::AppId, "COM.SPY.APP"}, {ObsKind::AppId, "com.spy.app2"},
      {ObsKind::FileHash, std::string(64, 'A')}, {ObsKind::FileHash, std::string(32, 'b')},
      {ObsKind::FileHash, std::string(40, 'a')}, {ObsKind::CertHash, std::string(40, 'C')},
      {ObsKind::ProfileId, "abcdef01-0000-0000-0000-000000000000"}, {ObsKind::Property, "persist.spy.flag"},
      {ObsKind::Property, "persist.spy"}, {ObsKind::Domain, "bad\xff.evil.com"},
      // Directories (no basename), relative paths, the root, non-ASCII and invalid UTF-8 bytes.
      {ObsKind::FilePath, "/var/mobile/implant.plist/"}, {ObsKind::FilePath, "/var/mobile/Library/Caches/spy.db/"},
      {ObsKind::FilePath, "implant.plist"}, {ObsKind::FilePath, "x/implant.plist"}, {ObsKind::FilePath, "/"},
      {ObsKind::FilePath, "/private/var/db/evil/"}, {ObsKind::FilePath, "/sdcard/na\xc3\xafve.db"},
      {ObsKind::FilePath, "/sdcard/na\xc3\xafve.db/"}, {ObsKind::FilePath, "/data/local/tmp/\xc3\xa9t\xc3\xa9/x"},
      {ObsKind::FilePath, "/x/\xff/implant.plist"}, {ObsKind::FilePath, "/x/implant.plist\xff"},
      {ObsKind::FilePath, "spy.db"}, {ObsKind::FilePath, "Caches/spy.db"}, {ObsKind::FileName, "spy.db"},
  };
  std::map<std::int64_t, std::size_t> which;
  for (std::size_t i = 0; i < obs.size(); ++i) which[add("obs" + std::to_string(i), {obs[i]})] = i;
  std::set<std::pair<std::size_t, std::string>> expected, got;
  for (std::size_t i = 0; i < obs.size(); ++i)
    for (auto& m : index.match(obs[i])) expected.insert({i, m.indicator->value});
  for (auto& h : store_->hunt(set).hits) got.insert({which.at(h.acq_id), h.ioc_value});
  EXPECT_GT(expected.size(), 25u);
  EXPECT_EQ(got, expected);
  for (auto& [i, v] : expected)
    if (!got.count({i, v})) ADD_FAILURE() << "missed: " << obs[i].value << " -> " << v;
  for (auto& [i, v] : got)
    if (!expected.count({i, v})) ADD_FAILURE() << "extra: " << obs[i].value << " -> " << v;
}

// A sink streaming to the store in chunks (here one observe() call per chunk, so every key is
// merged across chunks) records exactly what the in-memory sink records: counts summed,
// first/last times min/max (unknown times ignored), highest level, first record and value.
TEST_P(StoreTest, StreamedChunksRecordTheSameAsOneBatch) {
  std::map<std::string, StoreSink::ModuleMeta> meta = {{"sms", {"SMS", Level::Critical}}, {"safari", {"Safari", Level::High}}};
  auto feed = [](StoreSink& sink) {
    std::vector<Observation> a = {{ObsKind::Url, "https://x.example.com/1"}, {ObsKind::Process, "/usr/bin/p"}};
    std::vector<Observation> b = {{ObsKind::Domain, "X.example.com"}, {ObsKind::Process, "/usr/bin/p", Level::Low}};
    sink.observe("sms", "1", a, "");
    sink.observe("sms", "2", a, "2024-03-01 00:00:00.000000");
    sink.observe("safari", "1", b, "2024-05-01 00:00:00.000000");
    sink.observe("sms", "3", b, "2024-01-01 00:00:00.000000");
    sink.observe("safari", "2", a, "");
    sink.observe("sms", "4", a, "2024-09-09 00:00:00.000000");
  };
  AcquisitionInfo acq;
  acq.kind = "ios_backup";
  acq.tool_version = "0.1.0";
  acq.indicator_digest = "d";
  acq.verdict = "clean";
  StoreSink batch(meta);
  feed(batch);
  acq.device = "batch";
  acq.input_sha256 = sha256_hex("batch");
  auto id1 = store_->record(acq, batch.rows());
  StoreSink streamed(meta);
  streamed.stream_to(*store_, 1);
  feed(streamed);
  streamed.finish();
  EXPECT_EQ(streamed.size(), 0u);  // nothing left in memory
  acq.device = "streamed";
  acq.input_sha256 = sha256_hex("streamed");
  std::int64_t n = 0;
  auto id2 = store_->record_staged(acq, &n);
  // And straight from the merged runs (StoreSink::record: SQLite writes observables and
  // sightings with prepared statements, PostgreSQL stages them).
  StoreSink direct(meta);
  direct.stream_to(*store_, 1);
  feed(direct);
  acq.device = "direct";
  acq.input_sha256 = sha256_hex("direct");
  std::int64_t n3 = 0;
  auto id3 = direct.record(acq, &n3);
  EXPECT_EQ(direct.size(), 0u);
  auto by_key = [](const ObservationRow& x, const ObservationRow& y) {
    return std::tie(x.module, x.cat, x.key) < std::tie(y.module, y.cat, y.key);
  };
  auto o1 = store_->observations(id1);
  std::sort(o1.begin(), o1.end(), by_key);
  EXPECT_EQ(static_cast<std::size_t>(n), o1.size());
  EXPECT_EQ(static_cast<std::size_t>(n3), o1.size());
  ASSERT_FALSE(o1.empty());
  std::vector<ObservationRow> o2;
  for (auto other : {id2, id3}) {
    o2 = store_->observations(other);
    std::sort(o2.begin(), o2.end(), by_key);
    ASSERT_EQ(o1.size(), o2.size());
    for (std::size_t i = 0; i < o1.size(); ++i) {
      EXPECT_EQ(o1[i].cat, o2[i].cat);
      EXPECT_EQ(o1[i].key, o2[i].key);
      EXPECT_EQ(o1[i].kind, o2[i].kind);
      EXPECT_EQ(o1[i].value, o2[i].value);
      EXPECT_EQ(o1[i].module, o2[i].module);
      EXPECT_EQ(o1[i].artifact, o2[i].artifact);
      EXPECT_EQ(o1[i].record_ref, o2[i].record_ref) << o1[i].value;
      EXPECT_EQ(o1[i].first_seen, o2[i].first_seen) << o1[i].value;
      EXPECT_EQ(o1[i].last_seen, o2[i].last_seen) << o1[i].value;
      EXPECT_EQ(o1[i].count, o2[i].count) << o1[i].value;
      EXPECT_EQ(o1[i].level, o2[i].level) << o1[i].value;
    }
  }
  // The process in sms: seen in records 1, 2, 3 (Low), 4; first record kept, times without
  // the unknown one, the highest level.
  bool found = false;
  for (auto& o : o2)
    if (o.module == "sms" && o.kind == "process") {
      found = true;
      EXPECT_EQ(o.count, 4);
      EXPECT_EQ(o.record_ref, "1");
      EXPECT_EQ(o.first_seen, "2024-01-01 00:00:00.000000");
      EXPECT_EQ(o.last_seen, "2024-09-09 00:00:00.000000");
      EXPECT_EQ(o.level, Level::Critical);
    }
  EXPECT_TRUE(found);
  // Nothing staged is left for the next record.
  EXPECT_EQ(store_->db().query("SELECT COUNT(*) FROM bridle_stage").at(0).at(0), "0");
}

// Enough rows for the batched statements of the direct record (look-ups of 64 keys, inserts of
// 32 rows, the single-row remainder), with observables new, stored before, and both mixed in one
// batch: every path records what the staging table records.
TEST_P(StoreTest, ManyRowsRecordTheSameOnEveryPath) {
  std::map<std::string, StoreSink::ModuleMeta> meta = {{"sms", {"SMS", Level::Critical}}, {"files", {"Files", Level::High}}};
  auto feed = [](StoreSink& sink, int from, int to) {
    for (int i = from; i < to; ++i) {
      std::vector<Observation> o = {{ObsKind::Url, "https://h" + std::to_string(i % 97) + ".example.com/p/" + std::to_string(i)},
                                    {ObsKind::FilePath, "/private/var/f" + std::to_string(i)}};
      sink.observe(i % 3 ? "sms" : "files", std::to_string(i), o, "2024-01-01 00:00:" + std::to_string(10 + i % 50));
      if (i % 5 == 0) sink.observe("files", std::to_string(i), {{ObsKind::Domain, "H" + std::to_string(i % 97) + ".example.com"}}, "");
    }
  };
  AcquisitionInfo acq;
  acq.kind = "ios_backup";
  acq.tool_version = "0.1.0";
  acq.indicator_digest = "d";
  acq.verdict = "clean";
  auto record = [&](const std::string& name, int from, int to, bool direct, std::size_t chunk = 37) {
    StoreSink sink(meta);
    sink.stream_to(*store_, chunk);
    feed(sink, from, to);
    acq.device = name;
    acq.input_sha256 = sha256_hex(name);
    std::int64_t n = 0;
    if (direct) return std::make_pair(sink.record(acq, &n), n);
    sink.finish();
    return std::make_pair(store_->record_staged(acq, &n), n);
  };
  auto sorted = [&](std::int64_t id) {
    auto o = store_->observations(id);
    std::sort(o.begin(), o.end(), [](const ObservationRow& x, const ObservationRow& y) {
      return std::tie(x.module, x.cat, x.key) < std::tie(y.module, y.cat, y.key);
    });
    return o;
  };
  auto same = [](const std::vector<ObservationRow>& a, const std::vector<ObservationRow>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(std::tie(a[i].cat, a[i].key, a[i].rkey, a[i].kind, a[i].value, a[i].module, a[i].artifact,
                         a[i].record_ref),
                std::tie(b[i].cat, b[i].key, b[i].rkey, b[i].kind, b[i].value, b[i].module, b[i].artifact,
                         b[i].record_ref));
      EXPECT_EQ(std::tie(a[i].first_seen, a[i].last_seen, a[i].count, a[i].level),
                std::tie(b[i].first_seen, b[i].last_seen, b[i].count, b[i].level))
          << a[i].key;
    }
  };
  auto fresh = record("direct-new", 0, 700, true);         // every observable new
  auto staged = record("staged", 0, 700, false);           // the SQL merge of the staging table
  auto again = record("direct-known", 0, 700, true);       // every observable stored before
  auto mixed_d = record("direct-mixed", 350, 1100, true);  // half known, half new
  auto mixed_s = record("staged-mixed", 350, 1100, false);
  auto mixed_m = record("direct-mixed-in-memory", 350, 1100, true, 1u << 20);  // one chunk: no run file
  EXPECT_GT(fresh.second, 1500);
  EXPECT_EQ(fresh.second, staged.second);
  EXPECT_EQ(fresh.second, again.second);
  EXPECT_EQ(mixed_d.second, mixed_s.second);
  auto s0 = sorted(staged.first);
  same(sorted(fresh.first), s0);
  same(sorted(again.first), s0);
  same(sorted(mixed_d.first), sorted(mixed_s.first));
  same(sorted(mixed_m.first), sorted(mixed_s.first));
  // Each observable once; every sighting references the observable of its own key.
  EXPECT_EQ(store_->db().query("SELECT COUNT(*) FROM (SELECT cat, key FROM observables GROUP BY cat, key HAVING COUNT(*) > 1) x").at(0).at(0), "0");
  // One observable per path, with its forward and reversed keys: "/private/var/f12" is stored
  // as "/var/f12/" (firmlink) and "21f/rav/".
  std::size_t paths = 0;
  for (auto& o : s0) {
    if (o.cat != "path") {
      EXPECT_EQ(o.rkey, "") << o.cat << " " << o.key;
      continue;
    }
    ++paths;
    std::string n = o.value.substr(std::string("/private/var/f").size());
    EXPECT_EQ(store_->db().query("SELECT COUNT(*) FROM path_suffixes p JOIN observables k ON k.id = p.obs_id"
                                 " WHERE k.cat = 'path' AND k.key = ? AND p.rkey = ?",
                                 {o.key, std::string(n.rbegin(), n.rend()) + "f/rav/"}).at(0).at(0), "1");
    EXPECT_EQ(o.key, "/var/f" + n + "/");
    EXPECT_EQ(o.rkey, std::string(n.rbegin(), n.rend()) + "f/rav/");
  }
  EXPECT_EQ(paths, 700u);
  EXPECT_EQ(store_->db().query("SELECT COUNT(*) FROM sightings s JOIN observables o ON o.id = s.obs_id WHERE o.cat = 'path'").at(0).at(0),
            "4350");  // one per path per acquisition: 3 x 700 + 3 x 750
  EXPECT_EQ(store_->db().query("SELECT COUNT(*) FROM observables WHERE cat IN ('fname', 'rpath', 'apath')").at(0).at(0),
            "0");
}

TEST_P(StoreTest, ClaimsAreExclusiveAndExpire) {
  EXPECT_TRUE(store_->claim("sha-x", "w1", 3600));
  EXPECT_FALSE(store_->claim("sha-x", "w2", 3600));
  EXPECT_TRUE(store_->claim("sha-x", "w2", -1));  // expired: taken over
  store_->release("sha-x", "w2");
  EXPECT_TRUE(store_->claim("sha-x", "w1", 3600));
}

TEST(ObservationKeys, ReversedLabels) {
  EXPECT_EQ(reverse_labels("a.evil.com"), "com.evil.a.");
  EXPECT_EQ(prefix_upper("com.evil."), "com.evil/");
  EXPECT_EQ(db_text("a\xff" "b"), "a\\xffb");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

// A store written by schema 1 (one row per acquisition and key) is migrated in place when it is
// opened: observables, provenance and the hits already reported survive.
// A SQLite store written by an older bridle (schema `version`; the tables that changed between
// schemas 1 and 2, and the rows, in `sql`), then opened, and so migrated, by Store.
std::unique_ptr<Store> open_old_store(const std::filesystem::path& path, int version, const std::string& sql) {
  {
    auto db = open_sqlite(path);
    db->exec(R"(
CREATE TABLE bridle_meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE acquisitions (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, device TEXT, identifiers TEXT,
  input_path TEXT, input_sha256 TEXT, acquired_at TEXT, scanned_at TEXT, tool_version TEXT, indicator_digest TEXT,
  verdict TEXT, summary TEXT);
CREATE TABLE hunts (id INTEGER PRIMARY KEY AUTOINCREMENT, indicator_digest TEXT NOT NULL, hunted_at TEXT NOT NULL,
  hits BIGINT, new_hits BIGINT);
CREATE TABLE claims (input_sha256 TEXT PRIMARY KEY, worker TEXT NOT NULL, claimed_at BIGINT NOT NULL);
)");
    db->exec("INSERT INTO bridle_meta VALUES ('schema_version', '" + std::to_string(version) + "');" + sql);
  }
  return Store::open(path.string());
}

TEST(StoreMigration, SchemaOneIsMigrated) {
  Scratch dir;
  auto st = open_old_store(dir.path() / "v1.sqlite", 1, R"(
CREATE TABLE observations (acq_id BIGINT NOT NULL REFERENCES acquisitions (id) ON DELETE CASCADE,
  cat TEXT COLLATE BINARY NOT NULL, key TEXT COLLATE BINARY NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
  module TEXT NOT NULL, artifact TEXT, record_ref TEXT, first_seen TEXT, last_seen TEXT, count BIGINT NOT NULL,
  level INTEGER NOT NULL, PRIMARY KEY (acq_id, cat, key, module));
CREATE INDEX observations_key ON observations (cat, key);
CREATE TABLE reported_hits (acq_id BIGINT NOT NULL REFERENCES acquisitions (id) ON DELETE CASCADE,
  cat TEXT COLLATE BINARY NOT NULL, key TEXT COLLATE BINARY NOT NULL, module TEXT NOT NULL, ioc_type TEXT NOT NULL,
  ioc_value TEXT COLLATE BINARY NOT NULL, hunt_id BIGINT, PRIMARY KEY (acq_id, cat, key, module, ioc_type, ioc_value));
INSERT INTO acquisitions (id, kind, device, input_sha256, verdict) VALUES (1, 'ios_backup', 'old-phone', 'aa', 'clean');
INSERT INTO acquisitions (id, kind, device, input_sha256, verdict) VALUES (2, 'ios_backup', 'other-phone', 'bb', 'clean');
INSERT INTO observations VALUES (1, 'host', 'com.evil.a.', 'url', 'https://a.evil.com/x', 'sms', 'SMS', '3',
  '2024-01-01 00:00:00.000000', '2024-01-02 00:00:00.000000', 2, 40);
INSERT INTO observations VALUES (2, 'host', 'com.evil.a.', 'domain', 'A.evil.com', 'safari_history', 'SafariHistory',
  '9', NULL, NULL, 1, 40);
INSERT INTO hunts VALUES (1, 'digest', '2024-01-03', 1, 1);
INSERT INTO reported_hits VALUES (1, 'host', 'com.evil.a.', 'sms', 'domains', 'evil.com', 1);
)");
  EXPECT_EQ(st->db().query("SELECT value FROM bridle_meta WHERE name = 'schema_version'").at(0).at(0), "3");
  auto obs = st->observations(1);
  ASSERT_EQ(obs.size(), 1u);
  EXPECT_EQ(obs[0].value, "https://a.evil.com/x");
  EXPECT_EQ(obs[0].kind, "url");
  EXPECT_EQ(obs[0].artifact, "SMS");
  EXPECT_EQ(obs[0].first_seen, "2024-01-01 00:00:00.000000");
  auto other = st->observations(2);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].value, "A.evil.com");  // the same key, its own value
  EXPECT_EQ(other[0].kind, "domain");
  EXPECT_EQ(st->db().query("SELECT COUNT(*) FROM observables").at(0).at(0), "1");
  IndicatorSet set;
  ASSERT_TRUE(set.load_bundle(bundle({{"domain-name:value", "evil.com"}}), "m.stix2"));
  auto r = st->hunt(set);
  ASSERT_EQ(r.hits.size(), 2u);
  for (auto& h : r.hits) EXPECT_EQ(h.is_new, h.acq_id == 2) << h.device;  // phone 1's hit was reported before
}

// A store written by schema 2 (each path under three keys: apath, rpath, fname) gains the rkey
// column when it is opened; its rows keep matching absolute, relative and file-name indicators,
// next to an acquisition recorded with schema 3's single path key.
TEST(StoreMigration, SchemaTwoRowsKeepMatching) {
  Scratch dir;
  auto st = open_old_store(dir.path() / "v2.sqlite", 2, R"(
CREATE INDEX acquisitions_input ON acquisitions (input_sha256);
CREATE TABLE observables (id INTEGER PRIMARY KEY AUTOINCREMENT, cat TEXT COLLATE BINARY NOT NULL,
  key TEXT COLLATE BINARY NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL, UNIQUE (cat, key));
CREATE TABLE modules (id INTEGER PRIMARY KEY AUTOINCREMENT, slug TEXT NOT NULL, artifact TEXT NOT NULL,
  UNIQUE (slug, artifact));
CREATE TABLE sightings (acq_id BIGINT NOT NULL REFERENCES acquisitions (id) ON DELETE CASCADE,
  obs_id BIGINT NOT NULL, module_id BIGINT NOT NULL, kind TEXT, value TEXT, record_ref TEXT, first_seen TEXT,
  last_seen TEXT, count BIGINT NOT NULL, level INTEGER NOT NULL, PRIMARY KEY (acq_id, obs_id, module_id)) WITHOUT ROWID;
CREATE INDEX sightings_obs ON sightings (obs_id);
CREATE TABLE reported_hits (acq_id BIGINT NOT NULL REFERENCES acquisitions (id) ON DELETE CASCADE,
  obs_id BIGINT NOT NULL, module_id BIGINT NOT NULL, ioc_type TEXT NOT NULL, ioc_value TEXT COLLATE BINARY NOT NULL,
  hunt_id BIGINT, PRIMARY KEY (acq_id, obs_id, module_id, ioc_type, ioc_value));
INSERT INTO acquisitions (id, kind, device, input_sha256, verdict) VALUES (1, 'ios_backup', 'old-phone', 'aa', 'clean');
INSERT INTO modules VALUES (1, 'manifest', 'Manifest');
INSERT INTO observables VALUES (1, 'fname', 'implant.plist', 'file_path', '/private/var/db/spy/implant.plist');
INSERT INTO observables VALUES (2, 'apath', '/var/db/spy/implant.plist/', 'file_path', '/private/var/db/spy/implant.plist');
INSERT INTO observables VALUES (3, 'rpath', 'tsilp.tnalpmi/yps/bd/rav/', 'file_path', '/private/var/db/spy/implant.plist');
INSERT INTO sightings VALUES (1, 1, 1, NULL, NULL, '4', NULL, NULL, 1, 40);
INSERT INTO sightings VALUES (1, 2, 1, NULL, NULL, '4', NULL, NULL, 1, 40);
INSERT INTO sightings VALUES (1, 3, 1, NULL, NULL, '4', NULL, NULL, 1, 40);
)");
  EXPECT_EQ(st->db().query("SELECT value FROM bridle_meta WHERE name = 'schema_version'").at(0).at(0), "3");
  AcquisitionInfo acq;
  acq.kind = "ios_backup";
  acq.device = "new-phone";
  acq.input_sha256 = "bb";
  acq.verdict = "clean";
  StoreSink sink({{"manifest", {"Manifest", Level::Critical}}});
  sink.observe("manifest", "7", {{ObsKind::FilePath, "/private/var/db/spy/implant.plist"}}, "");
  st->record(acq, sink.rows());
  // The new acquisition added one observable (and its reversed key), not three.
  EXPECT_EQ(st->db().query("SELECT COUNT(*) FROM observables").at(0).at(0), "4");
  EXPECT_EQ(st->db().query("SELECT rkey FROM path_suffixes WHERE obs_id = 4").at(0).at(0), "tsilp.tnalpmi/yps/bd/rav/");
  for (auto ioc : {std::make_pair("file:name", "implant.plist"), std::make_pair("file:path", "/var/db/spy"),
                   std::make_pair("file:path", "db/spy/implant.plist")}) {
    IndicatorSet set;
    ASSERT_TRUE(set.load_bundle(bundle({{ioc.first, ioc.second}}), "m.stix2"));
    auto r = st->hunt(set);
    std::set<std::string> devices;
    for (auto& h : r.hits) devices.insert(h.device);
    EXPECT_EQ(devices, (std::set<std::string>{"old-phone", "new-phone"})) << ioc.second;
    std::size_t old_hits = std::count_if(r.hits.begin(), r.hits.end(), [](auto& h) { return h.device == "old-phone"; });
    EXPECT_EQ(old_hits, 1u) << ioc.second;  // one of the three schema 2 keys matches each indicator
  }
}

// Observed values of any length are recorded and hunted (a tracking link in an SMS can be
// several KiB; PostgreSQL's B-tree refuses index entries over ~2.7 kB).
TEST_P(StoreTest, LongValuesAreRecordedAndHunted) {
  std::string tail;
  for (int i = 0; tail.size() < 12000; ++i) tail += sha256_hex(std::to_string(i));
  std::string url = "https://x.evil.com/" + tail;
  std::string path = "/var/mobile/" + tail.substr(0, 5000) + "/implant.plist";
  auto id = add("phone-long", {{ObsKind::Url, url}, {ObsKind::FilePath, path}, {ObsKind::Process, tail.substr(0, 4000)}});
  EXPECT_EQ(store_->observations(id).size(), 4u);  // url, its host, path, process
  auto set = load({{"domain-name:value", "evil.com"}, {"url:value", url}, {"file:name", "implant.plist"},
                   {"file:path", "/var/mobile/" + tail.substr(0, 5000)}, {"process:name", tail.substr(0, 4000)}},
                  "long.stix2");
  std::set<std::string> got;
  auto first = store_->hunt(set);
  for (auto& h : first.hits) {
    got.insert(h.ioc_value.substr(0, 40));
    EXPECT_TRUE(h.is_new);
  }
  EXPECT_EQ(got.size(), 5u);
  EXPECT_TRUE(std::find(got.begin(), got.end(), url.substr(0, 40)) != got.end());
  // The same hunt again: nothing new (the long indicator values were remembered).
  auto again = store_->hunt(set);
  EXPECT_EQ(again.hits.size(), first.hits.size());
  for (auto& h : again.hits) EXPECT_FALSE(h.is_new) << h.ioc_value.substr(0, 40);
}

TEST(ObservationKeys, LongKeysAreBoundedAtACharacterBoundary) {
  std::string a(kMaxKeyBytes - 1, 'a');
  a += "\xc3\xa9tail";  // a 2-byte character across the bound
  std::string b = a + "x";
  auto ba = bounded_key(a), bb = bounded_key(b);
  EXPECT_EQ(ba.substr(0, kMaxKeyBytes - 1), std::string(kMaxKeyBytes - 1, 'a'));
  EXPECT_EQ(ba.size(), kMaxKeyBytes - 1 + 1 + 32);  // the cut character is left out whole
  EXPECT_TRUE(is_valid_utf8(ba));
  EXPECT_NE(ba, bb);
  EXPECT_EQ(bounded_key("short"), "short");
  EXPECT_EQ(bounded_key(std::string(kMaxKeyBytes, 'z')), std::string(kMaxKeyBytes, 'z'));
}

// Event times come from the evidence: bytes that are not UTF-8 (or NUL) in them are recorded
// (escaped, like keys) instead of failing the whole record on PostgreSQL.
TEST_P(StoreTest, HostileEventTimesAreRecorded) {
  StoreSink sink({{"sms", {"SMS", Level::Critical}}});
  sink.observe("sms", "1", {{ObsKind::Domain, "a.example.com"}}, std::string("2024-01-01 \xff\xfe", 13));
  sink.observe("sms", "2", {{ObsKind::Domain, "b.example.com"}}, std::string("2024\0-01", 8));
  AcquisitionInfo a;
  a.kind = "ios_backup";
  a.device = "phone-times";
  a.input_sha256 = sha256_hex(a.device);
  a.verdict = "clean";
  auto id = store_->record(a, sink.rows());
  auto obs = store_->observations(id);
  ASSERT_EQ(obs.size(), 2u);
  std::set<std::string> times;
  for (auto& o : obs) times.insert(o.first_seen);
  EXPECT_EQ(times, (std::set<std::string>{"2024-01-01 \\xff\\xfe", "2024\\x00-01"}));
}
